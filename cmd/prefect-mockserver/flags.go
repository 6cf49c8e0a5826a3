package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// name is the command's name, for messages.
const name = "prefect-mockserver"

// config is what the command line asks for.
type config struct {
	addr       string
	tokens     map[string]string
	adminToken string
	seed       string
	log        bool
	faults     mockserver.Faults
	safety     safetyFlags // --allow-remote, --data and the limits (safety.go)
}

// tokenList collects repeated --token values. It never prints them: its
// String is empty, and parsing happens after flag.Parse, so that no flag
// error can quote a token.
type tokenList []string

func (l *tokenList) String() string { return "" }

func (l *tokenList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// parseFlags parses args. For -h it writes the usage to stderr and returns
// flag.ErrHelp; any other error is one line for the caller to print.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var tokens tokenList

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:4200", "listen on `host:port`; port 0 picks a free port")
	fs.Var(&tokens, "token", "accept the API `TOKEN[=TENANT]` (repeatable); TENANT defaults to \""+mockserver.DefaultTenant+"\"")
	fs.StringVar(&cfg.adminToken, "admin-token", "", "accept only `TOKEN` on /_mock/faults and /_mock/stats (without it they take any --token)")
	fs.StringVar(&cfg.seed, "seed", "", "load secrets for the default tenant from a JSON object in `FILE`")
	fs.BoolVar(&cfg.log, "log", false, "log one line per request to stderr")
	var faults faultFlags
	faults.register(fs)
	cfg.safety.register(fs)

	err := parseQuietly(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "Usage: %s [flags]\n\nServes a mock of the Prefect Cloud secrets GraphQL API.\n\nFlags:\n", name)
		fs.PrintDefaults()
		return cfg, err
	}
	if err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument in position %d; every option is a --flag (run with -h for usage)", len(args)-fs.NArg()+1)
	}

	cfg.tokens, err = parseTokens(tokens)
	if err != nil {
		return cfg, err
	}
	if err := cfg.safety.check(cfg.addr, len(cfg.tokens)); err != nil {
		return cfg, err
	}
	cfg.faults, err = faults.plan()
	return cfg, err
}

// parseTokens turns --token values into the token -> tenant map. Its errors
// say which --token is wrong by position, never by value.
func parseTokens(values []string) (map[string]string, error) {
	tokens := make(map[string]string, len(values))
	for i, v := range values {
		token, tenant, err := mockserver.ParseToken(v)
		if err != nil {
			return nil, fmt.Errorf("--token #%d: %w", i+1, err)
		}
		if _, dup := tokens[token]; dup {
			return nil, fmt.Errorf("--token #%d: the same token is given more than once", i+1)
		}
		tokens[token] = tenant
	}
	return tokens, nil
}
