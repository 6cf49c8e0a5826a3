// Package benchcases holds the module's performance benchmarks as plain
// functions of *testing.B, so that the packages' *_bench_test.go files (for
// go test -bench) and the bench command (go run ./bench, which runs them side
// by side with testing.Benchmark) measure exactly the same code.
//
// Every server a benchmark starts listens on 127.0.0.1 with a free port, and
// every request goes there: nothing leaves the machine.
package benchcases

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/mockserver"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// The secrets the benchmarks read, and the token the mock takes.
const (
	SecretName  = "API_TOKEN" // a string
	MapName     = "DB_CONFIG" // a JSON object
	secretValue = "tok_3f9a1c2e7b5d4a8f9e0c1b2a3d4e5f60"
	mapValue    = `{"host": "db.internal", "port": 5432, "tls": true}`
	benchToken  = "bench-token-5501"
)

// mapWant is mapValue as Get returns it.
func mapWant() map[string]any {
	return map[string]any{"host": "db.internal", "port": int64(5432), "tls": true}
}

// Mock is a mock Prefect Cloud API serving on a loopback port, holding
// [SecretName] and, to reach the requested size, filler secrets.
type Mock struct {
	running *mockserver.Running
	url     string
	size    int
}

// StartMock starts a mock API on 127.0.0.1 holding secrets secrets in all
// (at least two: [SecretName] and [MapName]).
func StartMock(secrets int) (*Mock, error) {
	seed := make(map[string]json.RawMessage, max(secrets, 2))
	seed[SecretName] = json.RawMessage(`"` + secretValue + `"`)
	seed[MapName] = json.RawMessage(mapValue)
	for i := 2; i < secrets; i++ {
		seed[fmt.Sprintf("FILLER_%06d", i)] = json.RawMessage(fmt.Sprintf(`"filler value %d"`, i))
	}

	srv, err := mockserver.New(mockserver.Options{
		Tokens: map[string]string{benchToken: mockserver.DefaultTenant},
		Seed:   seed,
	})
	if err != nil {
		return nil, err
	}
	running, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &Mock{running: running, url: running.URL(), size: len(seed)}, nil
}

// URL is the mock's base URL, e.g. "http://127.0.0.1:40123".
func (m *Mock) URL() string { return m.url }

// Size is how many secrets the mock holds.
func (m *Mock) Size() int { return m.size }

// Close stops the mock.
func (m *Mock) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = m.running.Close(ctx)
}

// Config is a Cloud-mode configuration pointing at the mock.
func (m *Mock) Config() secrets.Config {
	cfg := secrets.DefaultConfig()
	cfg.API = m.url
	cfg.AuthToken = benchToken
	cfg.UseLocalSecrets = false
	return cfg
}

// Resolver returns a Cloud-mode Resolver with the default client, which
// keeps its connection to the mock alive between Gets.
func (m *Mock) Resolver(opts ...secrets.Option) (*secrets.Resolver, error) {
	return secrets.NewResolver(m.Config(), opts...)
}

// BenchmarkGet measures Resolver.Get of [SecretName] through the default
// client, one Get at a time over a kept-alive loopback connection.
func (m *Mock) BenchmarkGet(b *testing.B) {
	r, err := m.Resolver()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkGet(b, r, SecretName, secretValue)
}

// CacheTTL is the TTL of the cached-Get benchmarks: far longer than they run.
const CacheTTL = time.Hour

// BenchmarkCachedGetString measures a cache hit: Resolver.Get of a string
// secret with [secrets.WithCache], after one Get filled the cache.
func (m *Mock) BenchmarkCachedGetString(b *testing.B) {
	r, err := m.Resolver(secrets.WithCache(CacheTTL, 0))
	if err != nil {
		b.Fatal(err)
	}
	benchmarkGet(b, r, SecretName, secretValue)
}

// BenchmarkCachedGetMap measures a cache hit of a JSON object secret: each
// Get gets its own deep copy of the cached map.
func (m *Mock) BenchmarkCachedGetMap(b *testing.B) {
	r, err := m.Resolver(secrets.WithCache(CacheTTL, 0))
	if err != nil {
		b.Fatal(err)
	}
	benchmarkGet(b, r, MapName, mapWant())
}

// benchmarkGet runs r.Get(name) b.N times after one warm-up Get that opens
// the connection (or fills the cache) and checks the value.
func benchmarkGet(b *testing.B, r *secrets.Resolver, name string, want any) {
	ctx := context.Background()
	if v, err := r.Get(ctx, name); err != nil || !reflect.DeepEqual(v, want) {
		b.Fatalf("warm-up Get(%s) does not give the expected value (err %v)", name, err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := r.Get(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
}

// Exchange is one request the client sends and the answer the mock gives,
// byte for byte, for the floor and the load benchmarks.
type Exchange struct {
	URL            string
	Header         http.Header // the request's headers the client set
	Body           []byte
	ResponseHeader http.Header
	Response       []byte
}

// Record has the default client ask the mock for [SecretName] once and
// returns the exchange as it crossed the loopback socket.
func (m *Mock) Record() (*Exchange, error) {
	rec := &recorder{next: cleanhttp.DefaultPooledTransport()}
	c, err := client.New(m.url+"/graphql", client.WithToken(benchToken), client.WithTransport(rec))
	if err != nil {
		return nil, err
	}
	if _, err := c.SecretValue(context.Background(), SecretName); err != nil {
		return nil, err
	}
	if rec.x == nil {
		return nil, errors.New("benchcases: no exchange was recorded")
	}
	return rec.x, nil
}

// recorder is a RoundTripper that keeps the last exchange it carried.
type recorder struct {
	next http.RoundTripper
	x    *Exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))

	resp, err := r.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))

	r.x = &Exchange{
		URL:            req.URL.String(),
		Header:         req.Header.Clone(),
		Body:           body,
		ResponseHeader: resp.Header.Clone(),
		Response:       answer,
	}
	return resp, nil
}

// StartWithFloor starts a mock holding the given number of secrets, records
// one Get against it, and starts a floor server answering that exchange's
// bytes; tb's cleanup stops both.
func StartWithFloor(tb testing.TB, secrets int) (*Mock, *Floor, *Exchange) {
	tb.Helper()
	mock, err := StartMock(secrets)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(mock.Close)
	x, err := mock.Record()
	if err != nil {
		tb.Fatal(err)
	}
	floor, err := StartFloor(x)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(floor.Close)
	return mock, floor, x
}

// Floor is a bare net/http server on a loopback port that answers every
// request with the bytes of a recorded answer: what a Get would cost if
// neither client nor server did any work beyond HTTP.
type Floor struct {
	x   *Exchange
	srv *http.Server
	url string
	wg  sync.WaitGroup
}

// StartFloor serves x's answer on 127.0.0.1, with the same http.Server
// settings as the mock's [mockserver.Server.Start].
func StartFloor(x *Exchange) (*Floor, error) {
	contentType := x.ResponseHeader.Get("Content-Type")
	answer := x.Response
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(answer)
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &Floor{
		x:   x,
		srv: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second},
		url: "http://" + ln.Addr().String() + "/graphql",
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		_ = f.srv.Serve(ln)
	}()
	return f, nil
}

// URL is the floor server's endpoint.
func (f *Floor) URL() string { return f.url }

// Close stops the floor server.
func (f *Floor) Close() {
	_ = f.srv.Close()
	f.wg.Wait()
}

// BenchmarkPost measures the floor: a bare net/http POST of the recorded
// request bytes, answer read to the end, one at a time over a kept-alive
// connection, with the same transport settings as the client's default.
func (f *Floor) BenchmarkPost(b *testing.B) {
	hc := &http.Client{Transport: cleanhttp.DefaultPooledTransport()}
	defer hc.CloseIdleConnections()
	if err := post(hc, f.url, f.x); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := post(hc, f.url, f.x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet measures Resolver.Get with the default client against the
// floor server: the client's own cost over the floor, with no mock behind.
func (f *Floor) BenchmarkGet(b *testing.B) {
	cfg := secrets.DefaultConfig()
	cfg.GraphQL = f.url
	cfg.AuthToken = benchToken
	cfg.UseLocalSecrets = false
	r, err := secrets.NewResolver(cfg)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkGet(b, r, SecretName, secretValue)
}

// post sends x's request bytes to url and reads the whole answer.
func post(hc *http.Client, url string, x *Exchange) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(x.Body))
	if err != nil {
		return err
	}
	for k, v := range x.Header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return err
}
