package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// faultFlags are the flags that set the mock's fault plan.
type faultFlags struct {
	rate       float64
	kinds      kindRates
	seed       uint64
	latency    time.Duration
	retryAfter int
}

// kindRates collects repeated --fault KIND=R values, in order.
type kindRates []string

func (l *kindRates) String() string { return strings.Join(*l, ",") }

func (l *kindRates) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// register adds the fault flags to fs.
func (f *faultFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.rate, "fault-rate", 0, "inject a fault into `R` (0 to 1) of GraphQL requests, spread evenly over every kind")
	fs.Var(&f.kinds, "fault", "inject fault `KIND=R` into R of requests (repeatable; overrides --fault-rate for KIND); kinds: "+kindNames())
	fs.Uint64Var(&f.seed, "fault-seed", 0, "seed the fault draws with `N` to replay a run; 0 picks one and prints it")
	fs.DurationVar(&f.latency, "fault-latency", mockserver.DefaultFaultLatency, "delay `D` of a latency fault")
	fs.IntVar(&f.retryAfter, "fault-retry-after", mockserver.DefaultFaultRetryAfter, "Retry-After `SECONDS` sent with a 429 fault")
}

func kindNames() string {
	kinds := mockserver.FaultKinds()
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// plan turns the flags into a fault plan. The rates' total is checked by
// mockserver.New.
func (f *faultFlags) plan() (mockserver.Faults, error) {
	if !isRate(f.rate) {
		return mockserver.Faults{}, fmt.Errorf("--fault-rate %v: want a rate from 0 to 1", f.rate)
	}
	if f.latency < 0 {
		return mockserver.Faults{}, fmt.Errorf("--fault-latency %v is negative", f.latency)
	}
	if f.latency > mockserver.MaxFaultLatency {
		return mockserver.Faults{}, fmt.Errorf("--fault-latency %v is longer than the most allowed, %v", f.latency, mockserver.MaxFaultLatency)
	}
	if f.retryAfter < 0 {
		return mockserver.Faults{}, fmt.Errorf("--fault-retry-after %d is negative", f.retryAfter)
	}

	rates := map[mockserver.FaultKind]float64{}
	if f.rate > 0 {
		rates = mockserver.EvenRates(f.rate)
	}
	seen := map[mockserver.FaultKind]bool{}
	for _, v := range f.kinds {
		kindName, rateText, ok := strings.Cut(v, "=")
		if !ok {
			return mockserver.Faults{}, fmt.Errorf("--fault %q: want KIND=RATE, such as 503=0.1", v)
		}
		kind, err := mockserver.ParseFaultKind(kindName)
		if err != nil {
			return mockserver.Faults{}, fmt.Errorf("--fault %q: %w", v, err)
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(rateText), 64)
		if err != nil || !isRate(rate) {
			return mockserver.Faults{}, fmt.Errorf("--fault %q: want a rate from 0 to 1", v)
		}
		if seen[kind] {
			return mockserver.Faults{}, fmt.Errorf("--fault %q: kind %q is given more than once", v, kind)
		}
		seen[kind] = true
		rates[kind] = rate
	}

	return mockserver.Faults{Rates: rates, Seed: f.seed, Latency: f.latency, RetryAfter: f.retryAfter}, nil
}

// isRate reports whether r is a rate from 0 to 1; NaN is not.
func isRate(r float64) bool {
	return r >= 0 && r <= 1
}

// announceFaults tells on stderr which faults the server injects and with
// which seed, so that the run can be replayed; it says nothing without
// faults.
func announceFaults(stderr io.Writer, f mockserver.Faults) {
	if f.Total() == 0 {
		return
	}

	parts := make([]string, 0, len(f.Rates))
	for _, k := range mockserver.FaultKinds() {
		if r, ok := f.Rates[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%.4g", k, r))
		}
	}
	fmt.Fprintf(stderr, "%s: injecting faults into %.4g%% of GraphQL requests (%s); --fault-seed %d replays them\n",
		name, 100*f.Total(), strings.Join(parts, " "), f.Seed)
}
