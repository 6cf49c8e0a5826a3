package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Note: no test here listens beyond loopback. The addresses that must be
// refused are given to parseFlags, which never listens, or to run as
// 192.0.2.1 (TEST-NET-1, RFC 5737), which no host owns, so that even a
// broken check could not bind them.

func TestNonLoopbackAddrIsRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // "" when the flags are accepted
	}{
		{name: "every interface, IPv4", args: []string{"--addr", "0.0.0.0:0"}, want: "--addr 0.0.0.0:0 is not a loopback address"},
		{name: "every interface, empty host", args: []string{"--addr", ":4200"}, want: "is not a loopback address"},
		{name: "every interface, IPv6", args: []string{"--addr", "[::]:0"}, want: "is not a loopback address"},
		{name: "a private address", args: []string{"--addr", "10.0.0.7:4200"}, want: "is not a loopback address"},
		{name: "a host name", args: []string{"--addr", "prefect.example.test:4200"}, want: "is not a loopback address"},
		{name: "tokens alone do not allow it", args: []string{"--addr", "0.0.0.0:0", "--token", "t"}, want: "unless --allow-remote is given"},
		{name: "--allow-remote without a token", args: []string{"--addr", "0.0.0.0:0", "--allow-remote"}, want: "--allow-remote needs at least one --token"},
		{name: "no port", args: []string{"--addr", "127.0.0.1"}, want: "--addr 127.0.0.1: want host:port"},
		{name: "--allow-remote with a token", args: []string{"--addr", "0.0.0.0:0", "--allow-remote", "--token", "t=team"}},
		{name: "the default", args: nil},
		{name: "127.0.0.1", args: []string{"--addr", "127.0.0.1:0"}},
		{name: "elsewhere in 127/8", args: []string{"--addr", "127.8.9.10:0"}},
		{name: "::1", args: []string{"--addr", "[::1]:0"}},
		{name: "localhost", args: []string{"--addr", "localhost:0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)

			if tt.want == "" {
				if err != nil {
					t.Errorf("err = %v, want the flags accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRunRefusesARemoteAddrBeforeDoingAnything(t *testing.T) {
	data := filepath.Join(t.TempDir(), "secrets.data")
	var stdout, stderr bytes.Buffer

	code := run(t.Context(), []string{"--addr", "192.0.2.1:0", "--data", data}, &stdout, &stderr)

	if code != exitUsage || stdout.Len() != 0 {
		t.Errorf("code %d, stdout %q; want 2 and nothing", code, stdout.String())
	}
	want := "prefect-mockserver: --addr 192.0.2.1:0 is not a loopback address: the mock has no TLS and listens on loopback only, unless --allow-remote is given with at least one --token\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr = %q\nwant     %q", got, want)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data file was created before the refusal: %v", err)
	}
}

func TestRunRefusesNegativeLimits(t *testing.T) {
	for _, flag := range []string{"--max-body", "--max-name", "--max-value", "--max-depth", "--max-complexity", "--max-query-tokens"} {
		var stdout, stderr bytes.Buffer

		code := run(t.Context(), []string{"--addr", "127.0.0.1:0", flag, "-3"}, &stdout, &stderr)

		if want := "prefect-mockserver: " + flag + " -3 is negative; 0 keeps the default\n"; code != exitUsage || stderr.String() != want {
			t.Errorf("%s -3: code %d, stderr %q", flag, code, stderr.String())
		}
	}
}

// postJSON posts body to the mock at url with token and returns the answer.
func postJSON(t *testing.T, url, token, body string) string {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	answer, _ := io.ReadAll(resp.Body)
	return string(answer)
}

func TestRunKeepsDataAndAppliesLimits(t *testing.T) {
	data := filepath.Join(t.TempDir(), "secrets.data")
	args := []string{"--addr", "127.0.0.1:0", "--token", "tok-s3cr3t=team", "--data", data, "--max-value", "16"}
	const set = `{"query": "mutation($input: set_secret_input!) { set_secret(input: $input) { success } }", "variables": {"input": {"name": "K", "value": %s}}}`

	url, stop, _, stderr := started(t, args)
	if got := postJSON(t, url, "tok-s3cr3t", strings.Replace(set, "%s", `"kept"`, 1)); got != `{"data":{"set_secret":{"success":true}}}` {
		t.Fatalf("set: %s", got)
	}
	tooBig := postJSON(t, url, "tok-s3cr3t", strings.Replace(set, "%s", `"s3cr3t, longer than sixteen bytes"`, 1))
	if !strings.Contains(tooBig, "at most 16 are allowed") || strings.Contains(tooBig, "s3cr3t") {
		t.Errorf("an over-long value: %s", tooBig)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}

	url, stop, _, stderr = started(t, args)
	defer stop()
	got := postJSON(t, url, "tok-s3cr3t", `{"query": "{ secret_value(name: \"K\") }"}`)
	if got != `{"data":{"secret_value":"kept"}}` {
		t.Errorf("after a restart K = %s; stderr %s", got, stderr)
	}
}

func TestRunRefusesADamagedDataFile(t *testing.T) {
	data := filepath.Join(t.TempDir(), "secrets.data")
	damaged := []byte("prefect-mockserver data 1 sha256=00 bytes=9\n{\"tenants\"")
	if err := os.WriteFile(data, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer

	code := run(t.Context(), []string{"--addr", "127.0.0.1:0", "--data", data}, &stdout, &stderr)

	if code != exitUsage || stdout.Len() != 0 {
		t.Errorf("code %d, stdout %q", code, stdout.String())
	}
	if got := stderr.String(); !strings.HasPrefix(got, `prefect-mockserver: data file "`+data+`": `) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q, want one line naming the file", got)
	}
	if after, _ := os.ReadFile(data); !bytes.Equal(after, damaged) {
		t.Errorf("the damaged file was changed to %q", after)
	}
}
