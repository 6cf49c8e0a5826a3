package secrets

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/prefect-go/cloudsecrets/client"
)

// DefaultCacheMaxEntries is how many Cloud secrets a [Resolver]'s cache
// holds when it is enabled without a maximum.
const DefaultCacheMaxEntries = 1024

// secretCache keeps the values Prefect Cloud answered for a while, so that a
// flow reading the same secret in a loop does not ask every time. It is off
// unless enabled ([WithCache], cloud.cache_ttl): Prefect Core asks Cloud on
// every Get.
//
// Only values are kept: errors, not-found included, never are. Concurrent
// misses of one name share one request (singleflight). A timer drops an
// entry when its TTL ends, so that a hit reads no clock (time.Now costs as
// much as the rest of a hit); past the maximum the least recently used
// entry is dropped.
type secretCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]*list.Element // of *cacheEntry
	order   *list.List               // most recently used first
	gen     uint64                   // bumped by every invalidation

	flight singleflight.Group
}

// cacheEntry is one cached secret. Its name and value fields are set before
// the entry is shared and never changed, so a hit reads them unlocked.
type cacheEntry struct {
	name    string
	raw     json.RawMessage // as Cloud answered, for GetString and Decode
	value   any             // as Get returns it
	mutable bool            // value holds maps or slices: each Get gets a copy

	expiry *time.Timer // drops the entry at the end of its TTL; under the cache's mu
}

// newSecretCache returns a cache keeping values for ttl, at most max of them
// (0: [DefaultCacheMaxEntries]).
func newSecretCache(ttl time.Duration, max int) *secretCache {
	if max <= 0 {
		max = DefaultCacheMaxEntries
	}
	return &secretCache{
		ttl:     ttl,
		max:     max,
		entries: make(map[string]*list.Element),
		order:   list.New(),
	}
}

// get returns the entry for name, or nil.
func (c *secretCache) get(name string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()

	el, ok := c.entries[name]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

// put stores e, with a timer that drops it after the TTL, unless the cache
// was invalidated since gen was read: then e may predate the invalidation
// and is not kept.
func (c *secretCache) put(e *cacheEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if gen != c.gen {
		return
	}
	if el, ok := c.entries[e.name]; ok {
		c.remove(el)
	}
	c.entries[e.name] = c.order.PushFront(e)
	e.expiry = time.AfterFunc(c.ttl, func() { c.expire(e) })
	for c.order.Len() > c.max {
		c.remove(c.order.Back())
	}
}

// expire drops e when its TTL has ended, unless it was replaced or dropped
// already.
func (c *secretCache) expire(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if el, ok := c.entries[e.name]; ok && el.Value == e {
		c.remove(el)
	}
}

// remove drops an entry and stops its timer; c.mu is held.
func (c *secretCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	e.expiry.Stop()
	c.order.Remove(el)
	delete(c.entries, e.name)
}

// generation returns the invalidation count, read before a fetch.
func (c *secretCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// invalidate drops name's entry. Requests in flight for any name are not
// stored when they end, and later misses start fresh requests.
func (c *secretCache) invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.gen++
	if el, ok := c.entries[name]; ok {
		c.remove(el)
	}
}

// invalidateAll empties the cache, with the same effect on requests in
// flight as invalidate.
func (c *secretCache) invalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.gen++
	for el := c.order.Front(); el != nil; el = el.Next() {
		el.Value.(*cacheEntry).expiry.Stop()
	}
	clear(c.entries)
	c.order.Init()
}

// len returns how many entries the cache holds.
func (c *secretCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// fetch returns name's entry, asking cloud on a miss. Concurrent misses of
// one name share a single request; a caller whose ctx ends stops waiting,
// while the shared request goes on for the others (bounded by the client's
// own time limit). Its errors are cloud's, or ctx's cause wrapped with the
// name.
func (c *secretCache) fetch(ctx context.Context, cloud Cloud, name string) (*cacheEntry, error) {
	if e := c.get(name); e != nil {
		return e, nil
	}

	// The key carries the generation, so that a miss after an invalidation
	// does not join a request that started before it.
	gen := c.generation()
	key := strconv.FormatUint(gen, 10) + "/" + name
	results := c.flight.DoChan(key, func() (any, error) {
		// A request that ended just before this one began may have filled
		// the entry.
		if e := c.get(name); e != nil {
			return e, nil
		}
		raw, err := cloud.SecretValue(context.WithoutCancel(ctx), name)
		if err != nil {
			return nil, err
		}
		e := newCacheEntry(name, raw)
		c.put(e, gen)
		return e, nil
	})

	select {
	case res := <-results:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*cacheEntry), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("secret %q: waiting for Prefect Cloud: %w", name, context.Cause(ctx))
	}
}

// newCacheEntry decodes raw once, the way Get does, for the hits to come.
func newCacheEntry(name string, raw json.RawMessage) *cacheEntry {
	v := stored{raw: raw, fromCloud: true}.value()
	return &cacheEntry{name: name, raw: raw, value: v, mutable: isMutable(v)}
}

// getValue returns the value for one Get: the cached value itself when
// nothing in it can be changed, else a deep copy, so that a caller changing
// the map it got changes nothing for the next.
func (e *cacheEntry) getValue() any {
	if !e.mutable {
		return e.value
	}
	return deepCopy(e.value)
}

// isMutable reports whether v, a decoded JSON value, holds a map or slice.
func isMutable(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// deepCopy copies the maps and slices of a decoded JSON value; the other
// values it holds (strings, numbers, bools, nil) cannot be changed.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// WithCache makes the Resolver keep Cloud's answers for ttl, at most
// maxEntries of them (0: [DefaultCacheMaxEntries]), dropping the least
// recently used beyond that. It overrides cloud.cache_ttl and
// cloud.cache_max_entries; a ttl of 0 turns the cache off.
//
// With the cache on, concurrent Gets of a name that is not cached share one
// request, and a value changed in Cloud may be seen up to ttl late; use
// [Resolver.Invalidate] after changing one. Errors, not-found included, are
// never kept. Without it every Get asks Cloud, as Prefect Core does, and
// concurrent Gets are not merged either: a Get that starts after a secret
// was changed must see the change.
//
// Each entry holds a timer until its TTL ends; [Resolver.InvalidateAll]
// stops them all at once.
func WithCache(ttl time.Duration, maxEntries int) Option {
	return func(r *Resolver) error {
		if ttl < 0 || maxEntries < 0 {
			return fmt.Errorf("WithCache: ttl (%v) and maxEntries (%d) must not be negative", ttl, maxEntries)
		}
		r.cache = nil
		if ttl > 0 {
			r.cache = newSecretCache(ttl, maxEntries)
		}
		return nil
	}
}

// cacheFromConfig enables the cache that cfg asks for, if any.
func (r *Resolver) cacheFromConfig() error {
	ttl, maxEntries := r.cfg.CacheTTL, r.cfg.CacheMaxEntries
	if ttl < 0 || maxEntries < 0 {
		return &ConfigError{File: r.cfg.File, Msg: "cloud.cache_ttl and cloud.cache_max_entries must not be negative"}
	}
	if ttl > 0 {
		r.cache = newSecretCache(ttl, maxEntries)
	}
	return nil
}

// Invalidate drops name from the Resolver's cache, so that the next Get asks
// Cloud. Requests already in flight are not cached when they end. Without a
// cache it does nothing.
func (r *Resolver) Invalidate(name string) {
	if r.cache != nil {
		r.cache.invalidate(name)
	}
}

// InvalidateAll empties the Resolver's cache; see [Resolver.Invalidate].
func (r *Resolver) InvalidateAll() {
	if r.cache != nil {
		r.cache.invalidateAll()
	}
}

// cachedLookup is lookup's Cloud step with the cache on.
func (r *Resolver) cachedLookup(ctx context.Context, cloud Cloud, name string) (stored, error) {
	e, err := r.cache.fetch(ctx, cloud, name)
	if errors.Is(err, client.ErrNotFound) {
		return stored{}, &NotFoundError{Name: name, URL: endpointOf(cloud), Err: err}
	}
	if err != nil {
		return stored{}, err
	}
	return stored{raw: e.raw, fromCloud: true, cached: e}, nil
}
