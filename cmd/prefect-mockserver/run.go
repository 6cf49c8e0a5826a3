package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// Exit codes of run.
const (
	exitOK    = 0
	exitError = 1 // the server could not start or stop
	exitUsage = 2 // bad flags or seed file
)

// shutdownTimeout bounds how long requests in flight may run after a signal.
const shutdownTimeout = 5 * time.Second

// run is the whole command: it serves until ctx ends and returns the exit code.
// stdout gets the base URL and nothing else; messages go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitUsage
	}

	opts, err := cfg.options(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitUsage
	}

	srv, err := mockserver.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitUsage
	}
	defer func() { _ = srv.Close() }() // releases --data FILE

	running, err := srv.Start(cfg.addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitError
	}

	fmt.Fprintln(stdout, running.URL())
	if f, ok := stdout.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	if len(opts.Tokens) == 0 {
		fmt.Fprintf(stderr, "%s: no --token given: the server is open and accepts any request as tenant %q\n",
			name, mockserver.DefaultTenant)
	}
	announceFaults(stderr, srv.Faults())
	cfg.safety.warnRemote(stderr, cfg.addr)

	<-ctx.Done()

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := running.Close(stopCtx); err != nil {
		fmt.Fprintf(stderr, "%s: shutting down: %v\n", name, err)
		return exitError
	}
	return exitOK
}

// options turns the parsed flags into server options, reading the seed file.
// With --log, requests are logged as text to stderr.
func (c config) options(stderr io.Writer) (mockserver.Options, error) {
	opts := mockserver.Options{Tokens: c.tokens, AdminToken: c.adminToken, Faults: c.faults}
	c.safety.apply(&opts)

	if c.seed != "" {
		seed, err := mockserver.LoadSeedFile(c.seed)
		if err != nil {
			return opts, err
		}
		opts.Seed = seed
	}

	if c.log {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	return opts, nil
}
