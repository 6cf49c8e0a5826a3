package secrets

import (
	"encoding/json"
	"testing"
)

// BenchmarkCachedMapValue compares the two ways a cache hit can hand out a
// JSON object without sharing it: a deep copy of the decoded map (what the
// cache does) and decoding the kept JSON again.
func BenchmarkCachedMapValue(b *testing.B) {
	raw := json.RawMessage(`{"host": "db.internal", "port": 5432, "tls": true, "replicas": ["a", "b"]}`)
	e := newCacheEntry("DB", raw)
	if !e.mutable {
		b.Fatal("a map entry is not marked mutable")
	}

	b.Run("deep-copy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = e.getValue()
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = stored{raw: e.raw, fromCloud: true}.value()
		}
	})
}
