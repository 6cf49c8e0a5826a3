// Command bench runs the module's performance benchmarks side by side in one
// process and prints one line per figure, NAME VALUE first:
//
//	client/floor 1.42 # target <= 1.25: missed; ...
//	context-get/string 38.1 ns/op 0 allocs/op # target <= 100 ns, <= 1 alloc: met
//
// Each round runs every benchmark once; the two sides of a ratio run back to
// back, and a ratio is the median of its rounds' ratios, so that a change in
// the machine's load between rounds cancels out. Absolute figures are the
// median round's. Every server it starts listens on
// 127.0.0.1 and every request goes there. Targets are reported, never
// enforced: the exit status is 0 unless a benchmark could not run.
//
//	go run ./bench [-benchtime 500ms] [-rounds 5] [-big 100000]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/bench/benchcases"
)

func main() {
	testing.Init()
	benchtime := flag.Duration("benchtime", 500*time.Millisecond, "run each benchmark for about this long per round")
	rounds := flag.Int("rounds", 5, "run every benchmark this many times, in rounds, and report medians")
	bigStore := flag.Int("big", 100_000, "how many secrets the big mock store holds")
	flag.Parse()

	if err := run(os.Stdout, *benchtime, *rounds, *bigStore); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run sets up the servers, runs every benchmark and prints the figures.
func run(out io.Writer, benchtime time.Duration, rounds, bigStore int) error {
	if benchtime <= 0 || rounds < 1 || bigStore < 10 {
		return errors.New("-benchtime must be positive, -rounds at least 1, -big at least 10")
	}
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		return err
	}

	small, err := benchcases.StartMock(10)
	if err != nil {
		return fmt.Errorf("starting the mock: %w", err)
	}
	defer small.Close()
	big, err := benchcases.StartMock(bigStore)
	if err != nil {
		return fmt.Errorf("starting the big mock: %w", err)
	}
	defer big.Close()
	exchange, err := small.Record()
	if err != nil {
		return fmt.Errorf("recording an exchange with the mock: %w", err)
	}
	floor, err := benchcases.StartFloor(exchange)
	if err != nil {
		return fmt.Errorf("starting the floor server: %w", err)
	}
	defer floor.Close()

	fmt.Fprintf(out, "# go run ./bench: %s %s/%s, %d CPUs, GOMAXPROCS %d; benchtime %v, %d rounds (medians); loopback only\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), benchtime, rounds)

	mockURL := small.URL() + "/graphql"
	set := []*bench{
		{name: "client", f: small.BenchmarkGet},
		{name: "floor", f: floor.BenchmarkPost},
		{name: "client-only", f: floor.BenchmarkGet},
		{name: "mock-load", f: func(b *testing.B) { benchcases.BenchmarkLoad(b, mockURL, exchange) }},
		{name: "trivial-load", f: func(b *testing.B) { benchcases.BenchmarkLoad(b, floor.URL(), exchange) }},
		{name: "get10", f: small.BenchmarkGet},
		{name: "get100k", f: big.BenchmarkGet},
		{name: "context-get/string", f: benchcases.BenchmarkContextGetString},
		{name: "context-get/json-map", f: benchcases.BenchmarkContextGetJSONMap},
		{name: "cached-get/string", f: small.BenchmarkCachedGetString},
		{name: "cached-get/map", f: small.BenchmarkCachedGetMap},
	}
	for range rounds {
		for _, b := range set {
			if err := b.run(); err != nil {
				return err
			}
		}
	}

	by := func(name string) *bench {
		i := slices.IndexFunc(set, func(b *bench) bool { return b.name == name })
		return set[i]
	}
	ratio(out, "client/floor", by("client"), by("floor"), false, "<=", 1.25,
		"Resolver.Get through the default client against the mock, over a bare POST of the same bytes to a canned answer")
	ratio(out, "client-only/floor", by("client-only"), by("floor"), false, "", 0,
		"diagnostic: the same Get against the canned answer server, so without the mock's work")
	ratio(out, "mock/trivial", by("mock-load"), by("trivial-load"), true, ">=", 0.5,
		fmt.Sprintf("throughput at %d connections", benchcases.LoadConnections))
	ratio(out, "get100k/get10", by("get100k"), by("get10"), false, "<=", 1.1,
		fmt.Sprintf("Get against a mock holding %d secrets, over one holding %d", big.Size(), small.Size()))
	absolute(out, by("context-get/string"), 100, 1)
	absolute(out, by("context-get/json-map"), 0, -1)
	absolute(out, by("cached-get/string"), 100, 0)
	absolute(out, by("cached-get/map"), 0, -1)
	return nil
}

// bench is one benchmark and its results, one per round.
type bench struct {
	name    string
	f       func(*testing.B)
	results []testing.BenchmarkResult
}

func (b *bench) run() error {
	r := testing.Benchmark(b.f)
	if r.N == 0 {
		return fmt.Errorf("benchmark %s failed", b.name)
	}
	b.results = append(b.results, r)
	return nil
}

// median returns the result of median ns/op.
func (b *bench) median() testing.BenchmarkResult {
	rs := slices.Clone(b.results)
	slices.SortFunc(rs, func(x, y testing.BenchmarkResult) int {
		return int(nsPerOp(x) - nsPerOp(y))
	})
	return rs[len(rs)/2]
}

func nsPerOp(r testing.BenchmarkResult) float64 {
	return float64(r.T.Nanoseconds()) / float64(r.N)
}

// ratio prints the median over rounds of num/den of ns/op, or den/num when
// throughput is meant, with its target when it has one (op "").
func ratio(out io.Writer, name string, num, den *bench, throughput bool, op string, target float64, what string) {
	perRound := make([]float64, len(num.results))
	for i := range perRound {
		perRound[i] = nsPerOp(num.results[i]) / nsPerOp(den.results[i])
		if throughput {
			perRound[i] = 1 / perRound[i]
		}
	}
	slices.Sort(perRound)
	value := perRound[len(perRound)/2]

	n, d := nsPerOp(num.median()), nsPerOp(den.median())
	detail := fmt.Sprintf("%s %s/op, %s %s/op", num.name, duration(n), den.name, duration(d))
	if throughput {
		detail = fmt.Sprintf("%s %.0f req/s, %s %.0f req/s", num.name, 1e9/n, den.name, 1e9/d)
	}

	verdict := ""
	if op != "" {
		met := (op == "<=" && value <= target) || (op == ">=" && value >= target)
		verdict = fmt.Sprintf("target %s %.2f: %s; ", op, target, metOrMissed(met))
	}
	fmt.Fprintf(out, "%s %.2f # %s%s; %s\n", name, value, verdict, detail, what)
}

// absolute prints ns/op and allocs/op, checked against maxNs and maxAllocs
// when they are not 0 and -1.
func absolute(out io.Writer, b *bench, maxNs float64, maxAllocs int64) {
	r := b.median()
	ns, allocs := nsPerOp(r), r.AllocsPerOp()
	verdict := "no target"
	if maxNs > 0 {
		met := ns <= maxNs && allocs <= maxAllocs
		verdict = fmt.Sprintf("target <= %.0f ns, <= %d allocs: %s", maxNs, maxAllocs, metOrMissed(met))
	}
	fmt.Fprintf(out, "%s %.1f ns/op %d allocs/op # %s; %d B/op\n", b.name, ns, allocs, verdict, r.AllocedBytesPerOp())
}

func metOrMissed(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// duration prints nanoseconds in a readable unit.
func duration(ns float64) string {
	return time.Duration(ns).Round(100 * time.Nanosecond).String()
}
