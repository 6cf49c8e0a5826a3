package mockserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/jarcoal/httpmock"
)

// Transport returns an http.RoundTripper that serves every request with
// [Server.Handler] inside the process, with no socket, whatever the
// request's host. Put it in an http.Client under test. It is safe for
// concurrent use, and a request whose context ends gets the context's error.
func (s *Server) Transport() http.RoundTripper {
	return inProcess{handler: s.handler}
}

// Responder returns an httpmock.Responder that answers like [Server.Transport],
// for registering on an httpmock.MockTransport.
func (s *Server) Responder() httpmock.Responder {
	return inProcess{handler: s.handler}.RoundTrip
}

// inProcess is a RoundTripper that calls an http.Handler directly.
type inProcess struct {
	handler http.Handler
}

// RoundTrip serves req with the handler in a goroutine of its own, so that it
// can return as soon as req's context ends. As the RoundTripper contract
// asks, it closes req.Body and does not change req.
func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeBody(req)
		return nil, err
	}
	if req.URL == nil {
		closeBody(req)
		return nil, fmt.Errorf("mockserver: request has no URL")
	}

	done := make(chan *http.Response, 1)
	go func() {
		defer closeBody(req)
		done <- t.serve(req)
	}()

	select {
	case resp := <-done:
		if resp == nil {
			return nil, errors.New("mockserver: the server closed the connection without an answer")
		}
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// serve runs the handler on a server-side copy of req and builds the
// client-side response from what it wrote, or returns nil when the handler
// dropped the connection (a reset fault).
func (t inProcess) serve(req *http.Request) *http.Response {
	dropped := false
	in := req.Clone(withDropFlag(req.Context(), &dropped))
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	if in.Body == nil {
		in.Body = http.NoBody
	}

	w := &bufferedWriter{header: make(http.Header)}
	t.handler.ServeHTTP(w, in)
	if dropped {
		return nil
	}

	code := w.statusCode()
	body := w.body.Bytes()
	if req.Method == http.MethodHead {
		body = nil
	}

	header := w.sent
	if header == nil {
		header = w.header.Clone()
	}
	if header.Get("Content-Length") == "" && req.Method != http.MethodHead {
		header.Set("Content-Length", strconv.Itoa(len(body)))
	}

	return &http.Response{
		Status:        fmt.Sprintf("%d %s", code, http.StatusText(code)),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// bufferedWriter is an http.ResponseWriter that keeps the answer in memory.
// It snapshots the header at WriteHeader, as a real server does.
type bufferedWriter struct {
	header http.Header
	sent   http.Header
	code   int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	w.code = code
	w.sent = w.header.Clone()
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(b)
}

func (w *bufferedWriter) statusCode() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
