package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The command prints every figure the issue asks for, each line starting
// with its name and a number. The run is kept tiny: the figures themselves
// are not checked, only that they are there.
func TestBenchPrintsEveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark briefly")
	}
	var out bytes.Buffer
	if err := run(&out, 5*time.Millisecond, 1, 1000); err != nil {
		t.Fatal(err)
	}

	lines := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		lines[name] = rest
	}
	for _, name := range []string{
		"client/floor", "mock/trivial", "get100k/get10",
		"context-get/string", "context-get/json-map", "cached-get/string", "cached-get/map",
	} {
		rest, ok := lines[name]
		if !ok {
			t.Errorf("no %s line in:\n%s", name, out.String())
			continue
		}
		value, _, _ := strings.Cut(rest, " ")
		if v, err := strconv.ParseFloat(value, 64); err != nil || v <= 0 {
			t.Errorf("%s: %q is not a positive number", name, value)
		}
	}
	if !strings.Contains(lines["cached-get/string"], "allocs/op") {
		t.Errorf("cached-get/string does not report allocs/op: %q", lines["cached-get/string"])
	}
}

func TestBenchRefusesBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, 0, 1, 1000); err == nil {
		t.Error("a zero -benchtime was accepted")
	}
	if err := run(&out, time.Millisecond, 0, 1000); err == nil {
		t.Error("zero -rounds was accepted")
	}
	if out.Len() != 0 {
		t.Errorf("printed %q before refusing", out.String())
	}
}
