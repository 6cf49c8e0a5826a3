package mockserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// admin sends one request to an admin endpoint, with token when it is not
// empty, and returns the status and body.
func admin(t *testing.T, c *http.Client, method, url, token, body string) (int, []byte) {
	t.Helper()
	header := map[string]string{}
	if token != "" {
		header["Authorization"] = "Bearer " + token
	}
	return request(t, c, method, url, header, body)
}

func TestFaultsEndpointSetsAndReadsThePlan(t *testing.T) {
	s, ts := faultSetup(t, mockserver.Faults{})
	c := ts.Client()

	status, raw := admin(t, c, "POST", ts.URL+"/_mock/faults", faultToken,
		`{"rates": {"503": 1}, "seed": 5, "latency": "5ms", "retry_after": 2}`)
	want := `{"rates":{"503":1},"seed":5,"latency":"5ms","retry_after":2,"total":1}` + "\n"
	if status != 200 || string(raw) != want {
		t.Fatalf("POST: %d %s; want 200 %s", status, raw, want)
	}
	if status, raw := admin(t, c, "GET", ts.URL+"/_mock/faults", faultToken, ""); status != 200 || string(raw) != want {
		t.Errorf("GET: %d %s; want 200 %s", status, raw, want)
	}
	if f := s.Faults(); f.Seed != 5 || f.Latency != 5*time.Millisecond || f.RetryAfter != 2 || f.Rates["503"] != 1 {
		t.Errorf("Faults() = %+v", f)
	}

	resp, _, err := ask(t, c, ts.URL, "")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("with a 503 rate of 1: %v, %v", resp, err)
	}

	// Posting a plan without rates turns faults off.
	if status, raw := admin(t, c, "POST", ts.URL+"/_mock/faults", faultToken, `{}`); status != 200 || !strings.Contains(string(raw), `"rates":{}`) {
		t.Fatalf("POST {}: %d %s", status, raw)
	}
	resp, _, err = ask(t, c, ts.URL, "")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("with no faults: %v, %v", resp, err)
	}
}

func TestFaultsEndpointRefusesBadPlans(t *testing.T) {
	tests := []struct {
		name, body, code, says string
	}{
		{"not JSON", `rates=0.3`, "BAD_REQUEST", "invalid character"},
		{"misspelt field", `{"rate": {"503": 0.1}}`, "BAD_REQUEST", `unknown field "rate"`},
		{"bad latency", `{"latency": "soon"}`, "BAD_REQUEST", "latency must be a duration"},
		{"rates above 1", `{"rates": {"503": 0.6, "reset": 0.6}}`, "BAD_USER_INPUT", "add up to 1.2"},
		{"unknown kind", `{"rates": {"timeout": 0.1}}`, "BAD_USER_INPUT", `unknown fault kind "timeout"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := faultSetup(t, mockserver.Faults{Rates: map[mockserver.FaultKind]float64{"502": 0.25}})

			status, raw := admin(t, ts.Client(), "POST", ts.URL+"/_mock/faults", faultToken, tt.body)
			var a answer
			if status != 400 || json.Unmarshal(raw, &a) != nil || a.code(t) != tt.code || !strings.Contains(a.Errors[0].Message, tt.says) {
				t.Errorf("got %d %s; want a 400 %s saying %q", status, raw, tt.code, tt.says)
			}
			if f := s.Faults(); len(f.Rates) != 1 || f.Rates["502"] != 0.25 {
				t.Errorf("a refused plan changed the one in force: %+v", f)
			}
		})
	}
}

func TestAdminEndpointsTakeTheAPITokens(t *testing.T) {
	_, ts := faultSetup(t, mockserver.Faults{})
	c := ts.Client()

	for _, path := range []string{"/_mock/faults", "/_mock/stats"} {
		if status, _ := admin(t, c, "GET", ts.URL+path, "", ""); status != 401 {
			t.Errorf("GET %s without a token: %d, want 401", path, status)
		}
		if status, _ := admin(t, c, "GET", ts.URL+path, "wrong", ""); status != 401 {
			t.Errorf("GET %s with a wrong token: %d, want 401", path, status)
		}
		if status, _ := admin(t, c, "GET", ts.URL+path, faultToken, ""); status != 200 {
			t.Errorf("GET %s with the token: %d, want 200", path, status)
		}
	}
	if status, _ := admin(t, c, "POST", ts.URL+"/_mock/faults", "", `{"rates": {"503": 1}}`); status != 401 {
		t.Errorf("POST without a token: %d, want 401", status)
	}
	if status, _ := admin(t, c, "DELETE", ts.URL+"/_mock/stats", faultToken, ""); status != 405 {
		t.Errorf("DELETE /_mock/stats: %d, want 405", status)
	}
	if status, _ := admin(t, c, "PUT", ts.URL+"/_mock/faults", faultToken, "{}"); status != 405 {
		t.Errorf("PUT /_mock/faults: %d, want 405", status)
	}

	// Open mode: no token needed.
	_, open := setup(t, mockserver.Options{})
	if status, _ := admin(t, open.Client(), "GET", open.URL+"/_mock/stats", "", ""); status != 200 {
		t.Errorf("open mode GET /_mock/stats: %d, want 200", status)
	}
}

// TestStatsCountRequestsFaultsAndConnections uses a started server, the only
// kind that counts connections.
func TestStatsCountRequestsFaultsAndConnections(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{Tokens: map[string]string{faultToken: mockserver.DefaultTenant}})
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecret(mockserver.DefaultTenant, "K", json.RawMessage(`"v"`))
	r, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })

	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, spec := range []string{"", "503", "", "api_error", ""} {
		if _, _, err := ask(t, c, r.URL(), spec); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := ask(t, c, r.URL(), "reset"); err == nil {
		t.Fatal("reset fault answered")
	}
	if _, _, err := ask(t, c, r.URL(), ""); err != nil {
		t.Fatal(err)
	}

	status, raw := admin(t, c, "GET", r.URL()+"/_mock/stats", faultToken, "")
	var st mockserver.Stats
	if status != 200 || json.Unmarshal(raw, &st) != nil {
		t.Fatalf("GET /_mock/stats: %d %s", status, raw)
	}
	if st.Requests != 7 || st.FaultsTotal != 3 || st.Faults["503"] != 1 || st.Faults["api_error"] != 1 || st.Faults["reset"] != 1 {
		t.Errorf("stats = %s; want 7 requests, one 503, one api_error, one reset", raw)
	}
	if len(st.Faults) != len(mockserver.FaultKinds()) {
		t.Errorf("stats list %d kinds, want every one of %d", len(st.Faults), len(mockserver.FaultKinds()))
	}
	// One kept-alive connection, then a new one after the reset.
	if st.Connections != 2 || st.OpenConnections != 1 {
		t.Errorf("connections %d (open %d); want 2 (open 1)", st.Connections, st.OpenConnections)
	}

	tr.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().OpenConnections != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.Stats().OpenConnections; got != 0 {
		t.Errorf("%d connections still open after the client closed its own", got)
	}
}
