package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"
)

// The extensions.code values of injected GraphQL errors, beside codeInternal.
const (
	codeAPIError           = "API_ERROR"
	codeServiceUnavailable = "SERVICE_UNAVAILABLE"
	codeTooManyRequests    = "TOO_MANY_REQUESTS"
)

// cutOffJSON is the body of a garbage fault that is not an HTML page: the
// start of an answer, cut off before any value.
const cutOffJSON = `{"data":{"secret_val`

// SetFaults puts a new fault plan in force for every request from now on,
// and restarts its random source. A plan with an unknown kind, a rate
// outside 0..1 or rates adding up to more than 1 is refused and changes
// nothing.
func (s *Server) SetFaults(f Faults) error {
	return s.faults.set(f)
}

// Faults returns the fault plan in force, with its defaults filled in and
// its seed, so that a run can be replayed.
func (s *Server) Faults() Faults {
	return s.faults.get()
}

// withFaults, when the plan or the request's [FaultHeader] says so, answers
// with a fault instead of calling next, or calls next late. It serves
// authenticated requests only: graphQLEndpoint calls it after the token
// check.
func (s *Server) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok, err := s.faults.pick(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest, err.Error(), false)
			return
		}
		if !ok {
			next.ServeHTTP(w, r)
			return
		}

		s.counters.fault(f.kind)
		if f.kind == FaultLatency {
			s.late(w, r, f.delay, next)
			return
		}
		serveFault(w, r, f)
	})
}

// late calls next after delay, unless the client goes away first, or the
// server stops: then it answers 503 at once, so that stopping does not wait
// for the delay. It reads the body before it waits: only then does the HTTP
// server watch the connection, and end the request's context when the
// client hangs up.
func (s *Server) late(w http.ResponseWriter, r *http.Request, delay time.Duration, next http.Handler) {
	body, err := readBody(w, r, s.maxBody)
	if err != nil {
		writeRequestError(w, err)
		return
	}

	r.Body = io.NopCloser(bytes.NewReader(body))
	running, _ := r.Context().Value(stoppingKey{}).(chan struct{})
	switch sleep(r.Context(), delay, s.closing, running) {
	case slept:
		next.ServeHTTP(w, r)
	case stopped:
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusServiceUnavailable, codeServiceUnavailable, "The server is shutting down", false)
	}
}

// stoppingKey is the context key under which [Server.Start] gives each
// request a channel that is closed when [Running.Close] begins.
type stoppingKey struct{}

// How a sleep ended.
const (
	slept   = iota // the whole time
	left           // the request's context ended
	stopped        // the server is stopping
)

// sleep waits for d, or less if ctx ends or a stop channel is closed first,
// and says which happened. A nil stop channel never closes.
func sleep(ctx context.Context, d time.Duration, stop1, stop2 <-chan struct{}) int {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return slept
	case <-ctx.Done():
		return left
	case <-stop1:
		return stopped
	case <-stop2:
		return stopped
	}
}

// serveFault answers with f in place of the GraphQL answer.
func serveFault(w http.ResponseWriter, r *http.Request, f fault) {
	if f.retryAfter >= 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
	}

	switch f.kind {
	case Fault500:
		writeError(w, http.StatusInternalServerError, codeInternal, "Internal Server Error", false)
	case Fault503:
		writeError(w, http.StatusServiceUnavailable, codeServiceUnavailable, "The service is unavailable; try again later", false)
	case Fault429:
		writeError(w, http.StatusTooManyRequests, codeTooManyRequests, "Too many requests; slow down", false)
	case Fault502:
		writePage(w, http.StatusBadGateway, "502 Bad Gateway")
	case Fault504:
		writePage(w, http.StatusGatewayTimeout, "504 Gateway Time-out")
	case FaultAPIError:
		writeError(w, http.StatusOK, codeAPIError, "The API could not complete the request; try again", true)
	case FaultInternalError:
		writeError(w, http.StatusOK, codeInternal, "Internal server error", true)
	case FaultGarbage:
		if f.html {
			writePage(w, http.StatusOK, "Down for maintenance")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(cutOffJSON))
	case FaultReset:
		resetConnection(w, r)
	}
}

// writePage answers with a small HTML page, as a proxy in front of the API
// would.
func writePage(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%s</title></head><body><h1>%s</h1><hr><p>proxy</p></body></html>\n", title, title)
}

// resetConnection drops the connection without any answer. On a TCP
// connection it sends a reset; the in-process transport fails the round
// trip instead; elsewhere (HTTP/2) it aborts the handler, which resets the
// stream.
func resetConnection(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if dropped, ok := r.Context().Value(dropKey{}).(*bool); ok {
			*dropped = true
			return
		}
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// dropKey is the context key under which the in-process transport asks to
// be told of a dropped connection.
type dropKey struct{}

// withDropFlag returns ctx with a flag that a reset fault sets.
func withDropFlag(ctx context.Context, dropped *bool) context.Context {
	return context.WithValue(ctx, dropKey{}, dropped)
}

// faultsWire is the JSON form of [Faults] on /_mock/faults.
type faultsWire struct {
	Rates      map[FaultKind]float64 `json:"rates"`
	Seed       uint64                `json:"seed"`
	Latency    string                `json:"latency,omitempty"`
	RetryAfter int                   `json:"retry_after"`
	Total      float64               `json:"total,omitempty"` // answered; ignored when posted
}

// MarshalJSON writes f as {"rates": {"503": 0.1}, "seed": 7, "latency":
// "250ms", "retry_after": 1, "total": 0.1}.
func (f Faults) MarshalJSON() ([]byte, error) {
	// Rounded, so that 0.3 spread over ten kinds reads back as 0.3.
	total := math.Round(f.Total()*1e12) / 1e12
	w := faultsWire{Rates: f.Rates, Seed: f.Seed, RetryAfter: f.RetryAfter, Total: total}
	if w.Rates == nil {
		w.Rates = map[FaultKind]float64{}
	}
	if f.Latency != 0 {
		w.Latency = f.Latency.String()
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the form MarshalJSON writes; latency is a Go duration
// such as "50ms". Unknown fields are an error, so a misspelt one is not
// silently ignored. It does not check the rates: [Server.SetFaults] does.
func (f *Faults) UnmarshalJSON(data []byte) error {
	var w faultsWire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("faults: %w", err)
	}

	var latency time.Duration
	if w.Latency != "" {
		d, err := time.ParseDuration(w.Latency)
		if err != nil {
			return fmt.Errorf("faults: latency must be a duration such as \"50ms\", not %q", w.Latency)
		}
		latency = d
	}
	*f = Faults{Rates: w.Rates, Seed: w.Seed, Latency: latency, RetryAfter: w.RetryAfter}
	return nil
}

// handleAdmin registers the endpoints tests use to steer and watch the mock:
// GET and POST /_mock/faults, GET /_mock/stats. With [Options.AdminToken]
// they take that token only; without it, the same tokens as the API (any
// tenant's), or none in open mode.
func (s *Server) handleAdmin(mux *http.ServeMux) {
	mux.HandleFunc("GET /_mock/faults", s.admin(s.getFaults))
	mux.HandleFunc("POST /_mock/faults", s.admin(s.postFaults))
	mux.Handle("/_mock/faults", methodNotAllowed("GET, HEAD, POST"))
	mux.HandleFunc("GET /_mock/stats", s.admin(s.getStats))
	mux.Handle("/_mock/stats", methodNotAllowed("GET, HEAD"))
}

// admin authenticates a request to an admin endpoint, and refuses with 415
// a body declared as anything but JSON (a form or text/plain is what a web
// page can post across sites).
func (s *Server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.authenticateAdmin(r); err != nil {
			writeError(w, http.StatusUnauthorized, codeUnauthenticated, err.Error(), false)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONContentType(ct) {
			writeError(w, http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "the body must be application/json", false)
			return
		}
		next(w, r)
	}
}

func (s *Server) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.Faults())
}

// postFaults replaces the fault plan with the one in the body, and answers
// the plan now in force.
func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, s.maxBody)
	if err != nil {
		writeRequestError(w, err)
		return
	}

	var f Faults
	if err := json.Unmarshal(body, &f); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error(), false)
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeError(w, http.StatusBadRequest, codeBadUserInput, err.Error(), false)
		return
	}
	writeJSON(w, s.Faults())
}

func (s *Server) getStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.Stats())
}

// writeRequestError answers a body that could not be read: 413 when it is
// too large, else 400.
func writeRequestError(w http.ResponseWriter, err error) {
	var reqErr *requestError
	if !errors.As(err, &reqErr) {
		reqErr = badRequest("could not read the request body")
	}
	writeError(w, reqErr.status, reqErr.code, reqErr.msg, false)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, codeInternal, "cannot encode the answer", false)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}
