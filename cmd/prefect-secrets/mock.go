package main

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// startMock serves the secrets in seedFile from an in-process mock API on a
// free loopback port, behind a fresh random token.
func startMock(seedFile string) (url, token string, stop func(context.Context), err error) {
	seed, err := mockserver.LoadSeedFile(seedFile)
	if err != nil {
		return "", "", nil, &usageError{msg: err.Error()}
	}
	token = rand.Text()
	srv, err := mockserver.New(mockserver.Options{
		Tokens: map[string]string{token: mockserver.DefaultTenant},
		Seed:   seed,
	})
	if err != nil {
		return "", "", nil, fmt.Errorf("starting the mock API: %w", err)
	}
	running, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return "", "", nil, fmt.Errorf("starting the mock API: %w", err)
	}
	return running.URL(), token, func(ctx context.Context) { _ = running.Close(ctx) }, nil
}
