package mockserver

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind names one kind of failure the server can put in place of, or in
// front of, a GraphQL answer. See [Faults].
type FaultKind string

// The kinds of fault, as named in [Faults.Rates], the X-Mock-Fault header
// and the --fault flag of prefect-mockserver.
const (
	Fault500           FaultKind = "500"            // HTTP 500, GraphQL error INTERNAL_SERVER_ERROR
	Fault502           FaultKind = "502"            // HTTP 502, a proxy's HTML page
	Fault503           FaultKind = "503"            // HTTP 503, GraphQL error SERVICE_UNAVAILABLE
	Fault504           FaultKind = "504"            // HTTP 504, a proxy's HTML page
	Fault429           FaultKind = "429"            // HTTP 429 with Retry-After in seconds
	FaultAPIError      FaultKind = "api_error"      // HTTP 200, GraphQL error API_ERROR
	FaultInternalError FaultKind = "internal_error" // HTTP 200, GraphQL error INTERNAL_SERVER_ERROR
	FaultLatency       FaultKind = "latency"        // the right answer, after a delay
	FaultReset         FaultKind = "reset"          // the connection closed before any answer
	FaultGarbage       FaultKind = "garbage"        // HTTP 200, an HTML page or a cut-off JSON body
)

// faultKindCount is the number of kinds of fault.
const faultKindCount = 10

// faultKinds returns every kind, in the order a random draw walks them.
func faultKinds() [faultKindCount]FaultKind {
	return [...]FaultKind{
		Fault500, Fault502, Fault503, Fault504, Fault429,
		FaultAPIError, FaultInternalError, FaultLatency, FaultReset, FaultGarbage,
	}
}

// FaultKinds returns every kind of fault, in a fixed order.
func FaultKinds() []FaultKind {
	kinds := faultKinds()
	return kinds[:]
}

// ParseFaultKind returns the kind named s, or an error listing the kinds.
func ParseFaultKind(s string) (FaultKind, error) {
	k := FaultKind(strings.ToLower(strings.TrimSpace(s)))
	kinds := faultKinds()
	if slices.Contains(kinds[:], k) {
		return k, nil
	}
	names := make([]string, faultKindCount)
	for i, k := range kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown fault kind %q; want one of %s", s, strings.Join(names, ", "))
}

// Defaults for the parameters of a fault plan.
const (
	DefaultFaultLatency    = 250 * time.Millisecond // delay of a latency fault
	DefaultFaultRetryAfter = 1                      // seconds, sent with a 429 fault

	// MaxFaultLatency is the longest delay a latency fault may have, in a
	// plan or in a [FaultHeader]: longer ones are refused, so that no
	// request can hold a connection for long.
	MaxFaultLatency = 30 * time.Second
)

// Faults is a fault plan: for each kind, the chance from 0 to 1 that a
// GraphQL request gets that fault instead of (for latency: before) its
// answer. At most one fault is drawn per request, so the rates add up to at
// most 1. The zero value injects nothing.
//
// The draws come from a random source seeded with Seed, so that a run whose
// requests arrive in the same order gets the same faults; concurrent
// requests arrive in no fixed order. Setting a plan restarts the source.
type Faults struct {
	Rates map[FaultKind]float64

	// Seed seeds the random source; 0 picks a random seed, which
	// [Server.Faults] and GET /_mock/faults report so a run can be replayed.
	Seed uint64

	// Latency is the delay of a latency fault; 0 means [DefaultFaultLatency].
	// It may not exceed [MaxFaultLatency].
	Latency time.Duration

	// RetryAfter is the Retry-After, in seconds, of a 429 fault; 0 means
	// [DefaultFaultRetryAfter].
	RetryAfter int
}

// EvenRates spreads total evenly over every kind of fault, as the
// --fault-rate flag does: EvenRates(0.3) gives each of the ten kinds 0.03.
func EvenRates(total float64) map[FaultKind]float64 {
	rates := make(map[FaultKind]float64, faultKindCount)
	for _, k := range faultKinds() {
		rates[k] = total / faultKindCount
	}
	return rates
}

// Total is the chance that a request gets any fault: the sum of the rates.
func (f Faults) Total() float64 {
	var sum float64
	for _, r := range f.Rates {
		sum += r
	}
	return sum
}

// check reports the first unusable setting of f.
func (f Faults) check() error {
	for _, k := range slices.Sorted(maps.Keys(f.Rates)) {
		if _, err := ParseFaultKind(string(k)); err != nil || strings.ToLower(string(k)) != string(k) {
			return fmt.Errorf("faults: unknown fault kind %q", k)
		}
		if r := f.Rates[k]; math.IsNaN(r) || r < 0 || r > 1 {
			return fmt.Errorf("faults: rate of %q must be from 0 to 1, not %v", k, r)
		}
	}
	if total := f.Total(); total > 1+1e-9 {
		return fmt.Errorf("faults: the rates add up to %.4g; at most one fault is drawn per request, so they must add up to at most 1", total)
	}
	if f.Latency < 0 {
		return errors.New("faults: latency is negative")
	}
	if f.Latency > MaxFaultLatency {
		return fmt.Errorf("faults: latency %v is longer than the most allowed, %v", f.Latency, MaxFaultLatency)
	}
	if f.RetryAfter < 0 {
		return errors.New("faults: retry-after is negative")
	}
	return nil
}

// settled returns f with its defaults filled in, a seed picked, and a copy
// of its rates without the zero ones.
func (f Faults) settled() Faults {
	rates := make(map[FaultKind]float64, len(f.Rates))
	for k, r := range f.Rates {
		if r > 0 {
			rates[k] = r
		}
	}
	f.Rates = rates
	if f.Seed == 0 {
		// Below 2^53, so that JSON readers that hold numbers as doubles
		// read it back exactly.
		f.Seed = 1 + rand.Uint64N(1<<53-1)
	}
	if f.Latency == 0 {
		f.Latency = DefaultFaultLatency
	}
	if f.RetryAfter == 0 {
		f.RetryAfter = DefaultFaultRetryAfter
	}
	return f
}

// fault is one fault to serve, with its parameters.
type fault struct {
	kind       FaultKind
	delay      time.Duration // latency
	retryAfter int           // seconds; -1 for no Retry-After header
	html       bool          // garbage: an HTML page rather than cut-off JSON
}

// injector draws faults for requests. It is safe for concurrent use.
type injector struct {
	mu   sync.Mutex
	plan Faults
	rng  *rand.Rand
}

func newInjector(f Faults) (*injector, error) {
	in := &injector{}
	if err := in.set(f); err != nil {
		return nil, err
	}
	return in, nil
}

// set checks f and puts it in force, restarting the random source.
func (in *injector) set(f Faults) error {
	if err := f.check(); err != nil {
		return err
	}

	f = f.settled()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.plan = f
	in.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	return nil
}

// get returns the plan in force, with a copy of its rates.
func (in *injector) get() Faults {
	in.mu.Lock()
	defer in.mu.Unlock()
	f := in.plan
	f.Rates = make(map[FaultKind]float64, len(in.plan.Rates))
	for k, r := range in.plan.Rates {
		f.Rates[k] = r
	}
	return f
}

// draw picks the fault for one request, if any, from the plan's rates.
func (in *injector) draw() (fault, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.plan.Rates) == 0 {
		return fault{}, false
	}

	u := in.rng.Float64()
	var cum float64
	for _, k := range faultKinds() {
		cum += in.plan.Rates[k]
		if u < cum {
			return in.withDefaults(k, in.rng.IntN(2) == 0), true
		}
	}
	return fault{}, false
}

// withDefaults is a fault of kind k with the plan's parameters. Only a 429
// carries Retry-After unless the request asks for one.
func (in *injector) withDefaults(k FaultKind, html bool) fault {
	f := fault{kind: k, delay: in.plan.Latency, retryAfter: -1, html: html}
	if k == Fault429 {
		f.retryAfter = in.plan.RetryAfter
	}
	return f
}

// FaultHeader is the request header that asks for one exact fault, whatever
// the plan: "KIND", optionally followed by parameters, as in
// "429; retry_after=30", "503; retry_after=2", "latency; delay=2s",
// "garbage; body=html" or "garbage; body=json" (plain "garbage" is the HTML
// page). "none" asks for no fault. A request with the header takes no
// random draw, so it leaves the plan's sequence as it was.
const FaultHeader = "X-Mock-Fault"

// pick returns the fault r asks for in its [FaultHeader], or else a random
// one from the plan. Its error is a bad header, for a 400 answer.
func (in *injector) pick(r *http.Request) (fault, bool, error) {
	spec := strings.TrimSpace(r.Header.Get(FaultHeader))
	if spec == "" {
		f, ok := in.draw()
		return f, ok, nil
	}

	name, params, _ := strings.Cut(spec, ";")
	name = strings.TrimSpace(name)
	if strings.EqualFold(name, "none") {
		return fault{}, false, nil
	}
	kind, err := ParseFaultKind(name)
	if err != nil {
		return fault{}, false, fmt.Errorf("%s: %w", FaultHeader, err)
	}

	in.mu.Lock()
	f := in.withDefaults(kind, true)
	in.mu.Unlock()
	if err := f.apply(params); err != nil {
		return fault{}, false, fmt.Errorf("%s: %w", FaultHeader, err)
	}
	return f, true, nil
}

// apply sets the parameters given as "; name=value" pairs.
func (f *fault) apply(params string) error {
	for p := range strings.SplitSeq(params, ";") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		name, value, _ := strings.Cut(p, "=")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)

		switch {
		case name == "retry_after" && (f.kind == Fault429 || f.kind == Fault503):
			secs, err := strconv.Atoi(value)
			if err != nil || secs < 0 {
				return fmt.Errorf("retry_after must be whole seconds, not %q", value)
			}
			f.retryAfter = secs
		case name == "delay" && f.kind == FaultLatency:
			d, err := time.ParseDuration(value)
			if err != nil || d < 0 {
				return fmt.Errorf("delay must be a duration such as 2s, not %q", value)
			}
			if d > MaxFaultLatency {
				return fmt.Errorf("delay %v is longer than the most allowed, %v", d, MaxFaultLatency)
			}
			f.delay = d
		case name == "body" && f.kind == FaultGarbage && (value == "html" || value == "json"):
			f.html = value == "html"
		default:
			return fmt.Errorf("parameter %q does not apply to fault %q", p, f.kind)
		}
	}
	return nil
}
