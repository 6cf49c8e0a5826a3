package mockserver_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

func TestStartServesOnLoopback(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{Tokens: map[string]string{"T": "alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecret("alpha", "K", json.RawMessage(`"v"`))

	r, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })

	if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*$`).MatchString(r.URL()) {
		t.Fatalf("URL = %q", r.URL())
	}

	c := &http.Client{Timeout: 5 * time.Second}
	status, raw := postRaw(t, c, r.URL()+"/graphql", "T", gqlBody(t, querySnake, map[string]any{"name": "K"}))
	if status != 200 || string(raw) != `{"data":{"secret_value":"v"}}` {
		t.Errorf("got %d %s", status, raw)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := c.Get(r.URL() + "/healthz"); err == nil {
		t.Error("the server still answers after Close")
	}
	if err := r.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStartURLBracketsIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ln.Close()

	s, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Start("[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })

	if !regexp.MustCompile(`^http://\[::1\]:[1-9][0-9]*$`).MatchString(r.URL()) {
		t.Fatalf("URL = %q", r.URL())
	}
	resp, err := http.Get(r.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz status = %d", resp.StatusCode)
	}
}

func TestStartFailsOnABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })

	s, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.Start(ln.Addr().String()); err == nil {
		_ = r.Close(context.Background())
		t.Fatal("Start on a busy address succeeded")
	}
}
