package benchcases

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/go-cleanhttp"
)

// LoadConnections is how many connections the throughput benchmarks keep
// busy at once.
const LoadConnections = 64

// BenchmarkLoad posts x's request bytes to url from [LoadConnections]
// goroutines, each on a connection of its own, b.N requests in all. Its
// ns/op is wall time per request under that load, so 1e9 / (ns/op) is
// the server's throughput in requests per second.
func BenchmarkLoad(b *testing.B, url string, x *Exchange) {
	clients := make([]*http.Client, LoadConnections)
	for i := range clients {
		t := cleanhttp.DefaultPooledTransport()
		t.MaxConnsPerHost, t.MaxIdleConnsPerHost = 1, 1
		clients[i] = &http.Client{Transport: t}
		defer clients[i].CloseIdleConnections()
	}

	// Open every connection before the clock starts.
	if err := runLoad(clients, url, x, int64(len(clients))); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	if err := runLoad(clients, url, x, int64(b.N)); err != nil {
		b.Fatal(err)
	}
}

// runLoad sends n requests in all, one goroutine per client, and returns
// the first error any of them met.
func runLoad(clients []*http.Client, url string, x *Exchange, n int64) error {
	var (
		left    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	left.Store(n)
	for _, hc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := post(hc, url, x); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
