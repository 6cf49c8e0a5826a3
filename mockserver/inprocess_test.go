package mockserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// newInProcess returns a server and an http.Client that reaches it through
// Server.Transport.
func newInProcess(t *testing.T, opts mockserver.Options) (*mockserver.Server, *http.Client) {
	t.Helper()

	s, err := mockserver.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, &http.Client{Transport: s.Transport()}
}

func TestTransportAnswersLikeHandler(t *testing.T) {
	s, c := newInProcess(t, mockserver.Options{Tokens: map[string]string{"T": "alpha"}})
	s.SetSecret("alpha", "K", json.RawMessage(`{"x":1}`))
	_, ts := setup(t, mockserver.Options{Tokens: map[string]string{"T": "alpha"}})

	tests := []struct {
		name  string
		path  string
		token string
		body  string
		want  string
	}{
		{name: "read", path: "/graphql", token: "T", body: gqlBody(t, querySnake, map[string]any{"name": "K"}), want: `{"data":{"secret_value":{"x":1}}}`},
		{name: "missing token", path: "/graphql/alpha", body: gqlBody(t, queryNames, nil), want: `{"errors":[{"message":"Unauthenticated","extensions":{"code":"UNAUTHENTICATED"}}],"data":null}`},
		{name: "not JSON", path: "/", token: "T", body: "nope", want: `{"errors":[{"message":"request body is not valid JSON (at byte 2)","extensions":{"code":"BAD_REQUEST"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := postRaw(t, c, "http://prefect.invalid"+tt.path, tt.token, tt.body)
			if string(raw) != tt.want {
				t.Errorf("in-process body = %s\nwant %s", raw, tt.want)
			}

			// The same request over a socket answers with the same status.
			s2status, _ := postRaw(t, ts.Client(), ts.URL+tt.path, tt.token, tt.body)
			if status != s2status {
				t.Errorf("in-process status %d, over HTTP %d", status, s2status)
			}
		})
	}
}

func TestTransportResponseIsComplete(t *testing.T) {
	_, c := newInProcess(t, mockserver.Options{})

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://mock/graphql",
		strings.NewReader(gqlBody(t, queryNames, nil)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	const want = `{"data":{"secret_names":[]}}`
	if string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
	if resp.StatusCode != 200 || resp.Status != "200 OK" {
		t.Errorf("status = %d %q", resp.StatusCode, resp.Status)
	}
	if resp.ProtoMajor != 1 || resp.ProtoMinor != 1 {
		t.Errorf("proto = %d.%d", resp.ProtoMajor, resp.ProtoMinor)
	}
	if resp.Request != req {
		t.Error("Request is not the request sent")
	}
	if resp.ContentLength != int64(len(want)) || resp.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Errorf("ContentLength = %d, header %q", resp.ContentLength, resp.Header.Get("Content-Length"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestTransportReportsStatusAndHeaders(t *testing.T) {
	_, c := newInProcess(t, mockserver.Options{})

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://mock/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if resp.StatusCode != 405 || resp.Status != "405 Method Not Allowed" || resp.Header.Get("Allow") != "POST" {
		t.Errorf("got %q, Allow %q", resp.Status, resp.Header.Get("Allow"))
	}
}

func TestTransportHonoursContext(t *testing.T) {
	_, c := newInProcess(t, mockserver.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	body := &closeRecorder{Reader: strings.NewReader(gqlBody(t, queryNames, nil))}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://mock/graphql", body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Transport.RoundTrip(req)

	if resp != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, %v; want nil, context.Canceled", resp, err)
	}
	if !body.closed {
		t.Error("request body was not closed")
	}
}

func TestTransportReturnsWhenContextEndsMidRequest(t *testing.T) {
	_, c := newInProcess(t, mockserver.Options{})
	ctx, cancel := context.WithCancel(t.Context())

	// The body never ends, so the handler blocks reading it until the pipe
	// is closed below.
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://mock/graphql", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")

	done := make(chan error, 1)
	go func() {
		_, err := c.Transport.RoundTrip(req)
		done <- err
	}()
	// Write returns once the handler has read, so the request is under way.
	if _, err := pw.Write([]byte(`{"query": `)); err != nil {
		t.Fatal(err)
	}
	cancel()

	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestTransportIsSafeForConcurrentUse(t *testing.T) {
	s, c := newInProcess(t, mockserver.Options{})
	const n = 32

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			vars := map[string]any{"input": map[string]any{"name": fmt.Sprintf("K%02d", i), "value": i}}
			req, err := http.NewRequest(http.MethodPost, "http://mock/graphql", strings.NewReader(gqlBody(t, mutateSnake, vars)))
			if err != nil {
				errs <- err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if got := len(s.SecretNames(mockserver.DefaultTenant)); got != n {
		t.Errorf("%d secrets stored, want %d", got, n)
	}
	if v, _ := s.Secret(mockserver.DefaultTenant, "K17"); string(v) != "17" {
		t.Errorf("K17 = %s, want 17", v)
	}
}

func TestResponderWithHTTPMock(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{Tokens: map[string]string{"T": "alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecret("alpha", "MY_KEY", json.RawMessage(`"v"`))

	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, "https://api.prefect.test/graphql", s.Responder())
	c := &http.Client{Transport: mt}

	body := `{"query": "query($name: String!) {\n        secret_value(name: $name)\n}", "variables": "{\"name\": \"MY_KEY\"}"}`
	status, raw := postRaw(t, c, "https://api.prefect.test/graphql", "T", body)

	if status != 200 || string(raw) != `{"data":{"secret_value":"v"}}` {
		t.Errorf("got %d %s", status, raw)
	}
	status, raw = postRaw(t, c, "https://api.prefect.test/graphql", "wrong", body)
	if status != 200 || !strings.Contains(string(raw), `"UNAUTHENTICATED"`) {
		t.Errorf("wrong token: got %d %s", status, raw)
	}
	if n := mt.GetTotalCallCount(); n != 2 {
		t.Errorf("httpmock counted %d calls, want 2", n)
	}
}

// closeRecorder is a request body that notes whether it was closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (r *closeRecorder) Close() error {
	r.closed = true
	return nil
}
