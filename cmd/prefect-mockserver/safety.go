package main

import (
	"flag"
	"fmt"
	"io"
	"net"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// safetyFlags are the flags that decide who may reach the server, what it
// keeps on disk and how much one request may ask of it.
type safetyFlags struct {
	allowRemote    bool
	data           string
	maxBody        int64
	maxName        int
	maxValue       int
	maxDepth       int
	maxComplexity  int
	maxQueryTokens int
}

// register adds the safety flags to fs.
func (f *safetyFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow an --addr that is not loopback; needs at least one --token")
	fs.StringVar(&f.data, "data", "", "keep the secrets in `FILE` too, so that every acknowledged change survives a crash")
	fs.Int64Var(&f.maxBody, "max-body", 0, "refuse request bodies over `BYTES` (0: 1 MiB)")
	fs.IntVar(&f.maxName, "max-name", 0, fmt.Sprintf("refuse secret names over `BYTES` (0: %d)", mockserver.DefaultMaxNameBytes))
	fs.IntVar(&f.maxValue, "max-value", 0, fmt.Sprintf("refuse secret values over `BYTES` of compact JSON (0: %d)", mockserver.DefaultMaxValueBytes))
	fs.IntVar(&f.maxDepth, "max-depth", 0, fmt.Sprintf("refuse operations nested over `N` levels (0: %d)", mockserver.DefaultMaxDepth))
	fs.IntVar(&f.maxComplexity, "max-complexity", 0, fmt.Sprintf("refuse operations of complexity over `N` (0: %d)", mockserver.DefaultMaxComplexity))
	fs.IntVar(&f.maxQueryTokens, "max-query-tokens", 0, fmt.Sprintf("refuse queries of over `N` GraphQL tokens (0: %d)", mockserver.DefaultMaxQueryTokens))
}

// apply puts the data file and the limits into opts; mockserver.New checks
// them.
func (f *safetyFlags) apply(opts *mockserver.Options) {
	opts.DataFile = f.data
	opts.MaxBodyBytes = f.maxBody
	opts.MaxNameBytes = f.maxName
	opts.MaxValueBytes = f.maxValue
	opts.MaxDepth = f.maxDepth
	opts.MaxComplexity = f.maxComplexity
	opts.MaxQueryTokens = f.maxQueryTokens
}

// check refuses a negative limit, and, before anything listens, an --addr
// that is not loopback unless --allow-remote is given along with at least
// one token. The server has no TLS, so beyond loopback its tokens and
// values cross the network in clear; an open server there would hand them
// to anyone.
func (f *safetyFlags) check(addr string, tokens int) error {
	limits := []struct {
		flag  string
		value int64
	}{
		{"--max-body", f.maxBody},
		{"--max-name", int64(f.maxName)},
		{"--max-value", int64(f.maxValue)},
		{"--max-depth", int64(f.maxDepth)},
		{"--max-complexity", int64(f.maxComplexity)},
		{"--max-query-tokens", int64(f.maxQueryTokens)},
	}
	for _, l := range limits {
		if l.value < 0 {
			return fmt.Errorf("%s %d is negative; 0 keeps the default", l.flag, l.value)
		}
	}

	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("--addr %s: want host:port, such as 127.0.0.1:4200", addr)
	}
	if isLoopbackAddr(addr) {
		return nil
	}
	if !f.allowRemote {
		return fmt.Errorf("--addr %s is not a loopback address: the mock has no TLS and listens on loopback only, "+
			"unless --allow-remote is given with at least one --token", addr)
	}
	if tokens == 0 {
		return fmt.Errorf("--allow-remote needs at least one --token: without one, anyone who can reach %s "+
			"could read and change every secret", addr)
	}
	return nil
}

// warnRemote says on stderr that the server listens beyond loopback, which
// only --allow-remote permits.
func (f *safetyFlags) warnRemote(stderr io.Writer, addr string) {
	if !isLoopbackAddr(addr) {
		fmt.Fprintf(stderr, "%s: listening on %s beyond loopback, over plain http: tokens and values cross the network unencrypted\n", name, addr)
	}
}

// isLoopbackAddr reports whether the host of a host:port address is a
// loopback IP address or "localhost". An empty host means every interface,
// and a host name other than localhost could resolve to anything: neither
// is loopback.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
