package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// gatedCloud answers from a map of JSON values, counts the questions, and,
// when gated, holds every answer until the gate opens.
type gatedCloud struct {
	mu     sync.Mutex
	values map[string]string
	fail   error // returned instead of a value, when set

	calls   atomic.Int32
	entered chan struct{} // one send per question, when not nil
	gate    chan struct{} // answers wait for it to close, when not nil
}

func (g *gatedCloud) SecretValue(ctx context.Context, name string) (json.RawMessage, error) {
	g.calls.Add(1)

	// The answer is what Cloud held when the question arrived, even if it
	// is held back at the gate.
	g.mu.Lock()
	v, ok := g.values[name]
	fail := g.fail
	g.mu.Unlock()

	if g.entered != nil {
		g.entered <- struct{}{}
	}
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	switch {
	case fail != nil:
		return nil, fail
	case !ok:
		return nil, fmt.Errorf("secret_value %q: %w", name, client.ErrNotFound)
	}
	return json.RawMessage(v), nil
}

func (g *gatedCloud) SecretNames(context.Context) ([]string, error) {
	return nil, errors.New("not used")
}

func (g *gatedCloud) set(name, value string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.values[name] = value
}

func (g *gatedCloud) setFail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fail = err
}

// newCachedResolver returns a Cloud-mode Resolver asking g, with opts.
func newCachedResolver(t *testing.T, g *gatedCloud, opts ...secrets.Option) *secrets.Resolver {
	t.Helper()
	cfg := secrets.DefaultConfig()
	cfg.UseLocalSecrets = false
	r, err := secrets.NewResolver(cfg, append([]secrets.Option{secrets.WithCloud(g)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustGet is r.Get that fails the test on error.
func mustGet(t *testing.T, r *secrets.Resolver, name string) any {
	t.Helper()
	v, err := r.Get(context.Background(), name)
	if err != nil {
		t.Fatalf("Get(%s): %v", name, err)
	}
	return v
}

// waitFor polls cond until it holds, failing the test after a generous
// limit: the condition is expected to hold within milliseconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWithoutCacheEveryGetAsks(t *testing.T) {
	g := &gatedCloud{values: map[string]string{"K": `"v"`}}
	r := newCachedResolver(t, g)

	for range 3 {
		if v := mustGet(t, r, "K"); v != "v" {
			t.Fatalf("Get = %v, want v", v)
		}
	}
	if n := g.calls.Load(); n != 3 {
		t.Errorf("Cloud was asked %d times for 3 Gets, want 3", n)
	}
}

// Without the cache, Gets that overlap are not merged: each one asks, so a
// Get never returns an answer older than itself.
func TestWithoutCacheConcurrentGetsAreNotMerged(t *testing.T) {
	const n = 8
	g := &gatedCloud{values: map[string]string{"K": `"v"`}, gate: make(chan struct{})}
	r := newCachedResolver(t, g)

	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { _, _ = r.Get(context.Background(), "K") })
	}
	waitFor(t, fmt.Sprintf("%d requests are in flight at once", n), func() bool { return g.calls.Load() == n })
	close(g.gate)
	wg.Wait()
}

func TestCacheKeepsValues(t *testing.T) {
	g := &gatedCloud{values: map[string]string{"S": `"plain"`, "J": `"{\"x\": 42}"`, "N": `null`}}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 0))
	ctx := context.Background()

	for range 3 {
		if v := mustGet(t, r, "S"); v != "plain" {
			t.Fatalf("Get(S) = %v", v)
		}
		if v := mustGet(t, r, "J"); !reflect.DeepEqual(v, map[string]any{"x": int64(42)}) {
			t.Fatalf("Get(J) = %#v", v)
		}
		if v := mustGet(t, r, "N"); v != nil {
			t.Fatalf("Get(N) = %#v, want nil", v)
		}
	}
	s, err := r.GetString(ctx, "J")
	if err != nil || s != `{"x": 42}` {
		t.Fatalf("GetString(J) = %q, %v", s, err)
	}
	var into struct{ X int }
	if err := r.Decode(ctx, "J", &into); err != nil || into.X != 42 {
		t.Fatalf("Decode(J) = %+v, %v", into, err)
	}

	if n := g.calls.Load(); n != 3 {
		t.Errorf("Cloud was asked %d times, want once per secret (3)", n)
	}
}

func TestCacheKeepsNoErrors(t *testing.T) {
	g := &gatedCloud{values: map[string]string{}}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 0))
	ctx := context.Background()

	for range 2 {
		if _, err := r.Get(ctx, "LATER"); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("Get(LATER) err = %v, want not found", err)
		}
	}
	if n := g.calls.Load(); n != 2 {
		t.Fatalf("not-found was kept: %d requests for 2 Gets", n)
	}

	g.set("LATER", `"here now"`)
	g.setFail(&client.Error{Op: "secret_value", Name: "LATER", Err: client.ErrTransient})
	for range 2 {
		if _, err := r.Get(ctx, "LATER"); !errors.Is(err, client.ErrTransient) {
			t.Fatalf("Get(LATER) err = %v, want transient", err)
		}
	}
	if n := g.calls.Load(); n != 4 {
		t.Fatalf("an error was kept: %d requests for 4 Gets", n)
	}

	g.setFail(nil)
	if v := mustGet(t, r, "LATER"); v != "here now" {
		t.Fatalf("Get(LATER) = %v after the errors", v)
	}
}

func TestCachedMapsAreNotShared(t *testing.T) {
	g := &gatedCloud{values: map[string]string{
		"OBJ":  `{"a": [1, {"b": "c"}], "n": 1.5}`,
		"LIST": `"[1, 2]"`,
	}}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 0))

	first := mustGet(t, r, "OBJ").(map[string]any)
	first["a"].([]any)[1].(map[string]any)["b"] = "changed"
	first["added"] = true
	list := mustGet(t, r, "LIST").([]any)
	list[0] = "changed"

	want := map[string]any{"a": []any{int64(1), map[string]any{"b": "c"}}, "n": 1.5}
	if v := mustGet(t, r, "OBJ"); !reflect.DeepEqual(v, want) {
		t.Errorf("second Get(OBJ) = %#v, want %#v: a caller's change leaked into the cache", v, want)
	}
	if v := mustGet(t, r, "LIST"); !reflect.DeepEqual(v, []any{int64(1), int64(2)}) {
		t.Errorf("second Get(LIST) = %#v: a caller's change leaked into the cache", v)
	}
	if n := g.calls.Load(); n != 2 {
		t.Errorf("Cloud was asked %d times, want 2", n)
	}
}

func TestCacheInvalidation(t *testing.T) {
	g := &gatedCloud{values: map[string]string{"A": `"a1"`, "B": `"b1"`}}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 0))

	mustGet(t, r, "A")
	mustGet(t, r, "B")
	g.set("A", `"a2"`)
	g.set("B", `"b2"`)

	steps := []struct {
		do        func()
		name      string
		want      string
		wantCalls int32
	}{
		{nil, "A", "a1", 2},                          // cached: the change is not seen yet
		{func() { r.Invalidate("A") }, "A", "a2", 3}, // asks again
		{nil, "B", "b1", 3},                          // B is still cached
		{r.InvalidateAll, "B", "b2", 4},
		{nil, "A", "a2", 5}, // A was dropped by InvalidateAll too
		{nil, "A", "a2", 5},
	}
	for i, s := range steps {
		if s.do != nil {
			s.do()
		}
		if v := mustGet(t, r, s.name); v != s.want {
			t.Fatalf("step %d: Get(%s) = %v, want %s", i+1, s.name, v, s.want)
		}
		if n := g.calls.Load(); n != s.wantCalls {
			t.Fatalf("step %d: %d requests so far, want %d", i+1, n, s.wantCalls)
		}
	}
}

func TestCacheDropsLeastRecentlyUsed(t *testing.T) {
	g := &gatedCloud{values: map[string]string{"A": `1`, "B": `2`, "C": `3`}}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 2))

	steps := []struct {
		name      string
		wantCalls int32
	}{
		{"A", 1}, {"B", 2},
		{"A", 2}, // hit: A is now the most recently used
		{"C", 3}, // over the maximum: B, the least recently used, goes
		{"A", 3}, // still there
		{"B", 4}, // asked again
	}
	for i, s := range steps {
		mustGet(t, r, s.name)
		if n := g.calls.Load(); n != s.wantCalls {
			t.Fatalf("step %d, Get(%s): %d requests so far, want %d", i+1, s.name, n, s.wantCalls)
		}
	}
}

// 1,000 concurrent Gets of a name that is not cached make one request.
func TestCacheMergesConcurrentMisses(t *testing.T) {
	const n = 1000
	g := &gatedCloud{
		values:  map[string]string{"HOT": `"v"`},
		entered: make(chan struct{}, n),
		gate:    make(chan struct{}),
	}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 0))

	var started, done sync.WaitGroup
	var wrong atomic.Int32
	started.Add(n)
	for range n {
		done.Go(func() {
			started.Done()
			if v, err := r.Get(context.Background(), "HOT"); err != nil || v != "v" {
				wrong.Add(1)
			}
		})
	}

	// Hold the first request until every goroutine has started, and a little
	// longer so that most are waiting inside Get; the cache would serve any
	// latecomer anyway, so the count does not depend on this pause.
	<-g.entered
	started.Wait()
	time.Sleep(50 * time.Millisecond)
	close(g.gate)
	done.Wait()

	if got := g.calls.Load(); got != 1 {
		t.Errorf("%d concurrent Gets made %d requests, want 1", n, got)
	}
	if w := wrong.Load(); w != 0 {
		t.Errorf("%d Gets did not get the value", w)
	}
}

// An invalidation while a request is in flight keeps its answer out of the
// cache: the answer may predate the change that the invalidation announced.
func TestInvalidateDuringRequestKeepsItsAnswerOut(t *testing.T) {
	g := &gatedCloud{values: map[string]string{"K": `"old"`}, entered: make(chan struct{}, 4), gate: make(chan struct{})}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 0))

	got := make(chan any, 1)
	go func() {
		v, _ := r.Get(context.Background(), "K")
		got <- v
	}()
	<-g.entered
	r.Invalidate("K")
	g.set("K", `"new"`)
	close(g.gate)

	if v := <-got; v != "old" {
		t.Fatalf("the Get in flight returned %v, want old", v)
	}
	if v := mustGet(t, r, "K"); v != "new" {
		t.Errorf("Get after Invalidate = %v, want new", v)
	}
	if n := g.calls.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// A Get waiting for a shared request stops at its own context's end; the
// request goes on for the others.
func TestWaitingGetEndsWithItsContext(t *testing.T) {
	g := &gatedCloud{values: map[string]string{"K": `"v"`}, entered: make(chan struct{}, 4), gate: make(chan struct{})}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 0))

	patient := make(chan any, 1)
	go func() {
		v, _ := r.Get(context.Background(), "K")
		patient <- v
	}()
	<-g.entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Get(ctx, "K")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with an ended context: err = %v, want context.Canceled", err)
	}
	if want := `secret "K"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the secret", err)
	}

	close(g.gate)
	if v := <-patient; v != "v" {
		t.Errorf("the patient Get returned %v, want v", v)
	}
	if n := g.calls.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestWithCacheOptions(t *testing.T) {
	tests := []struct {
		name      string
		cacheTTL  time.Duration // in the configuration
		opts      []secrets.Option
		wantErr   bool
		wantCalls int32 // for 3 Gets
	}{
		{name: "off by default", wantCalls: 3},
		{name: "from the configuration", cacheTTL: time.Hour, wantCalls: 1},
		{name: "option turns it on", opts: []secrets.Option{secrets.WithCache(time.Hour, 10)}, wantCalls: 1},
		{name: "zero TTL option turns it off", cacheTTL: time.Hour, opts: []secrets.Option{secrets.WithCache(0, 0)}, wantCalls: 3},
		{name: "negative TTL is refused", opts: []secrets.Option{secrets.WithCache(-time.Second, 0)}, wantErr: true},
		{name: "negative maximum is refused", opts: []secrets.Option{secrets.WithCache(time.Second, -1)}, wantErr: true},
		{name: "negative configured TTL is refused", cacheTTL: -time.Second, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gatedCloud{values: map[string]string{"K": `"v"`}}
			cfg := secrets.DefaultConfig()
			cfg.UseLocalSecrets = false
			cfg.CacheTTL = tt.cacheTTL
			r, err := secrets.NewResolver(cfg, append([]secrets.Option{secrets.WithCloud(g)}, tt.opts...)...)
			if tt.wantErr {
				if err == nil {
					t.Fatal("NewResolver succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				mustGet(t, r, "K")
			}
			if n := g.calls.Load(); n != tt.wantCalls {
				t.Errorf("%d requests for 3 Gets, want %d", n, tt.wantCalls)
			}
		})
	}
}

// The cache sits behind the context: a context secret never reaches it, and
// invalidating without a cache does nothing.
func TestCacheComesAfterTheContext(t *testing.T) {
	g := &gatedCloud{values: map[string]string{"K": `"cloud"`}}
	r := newCachedResolver(t, g, secrets.WithCache(time.Hour, 0))
	ctx := secrets.WithSecrets(context.Background(), map[string]any{"K": "ctx"})

	if v, err := r.Get(ctx, "K"); err != nil || v != "ctx" {
		t.Fatalf("Get(K) = %v, %v; want the context's value", v, err)
	}
	if v := mustGet(t, r, "K"); v != "cloud" {
		t.Fatalf("Get(K) without context = %v", v)
	}
	if v, err := r.Get(ctx, "K"); err != nil || v != "ctx" {
		t.Fatalf("Get(K) = %v, %v after caching; want the context's value", v, err)
	}

	off := newCachedResolver(t, g)
	off.Invalidate("K")
	off.InvalidateAll()
}
