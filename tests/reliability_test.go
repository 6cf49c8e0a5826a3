package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/mockserver"
	"github.com/prefect-go/cloudsecrets/secrets"
)

const relToken = "rel-token-5120"

// relMock starts an in-process mock holding K = "v" on a loopback port and
// returns it, with its base URL.
func relMock(t *testing.T, faults mockserver.Faults) (*mockserver.Server, string) {
	t.Helper()

	srv, err := mockserver.New(mockserver.Options{
		Tokens: map[string]string{relToken: mockserver.DefaultTenant},
		Seed:   map[string]json.RawMessage{"K": json.RawMessage(`"v"`)},
		Faults: faults,
	})
	if err != nil {
		t.Fatal(err)
	}
	running, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = running.Close(ctx)
	})
	return srv, running.URL()
}

// faultFirst is a RoundTripper that asks the mock for one exact fault on the
// first n requests through it (X-Mock-Fault), and for none after.
type faultFirst struct {
	base http.RoundTripper
	spec string
	n    int64
	sent atomic.Int64
}

func (f *faultFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if f.sent.Add(1) <= f.n {
		req.Header.Set(mockserver.FaultHeader, f.spec)
	} else {
		req.Header.Set(mockserver.FaultHeader, "none")
	}
	return f.base.RoundTrip(req)
}

// relResolver returns a Cloud-mode Resolver for the mock at url, with token
// and the given client options.
func relResolver(t *testing.T, url, token string, opts ...client.Option) *secrets.Resolver {
	t.Helper()

	cfg := secrets.DefaultConfig()
	cfg.API, cfg.AuthToken, cfg.UseLocalSecrets = url, token, false
	r, err := secrets.NewResolver(cfg, secrets.WithClientOptions(opts...))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func quickRetries(n int) []client.Option {
	return []client.Option{client.WithRetries(n), client.WithRetryWait(time.Millisecond, 5*time.Millisecond)}
}

// TestOneRequestForAuthAndNotFound: failures that retrying cannot fix are
// final after exactly one request, even with retries on.
func TestOneRequestForAuthAndNotFound(t *testing.T) {
	srv, url := relMock(t, mockserver.Faults{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	bad := relResolver(t, url, "not-the-token", quickRetries(5)...)
	if _, err := bad.Get(ctx, "K"); !errors.Is(err, client.ErrUnauthenticated) || errors.Is(err, client.ErrTransient) {
		t.Fatalf("bad token: err = %v; want unauthenticated, not transient", err)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("bad token: %d requests, want 1", n)
	}

	good := relResolver(t, url, relToken, quickRetries(5)...)
	if _, err := good.Get(ctx, "NOPE"); !errors.Is(err, secrets.ErrNotFound) || errors.Is(err, client.ErrTransient) {
		t.Fatalf("missing secret: err = %v; want not found, not transient", err)
	}
	if n := srv.Stats().Requests; n != 2 {
		t.Errorf("missing secret: %d requests in all, want 2", n)
	}
}

// TestBodyResentIntact: after a 503 or a reset, the retry carries the whole
// request again; the mock answers an empty or cut body with a 400, which
// would end the call.
func TestBodyResentIntact(t *testing.T) {
	for _, spec := range []string{"503", "reset", "502", "garbage; body=json"} {
		t.Run(spec, func(t *testing.T) {
			srv, url := relMock(t, mockserver.Faults{})
			rt := &faultFirst{base: cleanhttp.DefaultPooledTransport(), spec: spec, n: 1}
			r := relResolver(t, url, relToken, append(quickRetries(3), client.WithTransport(rt))...)

			v, err := r.Get(t.Context(), "K")
			if err != nil || v != "v" {
				t.Fatalf("Get = %#v, %v; want \"v\"", v, err)
			}
			st := srv.Stats()
			if st.Requests != 2 || st.FaultsTotal != 1 {
				t.Errorf("stats = %+v; want 2 requests, 1 fault", st)
			}
		})
	}
}

// TestDeadlineBeatsRetryAfter: a Get with a 200 ms deadline returns by about
// then, though the server says Retry-After: 30.
func TestDeadlineBeatsRetryAfter(t *testing.T) {
	for name, opts := range map[string][]client.Option{
		"default retry settings":  nil,
		"waits of up to a minute": {client.WithRetryWait(time.Millisecond, time.Minute)},
	} {
		t.Run(name, func(t *testing.T) {
			srv, url := relMock(t, mockserver.Faults{})
			setFaults(t, url, `{"rates": {"429": 1}, "retry_after": 30}`)
			r := relResolver(t, url, relToken, opts...)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()

			start := time.Now()
			_, err := r.Get(ctx, "K")
			elapsed := time.Since(start)

			t.Logf("returned after %v: %v", elapsed, err)
			// About 250 ms is the promise; 1 s leaves room for a loaded machine
			// and still tells it from the 10 s or 30 s of a wait.
			if elapsed > time.Second {
				t.Errorf("returned after %v", elapsed)
			}
			if !errors.Is(err, client.ErrTransient) || errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("err = %v; want transient", err)
			}
			if !strings.Contains(err.Error(), "429") {
				t.Errorf("err = %v; want it to name the 429", err)
			}
			if n := srv.Stats().Requests; n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// setFaults posts a fault plan to the mock's admin endpoint.
func setFaults(t *testing.T, url, plan string) {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/_mock/faults", strings.NewReader(plan))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+relToken)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /_mock/faults: %d %s", resp.StatusCode, body)
	}
}

// TestHTMLPageIsMalformed: HTTP 200 with an HTML page, every time, ends in
// the malformed-response error once the retries are spent.
func TestHTMLPageIsMalformed(t *testing.T) {
	srv, url := relMock(t, mockserver.Faults{})
	rt := &faultFirst{base: cleanhttp.DefaultPooledTransport(), spec: "garbage; body=html", n: 1000}
	r := relResolver(t, url, relToken, append(quickRetries(2), client.WithTransport(rt))...)

	_, err := r.Get(t.Context(), "K")
	var me *client.MalformedResponseError
	if !errors.Is(err, client.ErrMalformedResponse) || !errors.As(err, &me) {
		t.Fatalf("err = %v; want the malformed-response error", err)
	}
	if me.StatusCode != 200 || !strings.HasPrefix(me.ContentType, "text/html") {
		t.Errorf("error = %+v; want HTTP 200 text/html", me)
	}
	if errors.Is(err, secrets.ErrNotFound) || !errors.Is(err, client.ErrTransient) {
		t.Errorf("err = %v; want transient after its retries, never not found", err)
	}
	if !strings.Contains(err.Error(), "(after 3 attempts)") || !strings.Contains(err.Error(), "check the API URL") {
		t.Errorf("message %q should give the attempts and the hint", err)
	}
	if n := srv.Stats().Requests; n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestAttemptTimeoutCutsASlowAnswer: a request that takes too long is given
// up and sent again.
func TestAttemptTimeoutCutsASlowAnswer(t *testing.T) {
	srv, url := relMock(t, mockserver.Faults{})
	rt := &faultFirst{base: cleanhttp.DefaultPooledTransport(), spec: "latency; delay=30s", n: 1}
	r := relResolver(t, url, relToken,
		append(quickRetries(2), client.WithTransport(rt), client.WithAttemptTimeout(200*time.Millisecond))...)

	start := time.Now()
	v, err := r.Get(t.Context(), "K")
	if err != nil || v != "v" {
		t.Fatalf("Get = %#v, %v", v, err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v with a 200ms attempt timeout", elapsed)
	}
	if st := srv.Stats(); st.Requests != 2 || st.Faults[mockserver.FaultLatency] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// TestCLIUnderFaults is the check: the mock binary with
// --fault-rate 0.3 --fault-seed 1 serves 100 consecutive `prefect-secrets
// get` calls in Cloud mode, each printing the right value.
func TestCLIUnderFaults(t *testing.T) {
	values := map[string]any{
		"REL_STR":  "plain value",
		"REL_JSON": `{"x": 1}`,
		"REL_OBJ":  map[string]any{"k": []any{1, 2}},
		"REL_NUM":  7,
	}
	printed := map[string]string{
		"REL_STR":  "plain value\n",
		"REL_JSON": `{"x":1}` + "\n",
		"REL_OBJ":  `{"k":[1,2]}` + "\n",
		"REL_NUM":  "7\n",
	}
	names := []string{"REL_STR", "REL_JSON", "REL_OBJ", "REL_NUM"}
	url := startMock(t, "--token", relToken, "--seed", writeSeed(t, values), "--fault-rate", "0.3", "--fault-seed", "1")
	// Eight retries: at a 30% fault rate a call then fails about once in
	// 50,000, whatever order the draws come in.
	env := append(cloudEnv(url, relToken), secrets.EnvMaxRetries+"=8")

	for i := range 100 {
		name := names[i%len(names)]
		r := cliWithin(t, time.Minute, env, "get", name)
		if r.code != 0 || r.stdout != printed[name] {
			t.Fatalf("call %d, get %s: exit %d, stdout %q, stderr %q; want %q", i+1, name, r.code, r.stdout, r.stderr, printed[name])
		}
	}

	st := mockStats(t, url)
	t.Logf("100 CLI gets: %d requests, %d faults %v", st.Requests, st.FaultsTotal, st.Faults)
	if st.FaultsTotal == 0 || st.Requests < 100 {
		t.Errorf("stats = %+v; want faults among at least 100 requests", st)
	}
}

// cliWithin is cli with a time limit, so that a call that hangs fails the
// test rather than stall it.
func cliWithin(t *testing.T, limit time.Duration, env []string, args ...string) result {
	t.Helper()
	return runCLI(t, limit, env, "", args...)
}

// mockStats reads GET /_mock/stats with relToken.
func mockStats(t *testing.T, url string) mockserver.Stats {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/_mock/stats", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+relToken)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st mockserver.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("GET /_mock/stats: %d, %v", resp.StatusCode, err)
	}
	return st
}

// heapInUse returns the heap in use after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestMockHoldsUpUnderLoad sends 10,000 requests at the mock, faults,
// oversized and non-JSON bodies among them, and checks that it answers each
// as it should and is left with no more goroutines or memory than before.
func TestMockHoldsUpUnderLoad(t *testing.T) {
	const (
		total   = 10000
		workers = 8
	)
	srv, url := relMock(t, mockserver.Faults{Rates: mockserver.EvenRates(0.2), Seed: 11, Latency: time.Millisecond})
	transport := cleanhttp.DefaultPooledTransport()
	c := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	query := `{"query": "query($name: String!) { secret_value(name: $name) }", "variables": {"name": "K"}}`
	oversized := `{"query": "` + strings.Repeat("x", 1<<20) + `"}`

	type outcome struct{ ok, faulted, tooLarge, notJSON, dropped int }
	send := func(i int) (outcome, error) {
		var o outcome
		body, spec := query, ""
		switch {
		case i%100 == 7:
			body, spec = oversized, "none"
		case i%10 == 3:
			body, spec = "this is not JSON", "none"
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/graphql", strings.NewReader(body))
		if err != nil {
			return o, err
		}
		req.Header.Set("Authorization", "Bearer "+relToken)
		req.Header.Set("Content-Type", "application/json")
		if spec != "" {
			req.Header.Set(mockserver.FaultHeader, spec)
		}

		resp, err := c.Do(req)
		if err != nil {
			if spec == "" {
				o.dropped++ // a reset fault
				return o, nil
			}
			return o, fmt.Errorf("request %d: %w", i, err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return o, fmt.Errorf("request %d: reading: %w", i, err)
		}

		var shaped struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		gqlShaped := json.Unmarshal(raw, &shaped) == nil && len(shaped.Errors) == 1
		switch {
		case body == oversized:
			if resp.StatusCode != 413 || !gqlShaped || shaped.Errors[0].Extensions["code"] != "PAYLOAD_TOO_LARGE" {
				return o, fmt.Errorf("oversized body: %d %.200s", resp.StatusCode, raw)
			}
			o.tooLarge++
		case spec == "none":
			if resp.StatusCode != 400 || !gqlShaped || shaped.Errors[0].Extensions["code"] != "BAD_REQUEST" {
				return o, fmt.Errorf("non-JSON body: %d %.200s", resp.StatusCode, raw)
			}
			o.notJSON++
		case resp.StatusCode == 200 && bytes.Equal(raw, []byte(`{"data":{"secret_value":"v"}}`)):
			o.ok++
		default:
			o.faulted++
		}
		return o, nil
	}

	run := func(from, to int) (outcome, error) {
		var mu sync.Mutex
		var sum outcome
		var firstErr error
		next := atomic.Int64{}
		next.Store(int64(from))
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= to {
						return
					}
					o, err := send(i)
					mu.Lock()
					sum.ok += o.ok
					sum.faulted += o.faulted
					sum.tooLarge += o.tooLarge
					sum.notJSON += o.notJSON
					sum.dropped += o.dropped
					if err != nil && firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return sum, firstErr
	}

	// Warm up: connections, caches, pools.
	if _, err := run(0, 500); err != nil {
		t.Fatal(err)
	}
	transport.CloseIdleConnections()
	goroutines := settleGoroutines(0, 2*time.Second)
	heap := heapInUse()

	start := time.Now()
	sum, err := run(0, total)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)

	transport.CloseIdleConnections()
	after := settleGoroutines(goroutines, 10*time.Second)
	heapAfter := heapInUse()
	st := srv.Stats()
	t.Logf("%d requests in %v: %+v; goroutines %d -> %d; heap in use %d KiB -> %d KiB; mock stats %+v",
		total, elapsed.Round(time.Millisecond), sum, goroutines, after, heap>>10, heapAfter>>10, st)

	if sum.ok+sum.faulted+sum.tooLarge+sum.notJSON+sum.dropped != total || sum.tooLarge != 100 || sum.notJSON != 1000 {
		t.Errorf("outcomes %+v do not add up to %d with 100 oversized and 1,000 non-JSON", sum, total)
	}
	if sum.ok < total/2 {
		t.Errorf("only %d right answers", sum.ok)
	}
	if st.OpenConnections != 0 {
		t.Errorf("the mock holds %d connections the client closed", st.OpenConnections)
	}
	if after > goroutines {
		t.Errorf("%d goroutines after 10,000 requests, %d before", after, goroutines)
	}
	// Generous: 10,000 requests that each left 1 KiB behind would be 10 MiB.
	if heapAfter > heap+8<<20 {
		t.Errorf("heap in use grew from %d KiB to %d KiB", heap>>10, heapAfter>>10)
	}
}

// TestCLIRetrySettingsFromEnv: the CLI takes its retries and timeouts from
// the PREFECT__CLOUD__ variables.
func TestCLIRetrySettingsFromEnv(t *testing.T) {
	seed := writeSeed(t, map[string]any{"K": "v"})
	tests := []struct {
		name     string
		mockArgs []string
		env      []string
		requests int64
		says     string
	}{
		{"no retries", []string{"--fault", "503=1"}, []string{secrets.EnvMaxRetries + "=0"}, 1, "HTTP 503"},
		{"two retries", []string{"--fault", "503=1"}, []string{secrets.EnvMaxRetries + "=2"}, 3, "(after 3 attempts)"},
		{"attempt timeout", []string{"--fault", "latency=1", "--fault-latency", "30s"},
			[]string{secrets.EnvMaxRetries + "=1", secrets.EnvAttemptTimeout + "=200ms"}, 2, "Client.Timeout exceeded"},
		{"request timeout", []string{"--fault", "latency=1", "--fault-latency", "30s"},
			[]string{secrets.EnvRequestTimeout + "=300ms"}, 1, "time budget ran out (300ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startMock(t, append([]string{"--token", relToken, "--seed", seed}, tt.mockArgs...)...)

			start := time.Now()
			r := cliWithin(t, time.Minute, append(cloudEnv(url, relToken), tt.env...), "get", "K")
			elapsed := time.Since(start)

			if r.code != 4 || r.stdout != "" || !strings.Contains(r.stderr, tt.says) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 4 and a message saying %q", r.code, r.stdout, r.stderr, tt.says)
			}
			if elapsed > 15*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if st := mockStats(t, url); st.Requests != tt.requests {
				t.Errorf("%d requests, want %d", st.Requests, tt.requests)
			}
		})
	}
}
