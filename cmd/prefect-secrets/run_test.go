package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseArgsTakesFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args     []string
		wantRest string
		wantJSON bool
		wantAPI  string
	}{
		{[]string{"--json", "get", "K"}, "get K", true, ""},
		{[]string{"get", "--json", "K"}, "get K", true, ""},
		{[]string{"get", "K", "--json", "--api", "http://127.0.0.1:1"}, "get K", true, "http://127.0.0.1:1"},
		{[]string{"set", "K", "--", "--not-a-flag"}, "set K --not-a-flag", false, ""},
		{[]string{"set", "--", "K", "-s3cr3t"}, "set K -s3cr3t", false, ""},
		{[]string{"--json", "set", "K", "--", "-5"}, "set K -5", true, ""},
	}
	for _, tt := range tests {
		o, rest, err := parseArgs(tt.args)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if strings.Join(rest, " ") != tt.wantRest || o.asJSON != tt.wantJSON || o.api != tt.wantAPI {
			t.Errorf("%v: rest %q json %v api %q", tt.args, rest, o.asJSON, o.api)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	tests := [][]string{
		{},
		{"--local", "--cloud", "get", "K"},
		{"get"},
		{"get", "A", "B"},
		{"list", "extra"},
		{"--nope", "get", "K"},
		{"set", "K", "v"}, // set needs Cloud mode
	}
	for _, args := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, env{environ: []string{"HOME=" + t.TempDir()}, stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, errb.String())
		}
		if !strings.HasPrefix(errb.String(), "prefect-secrets: ") {
			t.Errorf("%v: stderr %q", args, errb.String())
		}
	}
}

func TestHelpExitsZero(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"--help"}, env{stdout: &out, stderr: &out})
	if code != 0 || !strings.Contains(out.String(), "Exit codes") {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
}

func TestFlagErrorsNeverQuoteTheArgument(t *testing.T) {
	for _, args := range [][]string{
		{"set", "PASSWORD", "-s3cr3tVALUE"},
		{"--tokens3cr3tVALUE", "get", "K"},
		{"--debug=s3cr3tVALUE", "get", "K"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, env{environ: []string{"HOME=" + t.TempDir()}, stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
		if code != exitUsage || strings.Contains(errb.String(), "s3cr3tVALUE") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
		if args[0] == "set" && !strings.Contains(errb.String(), "argument 3 ") {
			t.Errorf("%v: stderr %q should point at argument 3", args, errb.String())
		}
	}
}

func TestOversizedStdinValueIsRefused(t *testing.T) {
	_, err := readValue([]string{"K"}, strings.NewReader(strings.Repeat("x", maxStdinValue)+"END"))
	if err == nil || !strings.Contains(err.Error(), "larger than") || exitCode(err) != exitUsage {
		t.Fatalf("err = %v", err)
	}
	v, err := readValue([]string{"K"}, strings.NewReader("fits\n"))
	if err != nil || v != "fits" {
		t.Fatalf("readValue = %q, %v", v, err)
	}
}
