package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// envRunMain makes the test binary act as the command, for the signal test.
const envRunMain = "PREFECT_MOCKSERVER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

var urlPattern = regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*$`)

// lockedBuffer is a bytes.Buffer that run and the test may use at once.
type lockedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	newline chan struct{} // closed at the first newline
	once    sync.Once
}

func newLockedBuffer() *lockedBuffer {
	return &lockedBuffer{newline: make(chan struct{})}
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if bytes.Contains(p, []byte("\n")) {
		b.once.Do(func() { close(b.newline) })
	}
	return n, err
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// started runs run in a goroutine with args and returns the base URL it
// prints, and a function that cancels it and returns its exit code.
func started(t *testing.T, args []string) (url string, stop func() int, stdout, stderr *lockedBuffer) {
	t.Helper()

	ctx, cancel := context.WithCancel(t.Context())
	stdout, stderr = newLockedBuffer(), newLockedBuffer()
	code := make(chan int, 1)
	go func() { code <- run(ctx, args, stdout, stderr) }()

	select {
	case <-stdout.newline:
	case c := <-code:
		cancel()
		t.Fatalf("run exited with %d before printing a URL; stderr: %s", c, stderr)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("no URL on stdout after 10s")
	}

	stop = func() int {
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return 10s after cancel")
			return -1
		}
	}
	return strings.TrimSuffix(stdout.String(), "\n"), stop, stdout, stderr
}

func TestRunServesUntilCancelled(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"MY_KEY": "seeded"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	url, stop, stdout, stderr := started(t, []string{
		"--addr", "127.0.0.1:0", "--token", "tok-s3cr3t", "--seed", seed, "--log",
	})
	if !urlPattern.MatchString(url) {
		t.Fatalf("first stdout line = %q, want a base URL", url)
	}

	body := `{"query": "query($name: String!) {\n secret_value(name: $name)\n}", "variables": "{\"name\": \"MY_KEY\"}"}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok-s3cr3t")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(answer) != `{"data":{"secret_value":"seeded"}}` {
		t.Errorf("answer = %s", answer)
	}

	if code := stop(); code != 0 {
		t.Errorf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if got := stdout.String(); got != url+"\n" {
		t.Errorf("stdout = %q, want only the URL line", got)
	}
	errs := stderr.String()
	logLine := regexp.MustCompile(`level=INFO msg=request method=POST path=/graphql status=200 duration=\S+ tenant=default operation="" fields=secret_value\n`)
	if !logLine.MatchString(errs) {
		t.Errorf("--log wrote no request line: %s", errs)
	}
	if strings.Contains(errs, "s3cr3t") || strings.Contains(errs, "seeded") || strings.Contains(errs, "open") {
		t.Errorf("stderr has a token, a value or the open notice: %s", errs)
	}
}

func TestRunWithoutTokensSaysItIsOpen(t *testing.T) {
	url, stop, _, stderr := started(t, []string{"--addr", "127.0.0.1:0"})

	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz = %d", resp.StatusCode)
	}

	if code := stop(); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
	want := "prefect-mockserver: no --token given: the server is open and accepts any request as tenant \"default\"\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	badSeed := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badSeed, []byte("{\n\"A\": 1,\n\"B\" 2}"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown flag", args: []string{"--port", "1"}, want: "argument 3 is not a known flag"},
		{name: "unknown flag glued to a token", args: []string{"--log", "--tokens3cr3t"}, want: "argument 4 is not a known flag"},
		{name: "malformed flag", args: []string{"---s3cr3t"}, want: "argument 3 is not a well-formed flag"},
		{name: "flag without its value", args: []string{"--seed"}, want: "--seed needs a value"},
		{name: "stray argument", args: []string{"serve"}, want: `unexpected argument in position 3`},
		{name: "empty token", args: []string{"--token", "=team"}, want: "--token #1: token is empty"},
		{name: "token given twice", args: []string{"--token", "tok-s3cr3t", "--token", "tok-s3cr3t=b"}, want: "--token #2: the same token is given more than once"},
		{name: "token with a space", args: []string{"--token", "tok s3cr3t"}, want: "--token #1: token holds a space"},
		{name: "bad seed syntax", args: []string{"--seed", badSeed}, want: `seed file "` + badSeed + `": line 3, column 5`},
		{name: "missing seed", args: []string{"--seed", filepath.Join(dir, "nope.json")}, want: "no such file or directory"},
		{name: "bad --log value", args: []string{"--log=s3cr3t"}, want: "--log: invalid value; want true or false"},
		{name: "bad --allow-remote value", args: []string{"--allow-remote=s3cr3t"}, want: "--allow-remote: invalid value; want true or false"},
		{name: "bad --max-body value", args: []string{"--max-body", "s3cr3t"}, want: "--max-body: invalid value: it cannot be parsed"},
		{name: "--max-body out of range", args: []string{"--max-body", "99999999999999999999"}, want: "--max-body: invalid value: it is out of range"},
		{name: "bad --fault-latency value", args: []string{"--fault-latency=s3cr3t"}, want: "--fault-latency: invalid value"},
		{name: "admin token with a space", args: []string{"--token", "tok", "--admin-token", "adm s3cr3t"}, want: "admin token: token holds a space"},
		{name: "admin token is an API token", args: []string{"--token", "tok-s3cr3t", "--admin-token", "tok-s3cr3t"}, want: "admin token is also an API token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer

			code := run(t.Context(), append([]string{"--addr", "127.0.0.1:0"}, tt.args...), &stdout, &stderr)

			if code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			errs := stderr.String()
			if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "prefect-mockserver: ") {
				t.Errorf("stderr is not one line: %q", errs)
			}
			if !strings.Contains(errs, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", errs, tt.want)
			}
			if strings.Contains(errs, "s3cr3t") {
				t.Errorf("stderr quotes a token: %q", errs)
			}
		})
	}
}

func TestRunHelpExitsZero(t *testing.T) {
	var stdout, stderr bytes.Buffer

	code := run(t.Context(), []string{"-h"}, &stdout, &stderr)

	if code != 0 || stdout.Len() != 0 {
		t.Errorf("code %d, stdout %q", code, stdout.String())
	}
	if !strings.Contains(stderr.String(), "-token TOKEN[=TENANT]") {
		t.Errorf("usage = %q", stderr.String())
	}
}

func TestRunFailsOnABusyAddress(t *testing.T) {
	url, stop, _, _ := started(t, []string{"--addr", "127.0.0.1:0"})
	defer stop()

	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"--addr", strings.TrimPrefix(url, "http://")}, &stdout, &stderr)

	if code != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "address already in use") {
		t.Errorf("code %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

func TestMainStopsCleanlyOnSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT or SIGTERM to send on Windows")
	}

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "--addr", "127.0.0.1:0", "--token", "tok")
			cmd.Env = append(os.Environ(), envRunMain+"=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			stderr := newLockedBuffer()
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}

			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("reading the URL: %v; stderr: %s", err, stderr.String())
			}
			url := strings.TrimSuffix(line, "\n")
			if !urlPattern.MatchString(url) {
				t.Fatalf("first line = %q", line)
			}
			resp, err := http.Get(url + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stdout)
			err = cmd.Wait()

			if err != nil {
				t.Errorf("exit: %v; stderr: %s", err, stderr.String())
			}
			if len(rest) != 0 {
				t.Errorf("more on stdout after the URL: %q", rest)
			}
		})
	}
}
