// Command prefect-mockserver serves an in-memory mock of the Prefect Cloud
// secrets GraphQL API, for trying clients without Prefect Cloud.
//
// Usage:
//
//	prefect-mockserver [--addr 127.0.0.1:4200] [--token TOKEN[=TENANT]]... [--admin-token TOKEN]
//	                   [--seed FILE] [--log]
//	                   [--fault-rate R] [--fault KIND=R]... [--fault-seed N]
//	                   [--fault-latency D] [--fault-retry-after SECONDS]
//	                   [--data FILE] [--allow-remote] [--max-body BYTES] [--max-name BYTES]
//	                   [--max-value BYTES] [--max-depth N] [--max-complexity N] [--max-query-tokens N]
//
// The server listens on loopback only unless --allow-remote is given with at
// least one --token. --data FILE keeps the secrets in FILE, so that every
// acknowledged change survives a crash; a damaged FILE is refused.
//
// The --fault flags inject failures into GraphQL requests for testing
// clients (see mockserver.Faults); the seed in use is printed on stderr.
// --admin-token keeps /_mock/faults and /_mock/stats from the API tokens.
//
// On loopback the server answers only requests whose Host names loopback,
// and, like everywhere, refuses a web page's request from another origin
// and a GraphQL request that is not application/json. Flag errors name the
// flag, or an unknown flag's position, and never quote what was given.
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
