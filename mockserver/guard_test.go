package mockserver_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// started starts s on a loopback port for one test.
func started(t *testing.T, s *mockserver.Server, addr string) *mockserver.Running {
	t.Helper()

	r, err := s.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// request sends one request with the given headers ("Host" sets the Host
// header) and returns the status and body.
func request(t *testing.T, c *http.Client, method, url string, header map[string]string, body string) (int, []byte) {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

func TestStartAnswersOnlyLoopbackHostHeaders(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := started(t, s, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(r.URL(), "http://"))

	tests := []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, 200},
		{"localhost:" + port, 200},
		{"localhost", 200},
		{"LocalHost.:" + port, 200},
		{"127.8.9.10", 200},
		{"[::1]:" + port, 200},
		{"evil.example", 403},
		{"evil.example:" + port, 403},
		{"127.0.0.1.evil.example", 403},
		{"localhost.evil.example:" + port, 403},
		{"10.0.0.1:" + port, 403},
		{"[::ffff:10.0.0.1]:" + port, 403},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			header := map[string]string{"Host": tt.host, "Content-Type": "application/json"}
			vars := map[string]any{"input": map[string]any{"name": "HOSTCHECK", "value": "x"}}
			status, raw := request(t, http.DefaultClient, http.MethodPost, r.URL()+"/graphql", header, gqlBody(t, mutateSnake, vars))
			if status != tt.want {
				t.Fatalf("status = %d, want %d: %s", status, tt.want, raw)
			}
			if tt.want == 403 {
				if !strings.Contains(string(raw), `"code":"FORBIDDEN"`) || !strings.Contains(string(raw), "loopback") {
					t.Errorf("answer = %s, want a FORBIDDEN error that says why", raw)
				}
				if status, _ := request(t, http.DefaultClient, http.MethodGet, r.URL()+"/_mock/stats", header, ""); status != 403 {
					t.Errorf("GET /_mock/stats: %d, want 403", status)
				}
			}
		})
	}
	if names := s.SecretNames(mockserver.DefaultTenant); len(names) != 1 {
		t.Errorf("secrets = %v; only the loopback hosts' writes should be stored, all under one name", names)
	}
}

// TestHandlerServesAnyHost: in-process use keeps working with test host
// names; only Start checks Host.
func TestHandlerServesAnyHost(t *testing.T) {
	_, ts := setup(t, mockserver.Options{})

	header := map[string]string{"Host": "api.prefect.test", "Content-Type": "application/json"}
	if status, raw := request(t, ts.Client(), http.MethodPost, ts.URL+"/graphql", header, gqlBody(t, queryNames, nil)); status != 200 {
		t.Errorf("status = %d: %s", status, raw)
	}
}

func TestForeignOriginIsRefused(t *testing.T) {
	tests := []struct {
		origin string
		want   int
	}{
		{"http://localhost:3000", 200},
		{"http://127.0.0.1:8080", 200},
		{"https://[::1]", 200},
		{"http://evil.example", 403},
		{"https://localhost.evil.example", 403},
		{"null", 403},
		{"file://", 403},
		{"not a url", 403},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			s, ts := setup(t, mockserver.Options{})
			header := map[string]string{"Origin": tt.origin, "Content-Type": "application/json"}

			vars := map[string]any{"input": map[string]any{"name": "K", "value": "x"}}
			status, raw := request(t, ts.Client(), http.MethodPost, ts.URL+"/graphql", header, gqlBody(t, mutateSnake, vars))
			if status != tt.want {
				t.Fatalf("GraphQL: status = %d, want %d: %s", status, tt.want, raw)
			}
			status, raw = request(t, ts.Client(), http.MethodPost, ts.URL+"/_mock/faults", header, `{"rates": {"503": 0.5}}`)
			if status != tt.want {
				t.Fatalf("POST /_mock/faults: status = %d, want %d: %s", status, tt.want, raw)
			}

			_, stored := s.Secret(mockserver.DefaultTenant, "K")
			changed := s.Faults().Total() != 0
			if tt.want == 403 && (stored || changed) {
				t.Errorf("a refused request changed the server: secret stored %v, faults set %v", stored, changed)
			}
			if tt.want == 403 && !strings.Contains(string(raw), `"code":"FORBIDDEN"`) {
				t.Errorf("answer = %s, want a FORBIDDEN error", raw)
			}
		})
	}
}

func TestAdminPostNeedsAJSONBody(t *testing.T) {
	s, ts := setup(t, mockserver.Options{})

	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
		status, raw := request(t, ts.Client(), http.MethodPost, ts.URL+"/_mock/faults", map[string]string{"Content-Type": ct}, `{"rates": {"503": 1}}`)
		if status != 415 || s.Faults().Total() != 0 {
			t.Errorf("%s: %d %s, faults %v; want 415 and no change", ct, status, raw, s.Faults().Rates)
		}
	}
	// Go's clients send no type unless told to, and that is taken.
	if status, raw := request(t, ts.Client(), http.MethodPost, ts.URL+"/_mock/faults", nil, `{"rates": {"503": 1}}`); status != 200 {
		t.Errorf("no Content-Type: %d %s, want 200", status, raw)
	}
}

// TestFaultsNeedAToken: neither the fault header nor the plan acts on a
// request without a valid token.
func TestFaultsNeedAToken(t *testing.T) {
	s, ts := faultSetup(t, mockserver.Faults{Rates: map[mockserver.FaultKind]float64{mockserver.Fault503: 1}})
	c := &http.Client{Timeout: 10 * time.Second}

	for _, spec := range []string{"", "503", "reset", "latency; delay=30s"} {
		for _, token := range []string{"", "wrong"} {
			header := map[string]string{"Content-Type": "application/json", mockserver.FaultHeader: spec}
			if token != "" {
				header["Authorization"] = "Bearer " + token
			}
			status, raw := request(t, c, http.MethodPost, ts.URL+"/graphql", header, gqlBody(t, querySnake, map[string]any{"name": "K"}))
			if status != 200 || !strings.Contains(string(raw), "UNAUTHENTICATED") {
				t.Errorf("fault %q, token %q: %d %s; want 200 UNAUTHENTICATED", spec, token, status, raw)
			}
		}
	}
	if st := s.Stats(); st.FaultsTotal != 0 {
		t.Errorf("%d faults served to requests without a valid token", st.FaultsTotal)
	}
}

func TestFaultLatencyIsCapped(t *testing.T) {
	s, ts := faultSetup(t, mockserver.Faults{})

	resp, raw, err := ask(t, ts.Client(), ts.URL, "latency; delay=31s")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || !strings.Contains(string(raw), "longer than the most allowed, 30s") {
		t.Errorf("delay=31s: %d %s; want 400 naming the cap", resp.StatusCode, raw)
	}

	for _, latency := range []time.Duration{mockserver.MaxFaultLatency + time.Nanosecond, time.Hour} {
		if err := s.SetFaults(mockserver.Faults{Latency: latency}); err == nil {
			t.Errorf("SetFaults took a latency of %v", latency)
		}
		if _, err := mockserver.New(mockserver.Options{Faults: mockserver.Faults{Latency: latency}}); err == nil {
			t.Errorf("New took a latency of %v", latency)
		}
	}
	if err := s.SetFaults(mockserver.Faults{Latency: mockserver.MaxFaultLatency}); err != nil {
		t.Errorf("SetFaults refused the cap itself: %v", err)
	}

	status, raw := admin(t, ts.Client(), "POST", ts.URL+"/_mock/faults", faultToken, `{"latency": "1h"}`)
	if status != 400 || !strings.Contains(string(raw), "longer than the most allowed") {
		t.Errorf("POST latency 1h: %d %s; want 400", status, raw)
	}
}

func TestAdminToken(t *testing.T) {
	tests := []struct {
		name   string
		tokens map[string]string
	}{
		{"with API tokens", map[string]string{"tok-api": mockserver.DefaultTenant}},
		{"open mode", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := setup(t, mockserver.Options{Tokens: tt.tokens, AdminToken: "tok-admin"})
			c := ts.Client()

			for _, token := range []string{"", "tok-api", "wrong"} {
				for _, path := range []string{"/_mock/faults", "/_mock/stats"} {
					if status, _ := admin(t, c, "GET", ts.URL+path, token, ""); status != 401 {
						t.Errorf("GET %s with token %q: %d, want 401", path, token, status)
					}
				}
				if status, _ := admin(t, c, "POST", ts.URL+"/_mock/faults", token, `{"rates": {"503": 1}}`); status != 401 || s.Faults().Total() != 0 {
					t.Errorf("POST /_mock/faults with token %q: %d, faults %v; want 401 and no change", token, status, s.Faults().Rates)
				}
			}
			if status, raw := admin(t, c, "POST", ts.URL+"/_mock/faults", "tok-admin", `{"rates": {"503": 0.5}}`); status != 200 || s.Faults().Total() != 0.5 {
				t.Errorf("POST with the admin token: %d %s", status, raw)
			}
			if status, _ := admin(t, c, "GET", ts.URL+"/_mock/stats", "tok-admin", ""); status != 200 {
				t.Errorf("GET /_mock/stats with the admin token: %d, want 200", status)
			}

			// The admin token does not open GraphQL when there are API tokens.
			_, a := post(t, c, ts.URL+"/graphql", "tok-admin", gqlBody(t, queryNames, nil))
			wantErr := tt.tokens != nil
			if got := len(a.Errors) == 1 && a.code(t) == "UNAUTHENTICATED"; got != wantErr {
				t.Errorf("GraphQL with the admin token: %+v", a)
			}
		})
	}
}

func TestBadAdminTokensAreRefused(t *testing.T) {
	tests := []struct {
		name string
		opts mockserver.Options
		want string
	}{
		{"space", mockserver.Options{AdminToken: "adm s3cr3t"}, "admin token: token holds a space"},
		{"same as an API token", mockserver.Options{Tokens: map[string]string{"tok-s3cr3t": "a"}, AdminToken: "tok-s3cr3t"}, "admin token is also an API token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mockserver.New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}

// waitForLatencyFault waits until s has begun a latency fault.
func waitForLatencyFault(t *testing.T, s *mockserver.Server) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Faults[mockserver.FaultLatency] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no latency fault began within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRunningCloseCutsLatencyFaultsShort: a pending 30s delay does not hold
// up a graceful stop; the delayed request gets a 503.
func TestRunningCloseCutsLatencyFaultsShort(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{Tokens: map[string]string{faultToken: mockserver.DefaultTenant}})
	if err != nil {
		t.Fatal(err)
	}
	r := started(t, s, "127.0.0.1:0")

	got := make(chan int, 1)
	go func() {
		resp, _, err := ask(t, &http.Client{Timeout: 60 * time.Second}, r.URL(), "latency; delay=30s")
		if err != nil {
			got <- -1
			return
		}
		got <- resp.StatusCode
	}()
	waitForLatencyFault(t, s)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Errorf("Close: %v; want a clean stop", err)
	}
	if status := <-got; status != http.StatusServiceUnavailable {
		t.Errorf("the delayed request got %d, want 503", status)
	}
}

// TestServerCloseCutsLatencyFaultsShort covers a server served through
// Handler, which only Server.Close can stop.
func TestServerCloseCutsLatencyFaultsShort(t *testing.T) {
	s, ts := faultSetup(t, mockserver.Faults{})

	got := make(chan error, 1)
	go func() {
		resp, _, err := ask(t, &http.Client{Timeout: 20 * time.Second}, ts.URL, "latency; delay=30s")
		if err == nil && resp.StatusCode != http.StatusServiceUnavailable {
			err = errors.New(resp.Status)
		}
		got <- err
	}()
	waitForLatencyFault(t, s)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("the delayed request: %v; want a 503 at once", err)
	}
}
