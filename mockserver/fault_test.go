package mockserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

const faultToken = "fault-tok-77"

// faultSetup serves a server holding K = "v" for faultToken on a loopback
// httptest server.
func faultSetup(t *testing.T, faults mockserver.Faults) (*mockserver.Server, *httptest.Server) {
	t.Helper()

	s, ts := setup(t, mockserver.Options{Tokens: map[string]string{faultToken: mockserver.DefaultTenant}, Faults: faults})
	s.SetSecret(mockserver.DefaultTenant, "K", json.RawMessage(`"v"`))
	return s, ts
}

// ask sends the query for K with an optional X-Mock-Fault header.
func ask(t *testing.T, c *http.Client, url, faultSpec string) (*http.Response, []byte, error) {
	t.Helper()

	body := gqlBody(t, querySnake, map[string]any{"name": "K"})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+faultToken)
	if faultSpec != "" {
		req.Header.Set(mockserver.FaultHeader, faultSpec)
	}

	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp, raw, err
}

func TestFaultHeaderServesEachKind(t *testing.T) {
	const right = `{"data":{"secret_value":"v"}}`
	tests := []struct {
		spec        string
		kind        mockserver.FaultKind
		status      int
		contentType string
		retryAfter  string
		body        string // a part of the body
	}{
		{"500", mockserver.Fault500, 500, "application/json", "", `"code":"INTERNAL_SERVER_ERROR"`},
		{"502", mockserver.Fault502, 502, "text/html; charset=utf-8", "", "<h1>502 Bad Gateway</h1>"},
		{"503", mockserver.Fault503, 503, "application/json", "", `"code":"SERVICE_UNAVAILABLE"`},
		{"503; retry_after=2", mockserver.Fault503, 503, "application/json", "2", `"code":"SERVICE_UNAVAILABLE"`},
		{"504", mockserver.Fault504, 504, "text/html; charset=utf-8", "", "504 Gateway Time-out"},
		{"429", mockserver.Fault429, 429, "application/json", "1", `"code":"TOO_MANY_REQUESTS"`},
		{"429; retry_after=30", mockserver.Fault429, 429, "application/json", "30", `"code":"TOO_MANY_REQUESTS"`},
		{"api_error", mockserver.FaultAPIError, 200, "application/json", "", `"extensions":{"code":"API_ERROR"}}],"data":null}`},
		{"INTERNAL_ERROR", mockserver.FaultInternalError, 200, "application/json", "", `"extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`},
		{"garbage", mockserver.FaultGarbage, 200, "text/html; charset=utf-8", "", "<!DOCTYPE html>"},
		{"garbage; body=json", mockserver.FaultGarbage, 200, "application/json", "", `{"data":{"secret_val`},
		{"latency; delay=30ms", mockserver.FaultLatency, 200, "application/json", "", right},
		{"none", "", 200, "application/json", "", right},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, ts := faultSetup(t, mockserver.Faults{})

			start := time.Now()
			resp, raw, err := ask(t, ts.Client(), ts.URL, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.contentType)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if !strings.Contains(string(raw), tt.body) {
				t.Errorf("body %q does not hold %q", raw, tt.body)
			}
			if tt.kind == mockserver.FaultGarbage && json.Valid(raw) {
				t.Errorf("garbage body %q is valid JSON", raw)
			}
			if tt.kind == mockserver.FaultLatency && time.Since(start) < 30*time.Millisecond {
				t.Errorf("latency fault answered after %v, before its 30ms delay", time.Since(start))
			}

			st := s.Stats()
			wantFaults := int64(1)
			if tt.kind == "" {
				wantFaults = 0
			}
			if st.Requests != 1 || st.FaultsTotal != wantFaults || (tt.kind != "" && st.Faults[tt.kind] != 1) {
				t.Errorf("stats = %+v; want 1 request and %d fault of kind %q", st, wantFaults, tt.kind)
			}
		})
	}
}

func TestResetFaultDropsTheConnection(t *testing.T) {
	s, ts := faultSetup(t, mockserver.Faults{})

	_, _, err := ask(t, ts.Client(), ts.URL, "reset")
	if err == nil {
		t.Fatal("a reset fault gave an answer")
	}

	// The connection after it works.
	resp, raw, err := ask(t, ts.Client(), ts.URL, "")
	if err != nil || resp.StatusCode != 200 || string(raw) != `{"data":{"secret_value":"v"}}` {
		t.Fatalf("next request: %v, %s", err, raw)
	}
	if st := s.Stats(); st.Faults[mockserver.FaultReset] != 1 || st.Requests != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestResetFaultInProcessFailsTheRoundTrip(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: s.Transport()}

	_, _, err = ask(t, c, "http://mock.invalid", "reset")
	if err == nil || !strings.Contains(err.Error(), "closed the connection without an answer") {
		t.Fatalf("err = %v; want the round trip to fail", err)
	}
	if st := s.Stats(); st.Faults[mockserver.FaultReset] != 1 || st.Connections != 0 {
		t.Errorf("stats = %+v; want one reset and no connections counted in-process", st)
	}
}

func TestLatencyFaultEndsWithTheRequest(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql",
		strings.NewReader(gqlBody(t, querySnake, map[string]any{"name": "K"})))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(mockserver.FaultHeader, "latency; delay=30s")
	rec := httptest.NewRecorder()

	done := make(chan struct{})
	go func() {
		s.Handler().ServeHTTP(rec, req)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still waits 10s after the request ended")
	}
	if rec.Body.Len() != 0 {
		t.Errorf("answered %q to a request that had gone", rec.Body)
	}
}

func TestBadFaultHeaderIsA400(t *testing.T) {
	for _, spec := range []string{"418", "latency; delay=soon", "503; delay=1s", "429; retry_after=-1", "garbage; body=xml"} {
		t.Run(spec, func(t *testing.T) {
			s, ts := faultSetup(t, mockserver.Faults{})

			resp, raw, err := ask(t, ts.Client(), ts.URL, spec)
			if err != nil {
				t.Fatal(err)
			}
			var a answer
			if resp.StatusCode != 400 || json.Unmarshal(raw, &a) != nil || a.code(t) != "BAD_REQUEST" ||
				!strings.Contains(a.Errors[0].Message, mockserver.FaultHeader) {
				t.Errorf("got %d %s; want a GraphQL-shaped 400 naming the header", resp.StatusCode, raw)
			}
			if st := s.Stats(); st.FaultsTotal != 0 {
				t.Errorf("a bad header served a fault: %+v", st)
			}
		})
	}
}

// drawSequence sends n requests in turn through the in-process transport
// and returns the status of each, "reset" for a dropped one.
func drawSequence(t *testing.T, faults mockserver.Faults, n int) ([]string, mockserver.Stats) {
	t.Helper()

	faults.Latency = time.Microsecond
	s, err := mockserver.New(mockserver.Options{Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecret(mockserver.DefaultTenant, "K", json.RawMessage(`"v"`))
	c := &http.Client{Transport: s.Transport()}

	seq := make([]string, n)
	for i := range seq {
		resp, raw, err := ask(t, c, "http://mock.invalid", "")
		switch {
		case err != nil:
			seq[i] = "reset"
		default:
			seq[i] = fmt.Sprintf("%d:%.12s", resp.StatusCode, raw)
		}
	}
	return seq, s.Stats()
}

func TestFaultRatesAreHonoured(t *testing.T) {
	const n = 4000
	_, st := drawSequence(t, mockserver.Faults{Rates: mockserver.EvenRates(0.3), Seed: 42}, n)

	if st.Requests != n {
		t.Fatalf("%d requests counted, want %d", st.Requests, n)
	}
	// 1,200 expected; 3 standard deviations is about 87.
	if got := float64(st.FaultsTotal) / n; math.Abs(got-0.3) > 0.03 {
		t.Errorf("fault rate %.3f, want about 0.3: %+v", got, st.Faults)
	}
	for _, k := range mockserver.FaultKinds() {
		// 120 expected of each.
		if c := st.Faults[k]; c < 70 || c > 170 {
			t.Errorf("%d faults of kind %q in %d requests, want about 120", c, k, n)
		}
	}
}

func TestFaultPlanReplaysWithItsSeed(t *testing.T) {
	plan := mockserver.Faults{Rates: mockserver.EvenRates(0.5), Seed: 7}
	a, _ := drawSequence(t, plan, 200)
	b, _ := drawSequence(t, plan, 200)
	plan.Seed = 8
	c, _ := drawSequence(t, plan, 200)

	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("the same seed gave two different runs")
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Error("seeds 7 and 8 gave the same run")
	}
}

func TestRandomSeedIsReported(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{Faults: mockserver.Faults{Rates: map[mockserver.FaultKind]float64{"503": 0.1}}})
	if err != nil {
		t.Fatal(err)
	}
	f := s.Faults()
	if f.Seed == 0 || f.Seed >= 1<<53 {
		t.Errorf("seed %d; want one picked, below 2^53", f.Seed)
	}
	if f.Latency != mockserver.DefaultFaultLatency || f.RetryAfter != mockserver.DefaultFaultRetryAfter {
		t.Errorf("defaults not filled in: %+v", f)
	}
}

func TestBadFaultPlansAreRefused(t *testing.T) {
	tests := []struct {
		name   string
		faults mockserver.Faults
		says   string
	}{
		{"rates above 1 in total", mockserver.Faults{Rates: mockserver.EvenRates(1.2)}, "add up to 1.2"},
		{"a rate above 1", mockserver.Faults{Rates: map[mockserver.FaultKind]float64{"503": 1.5}}, `rate of "503"`},
		{"a negative rate", mockserver.Faults{Rates: map[mockserver.FaultKind]float64{"reset": -0.1}}, `rate of "reset"`},
		{"NaN", mockserver.Faults{Rates: map[mockserver.FaultKind]float64{"reset": math.NaN()}}, `rate of "reset"`},
		{"unknown kind", mockserver.Faults{Rates: map[mockserver.FaultKind]float64{"418": 0.1}}, `unknown fault kind "418"`},
		{"negative latency", mockserver.Faults{Latency: -time.Second}, "latency is negative"},
		{"negative retry-after", mockserver.Faults{RetryAfter: -1}, "retry-after is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mockserver.New(mockserver.Options{Faults: tt.faults}); err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("New: err = %v; want it to say %q", err, tt.says)
			}

			s, err := mockserver.New(mockserver.Options{Faults: mockserver.Faults{Rates: map[mockserver.FaultKind]float64{"502": 0.2}, Seed: 3}})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetFaults(tt.faults); err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("SetFaults: err = %v; want it to say %q", err, tt.says)
			}
			if f := s.Faults(); f.Rates["502"] != 0.2 || len(f.Rates) != 1 || f.Seed != 3 {
				t.Errorf("a refused plan changed the one in force: %+v", f)
			}
		})
	}
}

func TestParseFaultKind(t *testing.T) {
	for _, k := range mockserver.FaultKinds() {
		got, err := mockserver.ParseFaultKind(" " + strings.ToUpper(string(k)) + " ")
		if err != nil || got != k {
			t.Errorf("ParseFaultKind(%q) = %q, %v", k, got, err)
		}
	}
	if _, err := mockserver.ParseFaultKind("timeout"); err == nil || !strings.Contains(err.Error(), "api_error, internal_error, latency") {
		t.Errorf("err = %v; want it to list the kinds", err)
	}
}

func TestEvenRatesCoverEveryKind(t *testing.T) {
	rates := mockserver.EvenRates(0.3)
	if len(rates) != len(mockserver.FaultKinds()) || len(rates) != 10 {
		t.Fatalf("%d rates for %d kinds", len(rates), len(mockserver.FaultKinds()))
	}
	f := mockserver.Faults{Rates: rates}
	if math.Abs(f.Total()-0.3) > 1e-12 {
		t.Errorf("total %v, want 0.3", f.Total())
	}
}

// TestLatencyFaultNoticesAClientThatLeft: over a real connection, a client
// that gives up on a slow answer ends the handler's wait.
func TestLatencyFaultNoticesAClientThatLeft(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	c := &http.Client{Timeout: 100 * time.Millisecond}

	if _, _, err := ask(t, c, ts.URL, "latency; delay=30s"); err == nil {
		t.Fatal("an answer came before the client's timeout")
	}

	// Close waits for every handler to return.
	closed := make(chan struct{})
	go func() {
		ts.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still waits 10s after its client left")
	}
}
