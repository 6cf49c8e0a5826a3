// Package tests holds end-to-end tests: the real binaries and the library
// against the mock API on loopback sockets.
package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// bin holds the binaries built once for the whole package.
var bin struct{ secrets, mock string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cloudsecrets-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin.secrets = filepath.Join(dir, "prefect-secrets")
	bin.mock = filepath.Join(dir, "prefect-mockserver")
	for out, pkg := range map[string]string{bin.secrets: "../cmd/prefect-secrets", bin.mock: "../cmd/prefect-mockserver"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", pkg, ":", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startMock runs prefect-mockserver on a free loopback port and returns its
// base URL; it is stopped with SIGTERM when the test ends.
func startMock(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin.mock, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("mock server did not stop cleanly: %v; stderr: %s", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("mock server did not stop within 10 s of SIGTERM")
		}
	})

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	select {
	case url, ok := <-lines:
		if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("first line %q is not a loopback URL; stderr: %s", url, stderr.String())
		}
		return url
	case <-time.After(20 * time.Second):
		t.Fatalf("mock server printed no URL; stderr: %s", stderr.String())
	}
	return ""
}

// result is what one CLI run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs prefect-secrets with only the given environment (plus a HOME with
// no config file), so the developer's own settings never leak in. A run that
// takes over a minute fails the test rather than hanging it.
func cli(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	return runCLI(t, time.Minute, env, stdin, args...)
}

// runCLI is cli with a time limit of its own.
func runCLI(t *testing.T, limit time.Duration, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin.secrets, args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb

	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("prefect-secrets %v did not finish within %v; stderr %q", args, limit, errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func cloudEnv(url, token string) []string {
	return []string{
		secrets.EnvAPI + "=" + url,
		secrets.EnvAuthToken + "=" + token,
		secrets.EnvUseLocalSecrets + "=false",
	}
}

func writeSeed(t *testing.T, seed map[string]any) string {
	t.Helper()
	data, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const token = "e2e-token-4471"

// TestCLI is the Prefect rules table, driven through the built binaries.
func TestCLI(t *testing.T) {
	seed := writeSeed(t, map[string]any{
		"CLOUD_STR":  "from cloud",
		"CLOUD_JSON": `{"x": 42}`,
		"CLOUD_OBJ":  map[string]any{"b": []any{1, "two"}},
		"CLOUD_NULL": nil,
	})
	url := startMock(t, "--token", token, "--seed", seed)

	tests := []struct {
		name       string
		env        []string
		args       []string
		wantOut    string
		wantCode   int
		wantStderr string
	}{
		{"context first in local mode", []string{secrets.EnvSecretPrefix + "GREETING=hello"},
			[]string{"get", "GREETING"}, "hello\n", 0, ""},
		{"local not found", []string{secrets.EnvSecretPrefix + "GREETING=hello"},
			[]string{"get", "NOPE"}, "", 1, `Local Secret "NOPE" was not found.`},
		{"context first in cloud mode", append(cloudEnv(url, token), secrets.EnvSecretPrefix+"CLOUD_STR=ctx"),
			[]string{"get", "CLOUD_STR"}, "ctx\n", 0, ""},
		{"cloud found", cloudEnv(url, token), []string{"get", "CLOUD_STR"}, "from cloud\n", 0, ""},
		{"cloud JSON string decoded", cloudEnv(url, token), []string{"get", "CLOUD_JSON"}, `{"x":42}` + "\n", 0, ""},
		{"cloud object as JSON", cloudEnv(url, token), []string{"get", "CLOUD_OBJ"}, `{"b":[1,"two"]}` + "\n", 0, ""},
		{"cloud null found", cloudEnv(url, token), []string{"get", "CLOUD_NULL"}, "null\n", 0, ""},
		{"--json quotes a string", cloudEnv(url, token), []string{"get", "--json", "CLOUD_STR"}, `"from cloud"` + "\n", 0, ""},
		{"cloud not found", cloudEnv(url, token), []string{"get", "NOPE"}, "", 1, `Secret "NOPE" was not found in Prefect Cloud`},
		{"bad token", cloudEnv(url, "wrong-token-8812"), []string{"get", "CLOUD_STR"}, "", 3, "Unauthenticated"},
		{"flags override env", cloudEnv("http://127.0.0.1:1", "x"),
			[]string{"--api", url, "--token", token, "get", "CLOUD_STR"}, "from cloud\n", 0, ""},
		{"--local overrides env", cloudEnv(url, token), []string{"--local", "get", "CLOUD_STR"}, "", 1, "Local Secret"},
		{"unknown command", nil, []string{"fetch", "X"}, "", 2, `unknown command "fetch"`},
		{"empty name", nil, []string{"get", ""}, "", 2, "name is empty"},
		{"cloud mode without API", []string{secrets.EnvUseLocalSecrets + "=false"}, []string{"get", "X"}, "", 2, "cloud.api"},
		{"unreachable API names the URL", cloudEnv("http://127.0.0.1:1", token),
			[]string{"get", "X"}, "", 4, "http://127.0.0.1:1/graphql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, tt.env, "", tt.args...)
			if r.code != tt.wantCode || r.stdout != tt.wantOut {
				t.Fatalf("exit %d, stdout %q; want %d, %q (stderr %q)", r.code, r.stdout, tt.wantCode, tt.wantOut, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not say %q", r.stderr, tt.wantStderr)
			}
			if strings.Count(r.stderr, "prefect-secrets:") > 1 {
				t.Errorf("more than one error line: %q", r.stderr)
			}
			if strings.Contains(r.stderr, token) || strings.Contains(r.stderr, "wrong-token-8812") {
				t.Errorf("stderr holds a token: %q", r.stderr)
			}
		})
	}
}

func TestCLIRoundTrip(t *testing.T) {
	url := startMock(t, "--token", token)
	env := cloudEnv(url, token)
	steps := []struct {
		stdin    string
		args     []string
		wantOut  string
		wantCode int
	}{
		{"", []string{"exists", "API_KEY"}, "", 1},
		{"", []string{"set", "API_KEY", "s3cr3t"}, "", 0},
		{"", []string{"set", "--json", "LIMITS", `{"max": 5}`}, "", 0},
		{"from stdin\n", []string{"set", "PIPED"}, "", 0},
		{"", []string{"exists", "API_KEY"}, "", 0},
		{"", []string{"get", "API_KEY"}, "s3cr3t\n", 0},
		{"", []string{"get", "LIMITS"}, `{"max":5}` + "\n", 0},
		{"", []string{"get", "PIPED"}, "from stdin\n", 0},
		{"", []string{"list"}, "API_KEY\nLIMITS\nPIPED\n", 0},
		{"", []string{"delete", "API_KEY"}, "", 0},
		{"", []string{"get", "API_KEY"}, "", 1},
		{"", []string{"delete", "API_KEY"}, "", 1},
		{"", []string{"set", "--json", "BAD", `{nope`}, "", 2},
		{"", []string{"set", "DASHED", "--", "-starts-with-a-dash"}, "", 0},
		{"", []string{"get", "DASHED"}, "-starts-with-a-dash\n", 0},
		{"", []string{"delete", "DASHED"}, "", 0},
		{"", []string{"list"}, "LIMITS\nPIPED\n", 0},
	}
	for i, s := range steps {
		r := cli(t, env, s.stdin, s.args...)
		if r.code != s.wantCode || r.stdout != s.wantOut {
			t.Fatalf("step %d %v: exit %d, stdout %q; want %d, %q (stderr %q)",
				i+1, s.args, r.code, r.stdout, s.wantCode, s.wantOut, r.stderr)
		}
	}

	r := cli(t, env, "", "delete", "MISSING")
	if want := `Secret "MISSING" was not found in Prefect Cloud`; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("delete MISSING: exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
}

// post sends one raw GraphQL request, as Prefect Core's Python clients do.
func post(t *testing.T, url, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-PREFECT-CORE-VERSION", "0.7.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return out
}

// TestPythonClientRequests replays what Prefect Core 0.7.1 and 0.15.13 send.
func TestPythonClientRequests(t *testing.T) {
	url := startMock(t, "--token", token, "--seed", writeSeed(t, map[string]any{"MY_KEY": "v1"}))
	tests := []struct {
		name, path, body, field string
		want                    any
	}{
		{"0.7.1 camelCase, variables as a string", "/graphql/alpha",
			`{"query": "query($name: String!) {\n        secretValue(name: $name)\n}", "variables": "{\"name\": \"MY_KEY\"}"}`,
			"secretValue", "v1"},
		{"0.15.13 snake_case, variables as a string", "/graphql",
			`{"query": "query($name: String!) {\n        secret_value(name: $name)\n}", "variables": "{\"name\": \"MY_KEY\"}"}`,
			"secret_value", "v1"},
		{"variables as an object", "/",
			`{"query": "query($name: String!) { secret_value(name: $name) }", "variables": {"name": "MY_KEY"}}`,
			"secret_value", "v1"},
		{"0.7.1 setSecret", "/graphql/alpha",
			`{"query": "mutation($input: setSecretInput!) { setSecret(input: $input) { success } }", "variables": "{\"input\": {\"name\": \"NEW\", \"value\": \"n1\"}}"}`,
			"setSecret", map[string]any{"success": true}},
		{"0.15.13 set_secret", "/graphql",
			`{"query": "mutation($input: set_secret_input!) { set_secret(input: $input) { success } }", "variables": "{\"input\": {\"name\": \"NEW2\", \"value\": {\"k\": 1}}}"}`,
			"set_secret", map[string]any{"success": true}},
		{"0.15.13 secret_names", "/graphql", `{"query": "query { secret_names }", "variables": "{}"}`,
			"secret_names", []any{"MY_KEY", "NEW", "NEW2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := post(t, url, tt.path, tt.body)
			if out["errors"] != nil {
				t.Fatalf("errors: %v", out["errors"])
			}
			got := out["data"].(map[string]any)[tt.field]
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("data.%s = %v, want %v", tt.field, got, tt.want)
			}
		})
	}
}

// TestLibraryAgainstBinary drives package secrets against the real server.
func TestLibraryAgainstBinary(t *testing.T) {
	url := startMock(t, "--token", token, "--token", "other-tenant-token=other",
		"--seed", writeSeed(t, map[string]any{"K": `[1, 2]`}))
	cfg := secrets.DefaultConfig()
	cfg.API, cfg.AuthToken, cfg.UseLocalSecrets = url, token, false
	r, err := secrets.NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	v, err := r.Get(ctx, "K")
	if err != nil || fmt.Sprint(v) != "[1 2]" {
		t.Fatalf("Get(K) = %#v, %v", v, err)
	}
	if _, err := r.Get(ctx, "MISSING"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get(MISSING) err = %v", err)
	}

	// Another tenant's token sees none of the default tenant's secrets.
	cfg.AuthToken = "other-tenant-token"
	other, _ := secrets.NewResolver(cfg)
	if _, err := other.Get(ctx, "K"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("other tenant Get(K) err = %v, want not found", err)
	}

	cfg.AuthToken = "not-a-token"
	bad, _ := secrets.NewResolver(cfg)
	if _, err := bad.Get(ctx, "K"); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("bad token err = %v", err)
	}
}

func TestMockServerBadSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte("{\n  \"A\": 1,\n  \"B\": oops\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin.mock, "--addr", "127.0.0.1:0", "--seed", path).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("err = %v, want exit 2; output %q", err, out)
	}
	if !strings.Contains(string(out), path) || !strings.Contains(string(out), "line 3") {
		t.Errorf("output %q should name the file and line 3", out)
	}
}

// TestMainJobCommand runs the README's main command against examples/.
func TestMainJobCommand(t *testing.T) {
	r := cli(t, nil, "", "--mock", "../examples/secrets.json", "get", "GREETING")
	if r.code != 0 || r.stdout != "hello from the mock Prefect Cloud\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
