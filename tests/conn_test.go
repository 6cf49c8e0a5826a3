package tests

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/mockserver"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// countingServer serves h on a loopback port and counts the connections
// clients open to it.
func countingServer(t *testing.T, h http.Handler) (url string, opened *atomic.Int32) {
	t.Helper()
	opened = &atomic.Int32{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, opened
}

// newSeededMock returns a mock API behind token holding seed.
func newSeededMock(t *testing.T, seed map[string]string) *mockserver.Server {
	t.Helper()
	values := make(map[string]json.RawMessage, len(seed))
	for k, v := range seed {
		values[k] = json.RawMessage(v)
	}
	srv, err := mockserver.New(mockserver.Options{
		Tokens: map[string]string{token: mockserver.DefaultTenant},
		Seed:   values,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// The default client keeps its connection alive: 1,000 sequential calls,
// answered with values or with errors, open at most 2 connections.
func TestDefaultClientReusesConnections(t *testing.T) {
	const calls = 1000
	tests := []struct {
		name string
		call func(ctx context.Context, url string) error
	}{
		{"values through the client", func(ctx context.Context, url string) error {
			c, err := client.New(url+"/graphql", client.WithToken(token))
			if err != nil {
				return err
			}
			for range calls {
				if _, err := c.SecretValue(ctx, "K"); err != nil {
					return err
				}
			}
			return nil
		}},
		{"not-found answers", func(ctx context.Context, url string) error {
			c, err := client.New(url+"/graphql", client.WithToken(token))
			if err != nil {
				return err
			}
			for range calls {
				if _, err := c.SecretValue(ctx, "MISSING"); !errors.Is(err, client.ErrNotFound) {
					return err
				}
			}
			return nil
		}},
		{"refused token", func(ctx context.Context, url string) error {
			c, err := client.New(url+"/graphql", client.WithToken("not-"+token))
			if err != nil {
				return err
			}
			for range calls {
				if _, err := c.SecretValue(ctx, "K"); !errors.Is(err, client.ErrUnauthenticated) {
					return err
				}
			}
			return nil
		}},
		{"Gets through a Resolver", func(ctx context.Context, url string) error {
			cfg := secrets.DefaultConfig()
			cfg.API, cfg.AuthToken, cfg.UseLocalSecrets = url, token, false
			r, err := secrets.NewResolver(cfg)
			if err != nil {
				return err
			}
			for range calls {
				if v, err := r.Get(ctx, "K"); err != nil || v != "v" {
					return errors.Join(err, errors.New("wrong value"))
				}
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, opened := countingServer(t, newSeededMock(t, map[string]string{"K": `"v"`}).Handler())
			if err := tt.call(context.Background(), url); err != nil {
				t.Fatalf("after %d connections: %v", opened.Load(), err)
			}
			if n := opened.Load(); n > 2 || n < 1 {
				t.Errorf("%d sequential calls opened %d connections, want 1 or 2", calls, n)
			}
		})
	}
}
