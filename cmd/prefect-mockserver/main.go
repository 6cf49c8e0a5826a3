// Command prefect-mockserver serves an in-memory mock of the Prefect Cloud
// secrets GraphQL API, for trying clients without Prefect Cloud.
//
// Usage:
//
//	prefect-mockserver [--addr 127.0.0.1:4200] [--token TOKEN[=TENANT]]... [--seed FILE] [--log]
//
// The first line on standard output is the server's base URL; nothing else is
// written there. With no --token the server is open: every request acts on
// the tenant "default". SIGINT or SIGTERM stops it gracefully.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
