package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// send makes one request to the running command and returns the status and
// body; host, when set, replaces the Host header.
func send(t *testing.T, method, url, host, token string, header map[string]string, body string) (int, string) {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

const namesQuery = `{"query": "query { secret_names }"}`

var jsonType = map[string]string{"Content-Type": "application/json"}

func TestRunAnswersOnlyLoopbackHosts(t *testing.T) {
	url, stop, _, _ := started(t, []string{"--addr", "127.0.0.1:0"})
	t.Cleanup(func() { stop() })

	for _, host := range []string{"evil.example", "evil.example:4200", "127.0.0.1.evil.example", "localhost.evil.example"} {
		status, body := send(t, http.MethodPost, url+"/graphql", host, "", jsonType, namesQuery)
		if status != http.StatusForbidden || !strings.Contains(body, "FORBIDDEN") {
			t.Errorf("Host %s: %d %s; want 403 FORBIDDEN", host, status, body)
		}
	}
	port := url[strings.LastIndex(url, ":"):]
	for _, host := range []string{"", "localhost" + port, "LOCALHOST", "127.0.0.1" + port} {
		if status, body := send(t, http.MethodPost, url+"/graphql", host, "", jsonType, namesQuery); status != 200 {
			t.Errorf("Host %q: %d %s; want 200", host, status, body)
		}
	}
}

func TestRunAdminTokenGuardsTheAdminEndpoints(t *testing.T) {
	url, stop, _, _ := started(t, []string{"--addr", "127.0.0.1:0", "--token", "tok-api", "--admin-token", "tok-admin"})
	t.Cleanup(func() { stop() })

	if status, _ := send(t, http.MethodGet, url+"/_mock/stats", "", "tok-api", nil, ""); status != 401 {
		t.Errorf("stats with an API token: %d, want 401", status)
	}
	if status, _ := send(t, http.MethodPost, url+"/_mock/faults", "", "tok-api", nil, `{"rates": {"503": 1}}`); status != 401 {
		t.Errorf("setting faults with an API token: %d, want 401", status)
	}
	if status, body := send(t, http.MethodGet, url+"/_mock/stats", "", "tok-admin", nil, ""); status != 200 {
		t.Errorf("stats with the admin token: %d %s, want 200", status, body)
	}
	if _, body := send(t, http.MethodPost, url+"/graphql", "", "tok-admin", jsonType, namesQuery); !strings.Contains(body, "UNAUTHENTICATED") {
		t.Errorf("GraphQL with the admin token: %s, want UNAUTHENTICATED", body)
	}
}

// TestRunStopsCleanlyWithALatencyFaultPending: a pending delay does not
// hold up the shutdown, which ends with code 0 and says nothing.
func TestRunStopsCleanlyWithALatencyFaultPending(t *testing.T) {
	url, stop, _, stderr := started(t, []string{
		"--addr", "127.0.0.1:0", "--token", "tok", "--fault", "latency=1", "--fault-latency", "30s",
	})

	answered := make(chan int, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(namesQuery))
		if err != nil {
			answered <- -1
			return
		}
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()

	// Wait until the delay is under way.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var stats struct {
			Faults map[string]int64 `json:"faults"`
		}
		_, body := send(t, http.MethodGet, url+"/_mock/stats", "", "tok", nil, "")
		if err := json.Unmarshal([]byte(body), &stats); err != nil {
			t.Fatalf("stats: %v: %s", err, body)
		}
		if stats.Faults["latency"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the latency fault did not start within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if code := stop(); code != 0 {
		t.Errorf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("stderr = %q", stderr)
	}
	if status := <-answered; status != http.StatusServiceUnavailable {
		t.Errorf("the delayed request got %d, want 503", status)
	}
}
