package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

func TestFaultFlagsMakeAPlan(t *testing.T) {
	cfg, err := parseFlags([]string{
		"--fault-rate", "0.3", "--fault", "reset=0.1", "--fault", "GARBAGE=0",
		"--fault-seed", "9", "--fault-latency", "5ms", "--fault-retry-after", "2",
	}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}

	f := cfg.faults
	if f.Seed != 9 || f.Latency != 5*time.Millisecond || f.RetryAfter != 2 {
		t.Errorf("plan = %+v", f)
	}
	for _, k := range mockserver.FaultKinds() {
		want := 0.03
		switch k {
		case mockserver.FaultReset:
			want = 0.1
		case mockserver.FaultGarbage:
			want = 0
		}
		if got := f.Rates[k]; got < want-1e-12 || got > want+1e-12 {
			t.Errorf("rate of %q = %v, want %v", k, got, want)
		}
	}
}

func TestNoFaultFlagsNoFaults(t *testing.T) {
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.faults.Total() != 0 {
		t.Errorf("faults on by default: %+v", cfg.faults)
	}
}

func TestBadFaultFlagsAreUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--fault-rate", "1.5"}, "--fault-rate 1.5: want a rate from 0 to 1"},
		{[]string{"--fault-rate", "lots"}, "--fault-rate: invalid value"},
		{[]string{"--fault-rate", "NaN"}, "--fault-rate NaN: want a rate from 0 to 1"},
		{[]string{"--fault-rate", "+Inf"}, "--fault-rate +Inf: want a rate from 0 to 1"},
		{[]string{"--fault-rate", "-Inf"}, "--fault-rate -Inf: want a rate from 0 to 1"},
		{[]string{"--fault", "503=NaN"}, `--fault "503=NaN": want a rate from 0 to 1`},
		{[]string{"--fault", "503=Inf"}, `--fault "503=Inf": want a rate from 0 to 1`},
		{[]string{"--fault-latency", "31s"}, "--fault-latency 31s is longer than the most allowed, 30s"},
		{[]string{"--fault-latency", "1h"}, "--fault-latency 1h0m0s is longer than the most allowed, 30s"},
		{[]string{"--fault", "503"}, `--fault "503": want KIND=RATE`},
		{[]string{"--fault", "418=0.1"}, `unknown fault kind "418"`},
		{[]string{"--fault", "503=2"}, `--fault "503=2": want a rate from 0 to 1`},
		{[]string{"--fault", "503=0.1", "--fault", "503=0.2"}, "given more than once"},
		{[]string{"--fault-rate", "0.9", "--fault", "reset=0.5"}, "add up to 1.31"},
		{[]string{"--fault-latency", "-1s"}, "--fault-latency -1s is negative"},
		{[]string{"--fault-retry-after", "-3"}, "--fault-retry-after -3 is negative"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer

			// A flag wrongly taken would start the server: stop it soon.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			code := run(ctx, append([]string{"--addr", "127.0.0.1:0"}, tt.args...), &stdout, &stderr)

			if code != 2 || stdout.Len() != 0 {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, stdout.String())
			}
			if errs := stderr.String(); strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("stderr = %q; want one line saying %q", errs, tt.want)
			}
		})
	}
}

func TestRunAnnouncesFaultsAndSeed(t *testing.T) {
	_, stop, _, stderr := started(t, []string{"--addr", "127.0.0.1:0", "--token", "tok", "--fault-rate", "0.3", "--fault-seed", "1"})
	if code := stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}

	want := "prefect-mockserver: injecting faults into 30% of GraphQL requests (500=0.03 502=0.03 503=0.03 504=0.03 429=0.03 " +
		"api_error=0.03 internal_error=0.03 latency=0.03 reset=0.03 garbage=0.03); --fault-seed 1 replays them\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr = %q\nwant     %q", got, want)
	}
}
