package tests

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/secrets"
)

// gate wraps a handler: it counts the requests that reach it and holds each
// until the phase's open is closed. The first request of a phase is
// announced on its first.
type gate struct {
	next  http.Handler
	phase atomic.Pointer[gatePhase]
}

type gatePhase struct {
	requests atomic.Int32
	first    chan struct{}
	open     chan struct{}
}

func newGate(next http.Handler) *gate {
	g := &gate{next: next}
	g.reset()
	return g
}

// reset starts a new phase: count from 0, gate closed.
func (g *gate) reset() *gatePhase {
	p := &gatePhase{first: make(chan struct{}), open: make(chan struct{})}
	g.phase.Store(p)
	return p
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := g.phase.Load()
	if p.requests.Add(1) == 1 {
		close(p.first)
	}
	select {
	case <-p.open:
	case <-r.Context().Done():
		return
	}
	g.next.ServeHTTP(w, r)
}

// getConcurrently runs n Gets of name at once and returns how many failed
// or got another value than want. It waits until the first request reached
// the server and every goroutine has started before opening the gate.
func getConcurrently(t *testing.T, r *secrets.Resolver, g *gatePhase, n int, name, want string) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var started, done sync.WaitGroup
	var wrong atomic.Int32
	started.Add(n)
	for range n {
		done.Go(func() {
			started.Done()
			if v, err := r.Get(ctx, name); err != nil || v != want {
				wrong.Add(1)
			}
		})
	}
	select {
	case <-g.first:
	case <-ctx.Done():
		t.Fatal("no request reached the server")
	}
	started.Wait()
	// Let the late starters reach Get too. The count does not depend on
	// this pause: a Get that arrives after the answer finds it cached.
	time.Sleep(100 * time.Millisecond)
	close(g.open)
	done.Wait()
	return wrong.Load()
}

// 1,000 concurrent Gets of one name that is not cached make exactly one
// request, counted at the mock; after Invalidate, another 1,000 make one
// more. The cache is turned on the way users do: PREFECT__CLOUD__CACHE_TTL.
func TestConcurrentGetsMakeOneRequest(t *testing.T) {
	const n = 1000
	g := newGate(newSeededMock(t, map[string]string{"HOT": `"hot value"`}).Handler())
	url, _ := countingServer(t, g)
	phase := g.phase.Load()

	cfg, err := secrets.LoadConfigEnv([]string{
		"HOME=" + t.TempDir(),
		secrets.EnvAPI + "=" + url,
		secrets.EnvAuthToken + "=" + token,
		secrets.EnvUseLocalSecrets + "=false",
		secrets.EnvCacheTTL + "=1h",
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := secrets.NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if wrong := getConcurrently(t, r, phase, n, "HOT", "hot value"); wrong != 0 {
		t.Errorf("%d of %d Gets failed or got a wrong value", wrong, n)
	}
	if got := phase.requests.Load(); got != 1 {
		t.Fatalf("%d concurrent Gets made %d requests, want 1", n, got)
	}

	r.Invalidate("HOT")
	phase = g.reset()
	if wrong := getConcurrently(t, r, phase, n, "HOT", "hot value"); wrong != 0 {
		t.Errorf("after Invalidate, %d of %d Gets failed or got a wrong value", wrong, n)
	}
	if got := phase.requests.Load(); got != 1 {
		t.Fatalf("after Invalidate, %d concurrent Gets made %d requests, want 1", n, got)
	}
}

// A missing secret is not cached: each Get after the last answer asks again.
func TestNotFoundIsAskedAgain(t *testing.T) {
	g := newGate(newSeededMock(t, nil).Handler())
	phase := g.phase.Load()
	close(phase.open)
	url, _ := countingServer(t, g)

	cfg := secrets.DefaultConfig()
	cfg.API, cfg.AuthToken, cfg.UseLocalSecrets = url, token, false
	r, err := secrets.NewResolver(cfg, secrets.WithCache(time.Hour, 0))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := r.Get(context.Background(), "MISSING"); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("Get %d: err = %v, want not found", i+1, err)
		}
	}
	if got := phase.requests.Load(); got != 3 {
		t.Errorf("3 Gets of a missing secret made %d requests, want 3", got)
	}
}
