package client_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/prefect-go/cloudsecrets/client"
)

const okAnswer = `{"data":{"secret_value":"v"}}`

// fastRetries retries n times with waits of a millisecond or two.
func fastRetries(n int) []client.Option {
	return []client.Option{client.WithRetries(n), client.WithRetryWait(time.Millisecond, 2*time.Millisecond)}
}

// answer returns a responder for one fixed answer.
func answer(status int, contentType, body string, header ...string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		resp.Header.Set("Content-Type", contentType)
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return resp, nil
	}
}

// failFirst answers the first n requests with fail, then okAnswer.
func failFirst(n int, fail httpmock.Responder) httpmock.Responder {
	var mu sync.Mutex
	calls := 0
	return func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		calls++
		first := calls <= n
		mu.Unlock()
		if first {
			return fail(r)
		}
		return httpmock.NewStringResponse(200, okAnswer), nil
	}
}

// cutOff answers 200 with a body that fails partway through.
func cutOff(*http.Request) (*http.Response, error) {
	resp := httpmock.NewStringResponse(200, "")
	resp.Header.Set("Content-Type", "application/json")
	resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"data":{"secret_va`), iotest.ErrReader(io.ErrUnexpectedEOF)))
	return resp, nil
}

// transientAnswers are the failures the client retries, with what the final
// error says once no retry is left.
var transientAnswers = []struct {
	name    string
	respond httpmock.Responder
	says    string
}{
	{"HTTP 500 with a GraphQL error", answer(500, "application/json",
		`{"errors":[{"message":"Internal Server Error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`), "HTTP 500 Internal Server Error"},
	{"HTTP 502 page", answer(502, "text/html", "<html>bad gateway</html>"), "HTTP 502 Bad Gateway"},
	{"HTTP 503", answer(503, "text/plain", "busy"), "HTTP 503 Service Unavailable: busy"},
	{"HTTP 504", answer(504, "text/plain", "gateway timeout"), "HTTP 504 Gateway Timeout"},
	{"HTTP 429 with Retry-After", answer(429, "application/json",
		`{"errors":[{"message":"Rate limit exceeded","extensions":{"code":"TOO_MANY_REQUESTS"}}]}`, "Retry-After", "1"),
		"HTTP 429 Too Many Requests (retry after 1s)"},
	{"API_ERROR on 200", answer(200, "application/json",
		`{"errors":[{"message":"An API error occurred","extensions":{"code":"API_ERROR"}}],"data":null}`), "code API_ERROR"},
	{"INTERNAL_SERVER_ERROR on 200", answer(200, "application/json",
		`{"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`), "code INTERNAL_SERVER_ERROR"},
	{"transient code with the not-found text", answer(200, "application/json",
		`{"errors":[{"message":"No value found for the requested key (backend down)","extensions":{"code":"API_ERROR"}}],"data":null}`), "code API_ERROR"},
	{"connection failure", httpmock.ConnectionFailure, "no answer"},
	{"HTML page on 200", answer(200, "text/html", "<html><body>Sign in to the proxy</body></html>"), "not a GraphQL response (HTTP 200, text/html"},
	{"truncated JSON on 200", answer(200, "application/json", `{"data":{"secret_val`), "not a JSON object"},
	{"body cut off while read", cutOff, "reading the answer: unexpected EOF"},
}

func TestTransientFailuresAreRetriedUntilSuccess(t *testing.T) {
	for _, tt := range transientAnswers {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := setup(t, fastRetries(3)...)
			mt.RegisterResponder("POST", endpoint, failFirst(2, tt.respond))

			got, err := c.SecretValue(context.Background(), "MY_KEY")
			if err != nil || string(got) != `"v"` {
				t.Fatalf("got %s, %v; want \"v\"", got, err)
			}
			if n := mt.GetTotalCallCount(); n != 3 {
				t.Errorf("%d requests, want 3 (two failures, then the answer)", n)
			}
		})
	}
}

func TestExhaustedRetriesEndTransient(t *testing.T) {
	for _, tt := range transientAnswers {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := setup(t, fastRetries(3)...)
			mt.RegisterResponder("POST", endpoint, tt.respond)

			_, err := c.SecretValue(context.Background(), "MY_KEY")
			if !errors.Is(err, client.ErrTransient) {
				t.Fatalf("err = %v; want it to match ErrTransient", err)
			}
			for _, not := range []error{client.ErrNotFound, client.ErrUnauthenticated} {
				if errors.Is(err, not) {
					t.Errorf("err = %v also matches %v", err, not)
				}
			}
			if n := mt.GetTotalCallCount(); n != 4 {
				t.Errorf("%d requests, want 4 (the first and 3 retries)", n)
			}
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Attempts != 4 {
				t.Errorf("err = %#v; want a *client.Error with Attempts 4", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `secret_value "MY_KEY" at `+endpoint+" (after 4 attempts)") || !strings.Contains(msg, tt.says) {
				t.Errorf("message %q should give the attempts and say %q", msg, tt.says)
			}
			if strings.Contains(msg, token) {
				t.Errorf("message %q holds the token", msg)
			}
		})
	}
}

func TestMalformedAnswerKeepsItsKindAfterRetries(t *testing.T) {
	c, mt := setup(t, fastRetries(2)...)
	mt.RegisterResponder("POST", endpoint, answer(200, "text/html", "<html>captive portal</html>"))

	_, err := c.SecretValue(context.Background(), "MY_KEY")
	var me *client.MalformedResponseError
	if !errors.Is(err, client.ErrMalformedResponse) || !errors.As(err, &me) || me.StatusCode != 200 {
		t.Fatalf("err = %v; want the malformed-response error", err)
	}
	if !strings.Contains(err.Error(), "check the API URL") {
		t.Errorf("message %q should point at the API URL", err)
	}
	if got := client.Kind(err); got != "malformed_response" {
		t.Errorf("Kind = %q, want malformed_response", got)
	}
}

func TestFinalAnswersAreNotRetried(t *testing.T) {
	tests := []struct {
		name    string
		respond httpmock.Responder
		is      error
	}{
		{"not found", recorded(t, 200, "not_found.json", "application/json"), client.ErrNotFound},
		{"unauthenticated code", recorded(t, 200, "unauthenticated.json", "application/json"), client.ErrUnauthenticated},
		{"malformed Authorization header", recorded(t, 200, "malformed_header.json", "application/json"), client.ErrUnauthenticated},
		{"HTTP 401", recorded(t, 401, "unauthorized.txt", "text/plain"), client.ErrUnauthenticated},
		{"validation error on 200", recorded(t, 200, "validation_failed.json", "application/json"), nil},
		{"validation error on 400", recorded(t, 400, "validation_failed.json", "application/json"), nil},
		{"HTTP 404 page", answer(404, "text/plain", "no such path"), nil},
		{"HTTP 501", answer(501, "text/plain", "not implemented"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := setup(t, fastRetries(5)...)
			mt.RegisterResponder("POST", endpoint, tt.respond)

			_, err := c.SecretValue(context.Background(), "MY_KEY")
			if err == nil {
				t.Fatal("no error")
			}
			if n := mt.GetTotalCallCount(); n != 1 {
				t.Errorf("%d requests, want exactly 1", n)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v; want it to match %v", err, tt.is)
			}
			if errors.Is(err, client.ErrTransient) {
				t.Errorf("err = %v matches ErrTransient", err)
			}
			if strings.Contains(err.Error(), "attempts") {
				t.Errorf("message %q talks of attempts after one request", err)
			}
		})
	}
}

// TestRetryAfterBeyondTheDeadline: a server asking for 30 s cannot hold a
// call whose context has 200 ms.
func TestRetryAfterBeyondTheDeadline(t *testing.T) {
	for _, opts := range map[string][]client.Option{
		"default wait cap": {client.WithRetries(5)},
		"cap above 30s":    {client.WithRetries(5), client.WithRetryWait(time.Millisecond, time.Minute)},
	} {
		c, mt := setup(t, opts...)
		mt.RegisterResponder("POST", endpoint, answer(429, "text/plain", "slow down", "Retry-After", "30"))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)

		start := time.Now()
		_, err := c.SecretValue(ctx, "MY_KEY")
		elapsed := time.Since(start)
		cancel()

		// Generous: about 250 ms is the promise, 30 s or 10 s the failure.
		if elapsed > time.Second {
			t.Errorf("returned after %v; want well under a second", elapsed)
		}
		if !errors.Is(err, client.ErrTransient) || !strings.Contains(err.Error(), "retry after 30s") {
			t.Errorf("err = %v; want a transient 429 that says it asked for 30s", err)
		}
		// It gives up at once rather than sleep into the deadline.
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v; want the 429 itself, not the deadline", err)
		}
		if n := mt.GetTotalCallCount(); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	}
}

func TestCancelDuringBackoffReturnsPromptly(t *testing.T) {
	c, mt := setup(t, client.WithRetries(5), client.WithRetryWait(time.Millisecond, time.Minute))
	mt.RegisterResponder("POST", endpoint, answer(503, "text/plain", "maintenance", "Retry-After", "30"))
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(100*time.Millisecond, cancel)
	defer timer.Stop()

	start := time.Now()
	_, err := c.SecretValue(ctx, "MY_KEY")
	elapsed := time.Since(start)

	if elapsed > 2*time.Second {
		t.Errorf("returned after %v; want promptly after the cancel at 100ms", elapsed)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, client.ErrTransient) {
		t.Fatalf("err = %v; want it to match context.Canceled and ErrTransient", err)
	}
	if !strings.Contains(err.Error(), "while retrying (last failure: HTTP 503 Service Unavailable (retry after 30s))") {
		t.Errorf("message %q should name the last failure", err)
	}
	if got := client.Kind(err); got != "transient" {
		t.Errorf("Kind = %q", got)
	}
}

func TestDeadlineDuringBackoffNamesTheLastFailure(t *testing.T) {
	c, mt := setup(t, client.WithRetries(50), client.WithRetryWait(20*time.Millisecond, 40*time.Millisecond))
	mt.RegisterResponder("POST", endpoint, answer(502, "text/plain", "bad gateway"))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()

	_, err := c.SecretValue(ctx, "MY_KEY")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, client.ErrTransient) {
		t.Fatalf("err = %v; want it to match DeadlineExceeded and ErrTransient", err)
	}
	if !strings.Contains(err.Error(), "last failure: HTTP 502 Bad Gateway") {
		t.Errorf("message %q should name the last failure", err)
	}
	if n := mt.GetTotalCallCount(); n < 2 || n > 10 {
		t.Errorf("%d requests in 150ms with 20-40ms waits", n)
	}
}

func TestBudgetEndsTheCall(t *testing.T) {
	c, mt := setup(t, client.WithRetries(1000), client.WithRetryWait(10*time.Millisecond, 20*time.Millisecond),
		client.WithTimeout(300*time.Millisecond))
	mt.RegisterResponder("POST", endpoint, answer(503, "text/plain", "busy"))

	start := time.Now()
	_, err := c.SecretValue(context.Background(), "MY_KEY")
	elapsed := time.Since(start)

	if elapsed > 5*time.Second {
		t.Errorf("returned after %v with a 300ms budget", elapsed)
	}
	if !errors.Is(err, client.ErrTransient) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want transient, and not the caller's deadline", err)
	}
	if !strings.Contains(err.Error(), "time budget ran out (300ms)") || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("message %q should name the budget and the last failure", err)
	}
}

func TestAttemptTimeoutRetriesAHungRequest(t *testing.T) {
	c, mt := setup(t, append(fastRetries(2), client.WithAttemptTimeout(100*time.Millisecond))...)
	hang := func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	mt.RegisterResponder("POST", endpoint, failFirst(1, hang))

	got, err := c.SecretValue(context.Background(), "MY_KEY")
	if err != nil || string(got) != `"v"` {
		t.Fatalf("got %s, %v", got, err)
	}
	if n := mt.GetTotalCallCount(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestNewRejectsBadRetrySettings(t *testing.T) {
	tests := []struct {
		name string
		opt  client.Option
		says string
	}{
		{"negative retries", client.WithRetries(-1), "WithRetries: -1 is negative"},
		{"min above max", client.WithRetryWait(time.Second, time.Millisecond), "WithRetryWait"},
		{"negative min", client.WithRetryWait(-time.Second, time.Second), "WithRetryWait"},
		{"negative attempt timeout", client.WithAttemptTimeout(-time.Second), "WithAttemptTimeout"},
		{"negative budget", client.WithTimeout(-time.Second), "WithTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.New(endpoint, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("err = %v; want it to say %q", err, tt.says)
			}
		})
	}
}

// wireLog records what a real loopback server received.
type wireLog struct {
	mu     sync.Mutex
	bodies []string
	length []int64
}

func (l *wireLog) add(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bodies = append(l.bodies, string(b))
	l.length = append(l.length, r.ContentLength)
}

// resetConn drops the connection of r without answering.
func resetConn(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// TestBodyResentIntactOverTheWire: after a reset and a 503 on a real
// loopback socket, the third attempt carries the same full body.
func TestBodyResentIntactOverTheWire(t *testing.T) {
	var log wireLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		log.mu.Lock()
		n := len(log.bodies)
		log.mu.Unlock()
		switch n {
		case 1:
			resetConn(t, w)
		case 2:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		default:
			_, _ = io.WriteString(w, okAnswer)
		}
	}))
	t.Cleanup(srv.Close)

	c, err := client.New(srv.URL+"/graphql", append(fastRetries(3), client.WithToken(token))...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.SecretValue(context.Background(), "MY_KEY")
	if err != nil || string(got) != `"v"` {
		t.Fatalf("got %s, %v", got, err)
	}

	if len(log.bodies) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(log.bodies))
	}
	for i, b := range log.bodies {
		if b == "" || b != log.bodies[0] || int64(len(b)) != log.length[i] || !strings.Contains(b, `"MY_KEY"`) {
			t.Errorf("attempt %d: %d bytes (Content-Length %d) %q; want the full body of attempt 1",
				i+1, len(b), log.length[i], b)
		}
	}
}

// TestRetriesOverHTTPS: the same policy on https, and a certificate that is
// not trusted is final after one attempt.
func TestRetriesOverHTTPS(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		if n < 3 {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"errors":[{"message":"try again","extensions":{"code":"API_ERROR"}}],"data":null}`)
			return
		}
		_, _ = io.WriteString(w, okAnswer)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusting client's handshake failure
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var certPEM bytes.Buffer
	_ = pem.Encode(&certPEM, &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	c, err := client.New(srv.URL+"/graphql", append(fastRetries(3), client.WithToken(token), client.WithRootCAs(certPEM.Bytes()))...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.SecretValue(context.Background(), "MY_KEY")
	if err != nil || string(got) != `"v"` || calls != 3 {
		t.Fatalf("got %s, %v after %d requests; want \"v\" after 3", got, err, calls)
	}

	untrusted, err := client.New(srv.URL+"/graphql", append(fastRetries(3), client.WithToken(token))...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = untrusted.SecretValue(context.Background(), "MY_KEY")
	if err == nil || errors.Is(err, client.ErrTransient) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: err = %v; want a permanent certificate error", err)
	}
	var ce *client.Error
	if errors.As(err, &ce) && ce.Attempts != 1 {
		t.Errorf("untrusted certificate: %d attempts, want 1", ce.Attempts)
	}
}
