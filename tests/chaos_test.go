package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/mockserver"
	"github.com/prefect-go/cloudsecrets/secrets"
)

const chaosToken = "chaos-token-3303"

// chaosSecrets returns n secrets of every shape as the mock's seed, and the
// value Get must return for each, written out by hand rather than computed
// by the library.
func chaosSecrets(n int) (map[string]json.RawMessage, map[string]any) {
	seed := make(map[string]json.RawMessage, n)
	want := make(map[string]any, n)
	for i := range n {
		name := fmt.Sprintf("CHAOS_%02d", i)
		switch i % 5 {
		case 0: // a plain string
			seed[name] = json.RawMessage(fmt.Sprintf(`"chaos-value-%d"`, i))
			want[name] = fmt.Sprintf("chaos-value-%d", i)
		case 1: // a string holding JSON, which Get decodes
			seed[name] = json.RawMessage(fmt.Sprintf(`"{\"n\": %d, \"tag\": \"t%d\"}"`, i, i))
			want[name] = map[string]any{"n": int64(i), "tag": fmt.Sprintf("t%d", i)}
		case 2: // an object
			seed[name] = json.RawMessage(fmt.Sprintf(`{"list": [%d, "x", true]}`, i))
			want[name] = map[string]any{"list": []any{int64(i), "x", true}}
		case 3: // a number
			seed[name] = json.RawMessage(fmt.Sprintf(`%d.5`, i))
			want[name] = float64(i) + 0.5
		case 4: // null: found, with a nil value
			seed[name] = json.RawMessage(`null`)
			want[name] = nil
		}
	}
	return seed, want
}

// chaosTally is what the Gets of the chaos test came to.
type chaosTally struct {
	mu          sync.Mutex
	right       int
	wrong       []string // secret names, never values
	missingOK   int      // not found for a secret that does not exist
	notFoundBad []string // not found for a secret that exists
	transient   int
	hangs       int
	other       []string
	leaks       int // error messages holding a value
	latencies   []time.Duration
}

func (c *chaosTally) record(name string, exists bool, got any, err error, want any, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latencies = append(c.latencies, took)

	if err != nil && strings.Contains(err.Error(), "chaos-value") {
		c.leaks++
	}
	switch {
	case err == nil && exists && reflect.DeepEqual(got, want):
		c.right++
	case err == nil:
		c.wrong = append(c.wrong, name)
	case errors.Is(err, client.ErrTransient):
		c.transient++
	case errors.Is(err, secrets.ErrNotFound) && !exists:
		c.missingOK++
	case errors.Is(err, secrets.ErrNotFound):
		c.notFoundBad = append(c.notFoundBad, name)
	case errors.Is(err, context.DeadlineExceeded):
		c.hangs++
	default:
		c.other = append(c.other, err.Error())
	}
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(sorted)-1))
	return sorted[i]
}

// settleGoroutines waits, for up to limit, until at most want goroutines
// run, and returns how many do.
func settleGoroutines(want int, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	n := runtime.NumGoroutine()
	for n > want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// TestChaos drives 2,400 Gets through the library against the mock on a
// loopback port while it faults 30% of requests, every kind of fault
// included. Each Get must come back with the right value or an error that
// matches client.ErrTransient: never a wrong value, never "not found" for a
// secret that exists, never a hang.
func TestChaos(t *testing.T) {
	const (
		gets        = 2400
		workers     = 8
		secretCount = 40
		faultRate   = 0.3
		perGet      = 30 * time.Second // far beyond any retry budget: reaching it is a hang
	)
	baseline := runtime.NumGoroutine()
	start := time.Now()

	seed, want := chaosSecrets(secretCount)
	srv, err := mockserver.New(mockserver.Options{
		Tokens: map[string]string{chaosToken: mockserver.DefaultTenant},
		Seed:   seed,
		Faults: mockserver.Faults{
			Rates:      mockserver.EvenRates(faultRate),
			Seed:       20261204,
			Latency:    3 * time.Millisecond,
			RetryAfter: 1, // capped by the client's 10 ms maximum wait
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	running, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = running.Close(context.Background())
		}
	})

	transport := cleanhttp.DefaultPooledTransport()
	cfg := secrets.DefaultConfig()
	cfg.API, cfg.AuthToken, cfg.UseLocalSecrets = running.URL(), chaosToken, false
	// 12 retries: at a 30% fault rate a Get runs out of attempts about
	// once in six million.
	r, err := secrets.NewResolver(cfg, secrets.WithClientOptions(
		client.WithHTTPClient(&http.Client{Transport: transport}),
		client.WithRetries(12),
		client.WithRetryWait(time.Millisecond, 10*time.Millisecond),
		client.WithAttemptTimeout(5*time.Second),
		client.WithTimeout(20*time.Second),
	))
	if err != nil {
		t.Fatal(err)
	}

	names := slices.Sorted(func(yield func(string) bool) {
		for n := range want {
			if !yield(n) {
				return
			}
		}
	})
	var tally chaosTally
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				name, exists := names[i%len(names)], true
				if i%10 == 9 {
					name, exists = fmt.Sprintf("CHAOS_MISSING_%d", i%7), false
				}

				ctx, cancel := context.WithTimeout(context.Background(), perGet)
				t0 := time.Now()
				got, err := r.Get(ctx, name)
				took := time.Since(t0)
				cancel()
				tally.record(name, exists, got, err, want[name], took)
			}
		}()
	}
	for i := range gets {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)

	stats := chaosStats(t, running.URL())
	transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := running.Close(ctx); err != nil {
		t.Errorf("closing the mock: %v", err)
	}
	closed = true
	left := settleGoroutines(baseline, 10*time.Second)

	slices.Sort(tally.latencies)
	var kinds []string
	for _, k := range mockserver.FaultKinds() {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, stats.Faults[k]))
	}
	errs := gets - tally.right - tally.missingOK
	t.Logf("chaos figures: %d gets in %v; %d requests; faults %d (%s); retries %d; errors %d (transient %d); latency p50 %v p99 %v max %v",
		gets, elapsed.Round(time.Millisecond), stats.Requests, stats.FaultsTotal, strings.Join(kinds, " "),
		stats.Requests-gets, errs, tally.transient,
		percentile(tally.latencies, 50).Round(time.Microsecond), percentile(tally.latencies, 99).Round(time.Microsecond),
		tally.latencies[len(tally.latencies)-1].Round(time.Microsecond))

	if len(tally.wrong) > 0 {
		t.Errorf("%d wrong values, for %v", len(tally.wrong), tally.wrong)
	}
	if len(tally.notFoundBad) > 0 {
		t.Errorf("%d not-found answers for secrets that exist: %v", len(tally.notFoundBad), tally.notFoundBad)
	}
	if tally.hangs > 0 {
		t.Errorf("%d Gets ran into their %v deadline", tally.hangs, perGet)
	}
	if len(tally.other) > 0 {
		t.Errorf("%d errors neither transient nor not-found, such as %q", len(tally.other), tally.other[0])
	}
	if tally.leaks > 0 {
		t.Errorf("%d error messages hold a secret value", tally.leaks)
	}
	if tally.right+tally.missingOK+tally.transient != gets {
		t.Errorf("%d right + %d not found + %d transient != %d gets", tally.right, tally.missingOK, tally.transient, gets)
	}
	// Most Gets must succeed: transient errors are allowed, not the norm.
	if tally.right < gets*8/10 {
		t.Errorf("only %d of %d Gets returned their value", tally.right, gets)
	}

	if stats.Requests < gets {
		t.Errorf("%d requests for %d Gets", stats.Requests, gets)
	}
	for _, k := range mockserver.FaultKinds() {
		if stats.Faults[k] == 0 {
			t.Errorf("no fault of kind %q was served", k)
		}
	}
	if got := float64(stats.FaultsTotal) / float64(stats.Requests); got < 0.2 || got > 0.4 {
		t.Errorf("fault rate %.3f, want about %v", got, faultRate)
	}
	if left > baseline {
		t.Errorf("%d goroutines after the run, %d before", left, baseline)
	}
}

// chaosStats reads the mock's counts from GET /_mock/stats.
func chaosStats(t *testing.T, url string) mockserver.Stats {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/_mock/stats", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+chaosToken)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	var st mockserver.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /_mock/stats: %d, %v", resp.StatusCode, err)
	}
	return st
}
