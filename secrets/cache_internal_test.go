package secrets

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"
)

// countingCloud answers every name with the same value and counts.
type countingCloud struct{ calls atomic.Int32 }

func (c *countingCloud) SecretValue(context.Context, string) (json.RawMessage, error) {
	c.calls.Add(1)
	return json.RawMessage(`"v"`), nil
}

func (c *countingCloud) SecretNames(context.Context) ([]string, error) { return nil, nil }

// An entry serves Gets until its TTL has passed; then it is dropped and the
// next Get asks again.
func TestCacheEntriesExpire(t *testing.T) {
	cloud := &countingCloud{}
	cfg := DefaultConfig()
	cfg.UseLocalSecrets = false
	r, err := NewResolver(cfg, WithCloud(cloud), WithCache(time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	for want := int32(1); want <= 3; want++ {
		if _, err := r.Get(ctx, "K"); err != nil {
			t.Fatal(err)
		}
		if n := cloud.calls.Load(); n != want {
			t.Fatalf("Get %d after the entry expired made %d requests in all, want %d", want, n, want)
		}
		deadline := time.Now().Add(20 * time.Second)
		for r.cache.len() != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the entry was not dropped within 20 s of a 1 ms TTL")
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// Replacing, evicting and invalidating entries stop their timers, and a
// timer that fires late never drops a newer entry of the same name.
func TestCacheTimersFollowTheirEntries(t *testing.T) {
	c := newSecretCache(time.Hour, 1)
	a1, a2, b := newCacheEntry("A", json.RawMessage(`1`)), newCacheEntry("A", json.RawMessage(`2`)), newCacheEntry("B", json.RawMessage(`3`))

	c.put(a1, c.generation())
	c.put(a2, c.generation()) // replaces a1
	if a1.expiry.Stop() {
		t.Error("the replaced entry's timer is still running")
	}
	c.expire(a1) // a1's timer firing late
	if got := c.get("A"); got != a2 {
		t.Fatalf("a late timer of the replaced entry dropped its successor")
	}

	c.put(b, c.generation()) // over the maximum of 1: evicts a2
	if a2.expiry.Stop() {
		t.Error("the evicted entry's timer is still running")
	}
	c.invalidateAll()
	if b.expiry.Stop() {
		t.Error("InvalidateAll left a timer running")
	}
	if n := c.len(); n != 0 {
		t.Errorf("%d entries after InvalidateAll", n)
	}
}

// The cache never holds more than its maximum, however many names are read.
func TestCacheStaysWithinItsMaximum(t *testing.T) {
	cloud := &countingCloud{}
	cfg := DefaultConfig()
	cfg.UseLocalSecrets = false
	r, err := NewResolver(cfg, WithCloud(cloud), WithCache(time.Hour, 5))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := r.Get(context.Background(), string(rune('A'+i))); err != nil {
			t.Fatal(err)
		}
		if n := r.cache.len(); n > 5 {
			t.Fatalf("after %d names the cache holds %d entries, more than 5", i+1, n)
		}
	}
	if n := r.cache.len(); n != 5 {
		t.Errorf("cache holds %d entries, want 5", n)
	}
}

func TestDeepCopyCopiesEveryContainer(t *testing.T) {
	orig := map[string]any{"a": []any{map[string]any{"b": []any{"c"}}}, "s": "x"}
	cp := deepCopy(orig).(map[string]any)
	cp["a"].([]any)[0].(map[string]any)["b"].([]any)[0] = "changed"
	cp["s"] = "changed"

	if got := orig["a"].([]any)[0].(map[string]any)["b"].([]any)[0]; got != "c" {
		t.Errorf("a nested slice is shared: original now holds %v", got)
	}
	if orig["s"] != "x" {
		t.Errorf("the top map is shared")
	}
}
