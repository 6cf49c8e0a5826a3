package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/internal/testutil"
	"github.com/prefect-go/cloudsecrets/mockserver"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// The canary test plants a unique secret value and unique tokens, drives
// every public path with debug logging on, and then looks for them in
// everything the product printed, logged, returned as an error or encoded.
// They may appear only where a value is asked for on purpose: the stdout
// of a successful `get`, Value.Reveal, the target of Decode.

// canaryChildEnv marks the child process that drives the zero-configuration
// Default resolver, which is read once per process from the environment.
const canaryChildEnv = "CLOUDSECRETS_CANARY_CHILD"

// canaries are the planted strings, unique per run.
type canaries struct {
	value, token, badToken string
}

func newCanaries() canaries {
	unique := func(prefix string) string { return prefix + strings.ToLower(rand.Text()) }
	return canaries{
		value:    unique("val-canary-"),
		token:    unique("tok-canary-"),
		badToken: unique("badtok-canary-"),
	}
}

// forms returns each canary with the encodings a leak could take: as it
// is, hex (what %x prints) and base64 (what encoding/json makes of bytes).
func (c canaries) forms() map[string]string {
	out := map[string]string{}
	for name, s := range map[string]string{"value": c.value, "token": c.token, "bad token": c.badToken} {
		out[s] = name
		out[hex.EncodeToString([]byte(s))] = name + " (hex)"
		out[strings.ToUpper(hex.EncodeToString([]byte(s)))] = name + " (HEX)"
		for _, b64 := range base64Forms(s) {
			out[b64] = name + " (base64)"
		}
	}
	return out
}

// base64Forms returns the part of s's base64 encoding that does not depend
// on the bytes around it, for each of the three alignments s can have.
func base64Forms(s string) []string {
	var out []string
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for pad := 0; pad < 3; pad++ {
			e := enc.EncodeToString(append(make([]byte, pad), s...))
			start := 0
			if pad > 0 {
				start = 4
			}
			out = append(out, e[start:len(e)-4])
		}
	}
	return out
}

// sink collects every text that must hold no canary, each with a label
// saying which path produced it.
type sink struct {
	mu    sync.Mutex
	items []sinkItem
}

type sinkItem struct{ label, text string }

func (s *sink) text(label, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, sinkItem{label, text})
}

// err records an error's message and every way of printing it.
func (s *sink) err(label string, err error) {
	if err == nil {
		return
	}
	s.text(label+": Error()", err.Error())
	s.print(label, err)
}

// print records v as every fmt verb, encoding/json and both slog handlers
// print it.
func (s *sink) print(label string, v any) {
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		s.text(label+": "+verb, fmt.Sprintf(verb, v))
	}
	if data, err := json.Marshal(v); err == nil {
		s.text(label+": json", string(data))
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("print", "v", v)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("print", "v", v)
	s.text(label+": slog", buf.String())
}

// leaks returns one line per text that holds a canary in any form.
func (s *sink) leaks(c canaries) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	forms := c.forms()
	for _, it := range s.items {
		for form, name := range forms {
			if strings.Contains(it.text, form) {
				out = append(out, fmt.Sprintf("%s: holds the %s: %.200q", it.label, name, it.text))
			}
		}
	}
	return out
}

func (s *sink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// teeHandler sends each record to several handlers.
type teeHandler []slog.Handler

func (h teeHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, x := range h {
		if err := x.Handle(ctx, r.Clone()); err != nil {
			return err
		}
	}
	return nil
}

func (h teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(teeHandler, len(h))
	for i, x := range h {
		out[i] = x.WithAttrs(attrs)
	}
	return out
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(h))
	for i, x := range h {
		out[i] = x.WithGroup(name)
	}
	return out
}

// debugLogger logs everything, as text and as JSON, into buf.
func debugLogger(buf *testutil.Buffer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	return slog.New(teeHandler{slog.NewTextHandler(buf, opts), slog.NewJSONHandler(buf, opts)})
}

// loggedMock is prefect-mockserver run with --log; stop ends it and
// returns everything it wrote to stderr.
type loggedMock struct {
	url  string
	stop func() string
}

func startLoggedMock(t *testing.T, args ...string) loggedMock {
	t.Helper()
	cmd := exec.Command(bin.mock, append([]string{"--addr", "127.0.0.1:0", "--log"}, args...)...)
	var stdout, stderr testutil.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var once sync.Once
	stop := func() string {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-waited:
				if err != nil {
					t.Errorf("mock server did not stop cleanly: %v", err)
				}
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Error("mock server did not stop within 10 s of SIGTERM")
			}
		})
		return stdout.String() + stderr.String()
	}
	t.Cleanup(func() { stop() })

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(stdout.String(), "\n"); ok {
			if !strings.HasPrefix(line, "http://127.0.0.1:") {
				t.Fatalf("first line %q is not a loopback URL", line)
			}
			return loggedMock{url: line, stop: stop}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("mock server printed no URL; stderr: %s", stderr.String())
	return loggedMock{}
}

// misbehavingAPI answers on loopback the way a broken API or proxy might,
// by the first element of the path: every answer holds the planted value,
// or echoes the request's Authorization header.
func misbehavingAPI(t *testing.T, c canaries) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0] {
		case "malformed": // a 200 that is not JSON, starting with the value
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"data": {"secret_value": "%s"`, c.value)
		case "wrongshape": // a GraphQL answer whose data does not fit the schema
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"data": {"secret_value": {"x": "%s"}, "secret_names": "%s"}}`, c.value, c.value)
		case "jsonerror": // a 500 whose JSON body holds the value
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = fmt.Fprintf(w, `{"data": {"secret_value": "%s"}}`, c.value)
		case "transient": // always busy
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprint(w, "upstream busy, try later")
		case "echo": // a proxy page that echoes the request's credentials
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = fmt.Fprintf(w, "<html>bad gateway; you sent Authorization: %s</html>", auth)
		case "graphqlecho": // a GraphQL error that quotes the token
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"errors": [{"message": "token %s is not valid here", "extensions": {"code": "UNAUTHENTICATED"}}]}`,
				strings.TrimPrefix(auth, "Bearer "))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// quick are client options that keep the client's own retries short.
func quick(logger *slog.Logger) secrets.Option {
	return secrets.WithClientOptions(client.WithLogger(logger), client.WithRetries(1),
		client.WithRetryWait(time.Millisecond, 5*time.Millisecond))
}

func TestCanary(t *testing.T) {
	if os.Getenv(canaryChildEnv) != "" {
		t.Skip("in the child process")
	}
	c := newCanaries()
	out := &sink{}
	logs := &testutil.Buffer{}
	logger := debugLogger(logs)

	seed := map[string]any{
		"CANARY_STR":  c.value,
		"CANARY_JSON": `{"pw": "` + c.value + `"}`,
		"CANARY_OBJ":  map[string]any{"pw": c.value},
	}
	seedFile := writeSeed(t, seed)
	mock := startLoggedMock(t, "--token", c.token, "--seed", seedFile)

	// The mockserver package on loopback too, logging through slog.
	rawSeed, err := mockserver.LoadSeedFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mockserver.New(mockserver.Options{
		Tokens: map[string]string{c.token: mockserver.DefaultTenant},
		Seed:   rawSeed,
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	running, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = running.Close(context.Background()) })
	badAPI := misbehavingAPI(t, c)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("library", func(t *testing.T) { canaryLibrary(ctx, t, c, out, logger, running.URL(), badAPI) })
	t.Run("tasks and stores", func(t *testing.T) { canaryTasks(ctx, t, c, out, logger, running.URL(), badAPI) })
	t.Run("configuration", func(t *testing.T) { canaryConfig(ctx, t, c, out) })
	t.Run("default resolver", func(t *testing.T) { canaryDefault(t, c, out, running.URL()) })
	t.Run("prefect-secrets", func(t *testing.T) { canaryCLI(t, c, out, mock.url, badAPI) })
	t.Run("prefect-mockserver", func(t *testing.T) { canaryMockCLI(t, c, out) })

	out.text("prefect-mockserver --log output", mock.stop())
	_ = running.Close(context.Background())
	out.text("debug logs (client, runner, mockserver)", logs.String())

	for _, want := range []string{"prefect cloud request", "secret task attempt", "outcome=unauthenticated", "outcome=transient", `"operation"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the debug logs never say %q: some path was not driven", want)
		}
	}
	for _, l := range out.leaks(c) {
		t.Error(l)
	}
	t.Logf("checked %d texts for %d canary forms", out.len(), len(c.forms()))
}

// TestCanarySinkFindsLeaks shows that the search would see a canary in
// each of the forms it looks for.
func TestCanarySinkFindsLeaks(t *testing.T) {
	c := newCanaries()
	for name, leak := range map[string]any{
		"plain":          c.value,
		"hex":            fmt.Sprintf("%x", c.token),
		"base64 in JSON": func() string { b, _ := json.Marshal(struct{ B []byte }{[]byte("x" + c.badToken)}); return string(b) }(),
		"quoted":         fmt.Sprintf("%q", c.value),
	} {
		s := &sink{}
		s.print(name, leak)
		if len(s.leaks(c)) == 0 {
			t.Errorf("%s: no leak found in %v", name, leak)
		}
	}
}

// reveal checks a value that was asked for on purpose.
func reveal(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// expect checks that err is of the kind a path should fail with, and
// records it.
func expect(t *testing.T, out *sink, label string, err, kind error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", label, kind)
		return
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("%s: err = %v, want %v", label, err, kind)
	}
	out.err(label, err)
}

func canaryLibrary(ctx context.Context, t *testing.T, c canaries, out *sink, logger *slog.Logger, api, badAPI string) {
	resolver := func(api, token string, local bool, secretsInConfig map[string]any) *secrets.Resolver {
		cfg := secrets.DefaultConfig()
		cfg.API, cfg.AuthToken, cfg.UseLocalSecrets, cfg.Secrets = api, token, local, secretsInConfig
		r, err := secrets.NewResolver(cfg, quick(logger))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	good := resolver(api, c.token, false, map[string]any{"CFG_SECRET": c.value})
	out.print("Resolver", good)
	out.print("Config", good.Config())
	out.print("Secret", good.Secret("CANARY_STR"))
	cloud, err := good.Cloud()
	if err != nil {
		t.Fatal(err)
	}
	out.print("Cloud client", cloud)

	// Found: the value may come back here, and only here.
	v, err := good.Get(ctx, "CANARY_STR")
	reveal(t, "Get", v, c.value)
	out.err("Get", err)
	v, _ = good.Get(ctx, "CANARY_JSON")
	reveal(t, "Get of a JSON string", v, map[string]any{"pw": c.value})
	s, _ := good.GetString(ctx, "CANARY_STR")
	reveal(t, "GetString", s, c.value)
	var decoded struct{ Pw string }
	out.err("Decode", good.Decode(ctx, "CANARY_OBJ", &decoded))
	reveal(t, "Decode", decoded.Pw, c.value)
	v, _ = good.Secret("CFG_SECRET").Get(ctx)
	reveal(t, "config secret", v, c.value)
	ok, err := good.Exists(ctx, "CANARY_STR")
	reveal(t, "Exists", ok, true)
	out.err("Exists", err)

	// Every kind of failure.
	_, err = good.Get(ctx, "MISSING")
	expect(t, out, "cloud not found", err, secrets.ErrNotFound)
	_, err = resolver(api, c.token, true, nil).Get(ctx, "CANARY_STR")
	expect(t, out, "local not found", err, secrets.ErrNotFound)
	_, err = good.GetString(ctx, "CANARY_OBJ")
	expect(t, out, "GetString of an object", err, nil)
	var n int
	expect(t, out, "Decode into the wrong type", good.Decode(ctx, "CANARY_STR", &n), nil)
	_, err = good.Get(secrets.WithFlowBuilding(ctx), "CANARY_STR")
	expect(t, out, "flow building", err, secrets.ErrFlowBuilding)
	for _, name := range []string{"", "bad\x01name", strings.Repeat("n", 300)} {
		_, err = good.Get(ctx, name)
		expect(t, out, "invalid name", err, secrets.ErrInvalidName)
	}

	bad := resolver(api, c.badToken, false, nil)
	_, err = bad.Get(ctx, "CANARY_STR")
	expect(t, out, "bad token Get", err, client.ErrUnauthenticated)
	_, err = bad.Exists(ctx, "CANARY_STR")
	expect(t, out, "bad token Exists", err, client.ErrUnauthenticated)
	out.print("Resolver with a bad token", bad)

	for _, tt := range []struct {
		path string
		kind error // of Get's error; nil: Get succeeds (the value is a JSON scalar)
	}{
		{"/malformed", client.ErrMalformedResponse},
		{"/wrongshape", nil},
		{"/jsonerror", client.ErrTransient},
		{"/transient", client.ErrTransient},
		{"/echo", nil},
		{"/graphqlecho", client.ErrUnauthenticated},
	} {
		r := resolver(badAPI+tt.path, c.token, false, nil)
		v, err := r.Get(ctx, "CANARY_STR")
		if tt.kind == nil && tt.path == "/wrongshape" {
			reveal(t, "Get from "+tt.path, v, map[string]any{"x": c.value})
		} else {
			expect(t, out, "Get from "+tt.path, err, tt.kind)
		}
		_, err = r.Exists(ctx, "CANARY_STR")
		expect(t, out, "Exists from "+tt.path, err, nil)
	}

	// Credentials in the API URL are refused before anything is sent.
	r := resolver("http://user:"+c.token+"@127.0.0.1:1", c.token, false, nil)
	_, err = r.Get(ctx, "CANARY_STR")
	var ce *secrets.ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("credentials in the API URL: err = %v, want a configuration error", err)
	}
	expect(t, out, "API URL with credentials", err, nil)
	out.print("Resolver with credentials in the URL", r)
	_, err = client.New("ftp://user:"+c.token+"@127.0.0.1/", client.WithToken(c.token))
	expect(t, out, "client.New with a bad URL", err, nil)
	_, err = client.New("http://127.0.0.1:1/graphql", client.WithToken(c.token), client.WithRetries(-1))
	expect(t, out, "client.New with a bad option", err, nil)

	// The client directly: set and delete carry values.
	cl, err := client.New(api+"/graphql", client.WithToken(c.token), client.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	out.err("SetSecret", cl.SetSecret(ctx, "CANARY_SET", json.RawMessage(`"`+c.value+`"`)))
	expect(t, out, "SetSecret of invalid JSON", cl.SetSecret(ctx, "X", json.RawMessage(`{`+c.value)), nil)
	out.err("DeleteSecret", cl.DeleteSecret(ctx, "CANARY_SET"))
	expect(t, out, "DeleteSecret of a missing secret", cl.DeleteSecret(ctx, "CANARY_SET"), client.ErrNotFound)
	out.print("client.Client", cl)
}

func canaryTasks(ctx context.Context, t *testing.T, c canaries, out *sink, logger *slog.Logger, api, badAPI string) {
	cfg := secrets.DefaultConfig()
	cfg.API, cfg.APIKey, cfg.UseLocalSecrets = api, c.token, false
	r, err := secrets.NewResolver(cfg, quick(logger))
	if err != nil {
		t.Fatal(err)
	}
	runner := secrets.Runner{Logger: logger}
	fast := []secrets.TaskOption{secrets.WithMaxRetries(2), secrets.WithRetryDelay(time.Millisecond)}

	// Success: the Value prints as the mask everywhere; Reveal gives it.
	task, err := secrets.NewTask("CANARY_STR", append(fast, secrets.WithResolver(r))...)
	if err != nil {
		t.Fatal(err)
	}
	v, err := runner.Run(ctx, task)
	reveal(t, "Runner.Run", v.Reveal(), c.value)
	out.err("Runner.Run", err)
	out.print("Value", v)
	out.print("Task", task)
	out.print("Task store", task.Store())
	data, err := json.Marshal(task)
	out.text("Task JSON", string(data))
	out.err("Task JSON", err)

	h := task.ResultHandler()
	out.print("SecretResultHandler", h)
	loc, err := h.Write(v)
	out.text("result location", loc)
	out.err("result handler Write", err)
	loc2, _ := h.Write(v.Reveal())
	out.text("result location of a revealed value", loc2)
	read, err := h.Read(ctx, loc)
	out.err("result handler Read", err)
	out.print("result handler Read", read)
	if rv, ok := read.(secrets.Value); !ok || rv.Reveal() != c.value {
		t.Errorf("Read = %v, want a Value holding the canary", read)
	}
	_, err = h.Read(ctx, c.value)
	expect(t, out, "result handler Read of a wrong location", err, nil)

	// Every failure kind through a task and the Runner.
	fail := func(label, api, token, name string, kind error) {
		t.Helper()
		cfg := secrets.DefaultConfig()
		cfg.API, cfg.APIKey, cfg.UseLocalSecrets = api, token, false
		r, err := secrets.NewResolver(cfg, quick(logger))
		if err != nil {
			t.Fatal(err)
		}
		task, err := secrets.NewTask(name, append(fast, secrets.WithResolver(r))...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = runner.Run(ctx, task)
		expect(t, out, "task: "+label, err, kind)
		_, err = task.ResultHandler().Read(ctx, name)
		expect(t, out, "task result handler: "+label, err, kind)
	}
	fail("not found", api, c.token, "MISSING", secrets.ErrNotFound)
	fail("bad token", api, c.badToken, "CANARY_STR", client.ErrUnauthenticated)
	fail("malformed answer", badAPI+"/malformed", c.token, "CANARY_STR", client.ErrMalformedResponse)
	fail("transient after retries", badAPI+"/transient", c.token, "CANARY_STR", client.ErrTransient)
	fail("proxy echoing the token", badAPI+"/echo", c.token, "CANARY_STR", nil)

	_, err = secrets.NewTask("", secrets.WithResolver(r))
	expect(t, out, "task without a name", err, secrets.ErrInvalidName)
	_, err = secrets.NewTask("CANARY_STR", secrets.WithResultHandler(h))
	expect(t, out, "task with a result handler", err, secrets.ErrResultHandlerNotConfigurable)
	_, err = task.Run(secrets.WithFlowBuilding(ctx))
	expect(t, out, "task while building", err, secrets.ErrFlowBuilding)
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	_, err = runner.Run(stopped, task)
	expect(t, out, "task with an ended context", err, context.Canceled)

	// The environment-variable store.
	env := map[string]string{"CANARY_ENV": c.value, "CANARY_INT": "12" + c.value, "CANARY_JSON": "{" + c.value}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	envTask, _ := secrets.NewTask("CANARY_ENV", secrets.WithStore(secrets.EnvStore{Lookup: lookup}))
	v, err = envTask.Run(ctx)
	reveal(t, "EnvStore", v.Reveal(), c.value)
	out.err("EnvStore", err)
	out.print("env Task", envTask)
	data, _ = json.Marshal(envTask)
	out.text("env Task JSON", string(data))
	for _, tt := range []struct {
		label string
		store secrets.EnvStore
		name  string
		kind  error
	}{
		{"env cast to int", secrets.EnvStore{Cast: secrets.CastInt, Lookup: lookup}, "CANARY_INT", nil},
		{"env cast to bool", secrets.EnvStore{Cast: secrets.CastBool, Lookup: lookup}, "CANARY_ENV", nil},
		{"env cast to float", secrets.EnvStore{Cast: secrets.CastFloat, Lookup: lookup}, "CANARY_ENV", nil},
		{"env cast to JSON", secrets.EnvStore{Cast: secrets.CastJSON, Lookup: lookup}, "CANARY_JSON", nil},
		{"env required and unset", secrets.EnvStore{Required: true, Lookup: lookup}, "UNSET", secrets.ErrNotFound},
	} {
		task, err := secrets.NewTask(tt.name, secrets.WithStore(tt.store), secrets.WithRetryDelay(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		_, err = runner.Run(ctx, task)
		expect(t, out, tt.label, err, tt.kind)
	}

	// The file store.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "CANARY_FILE"), []byte(c.value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := c.value + strings.Repeat("x", secrets.MaxSecretFileBytes)
	if err := os.WriteFile(filepath.Join(dir, "HUGE"), []byte(huge), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "A_DIR"), 0o700); err != nil {
		t.Fatal(err)
	}
	fileTask, _ := secrets.NewTask("CANARY_FILE", secrets.WithStore(secrets.FileStore{Dir: dir}))
	v, err = fileTask.Run(ctx)
	reveal(t, "FileStore", v.Reveal(), c.value)
	out.err("FileStore", err)
	for _, tt := range []struct {
		name string
		kind error
	}{
		{"HUGE", nil}, {"MISSING", secrets.ErrNotFound}, {"A_DIR", nil}, {"../CANARY_FILE", secrets.ErrInvalidName},
	} {
		_, err := secrets.FileStore{Dir: dir}.Get(ctx, tt.name)
		expect(t, out, "file store "+tt.name, err, tt.kind)
	}
	_, err = secrets.NewTask("X", secrets.WithStore(secrets.FileStore{}))
	expect(t, out, "file store without a path", err, nil)

	// Tasks made again from JSON.
	d := secrets.TaskDecoder{Resolver: r, Lookup: lookup}
	for _, tk := range []*secrets.Task{task, envTask, fileTask} {
		data, _ := json.Marshal(tk)
		back, err := d.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		v, err := back.Run(ctx)
		reveal(t, "decoded task "+tk.Name(), v.Reveal(), c.value)
		out.err("decoded task", err)
		out.print("decoded task", back)
	}
	_, err = d.Decode([]byte(`{"name":"X","store":{"kind":"vault"}}`))
	expect(t, out, "decoding an unknown store kind", err, nil)
}

func canaryConfig(ctx context.Context, t *testing.T, c canaries, out *sink) {
	home := t.TempDir()
	write := func(text string) string {
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for label, env := range map[string][]string{
		"a token on a line that is not TOML": {secrets.EnvUserConfigPath + "=" + write("[cloud]\napi_key = "+c.token+"\n")},
		"a token where a boolean belongs":    {secrets.EnvUserConfigPath + "=" + write("[cloud]\nuse_local_secrets = \""+c.token+"\"\n")},
		"a value that breaks the file":       {secrets.EnvUserConfigPath + "=" + write("[context.secrets]\nK = \""+c.value+"\n")},
		"a token in a boolean variable":      {secrets.EnvUseLocalSecrets + "=" + c.token},
	} {
		_, err := secrets.LoadConfigEnv(append(env, "HOME="+home))
		var ce *secrets.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a *ConfigError", label, err)
		}
		out.err("config: "+label, err)
	}

	cfg, err := secrets.LoadConfigEnv([]string{
		"HOME=" + home,
		secrets.EnvUserConfigPath + "=" + write("[cloud]\napi_key = \""+c.token+"\"\n[context.secrets]\nK = \""+c.value+"\"\n"),
		secrets.EnvUseLocalSecrets + "=false",
	})
	if err != nil {
		t.Fatal(err)
	}
	out.print("loaded Config", cfg)
	r, err := secrets.NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out.print("Resolver of the loaded Config", r)
	_, err = r.Get(ctx, "OTHER")
	expect(t, out, "cloud mode without an API", err, nil)
	v, _ := r.Get(ctx, "K")
	reveal(t, "config secret", v, c.value)
}

// canaryDefault drives the package-level Get and the Default resolver in a
// child process, whose environment points them at the mock.
func canaryDefault(t *testing.T, c canaries, out *sink, api string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCanaryDefaultChild$", "-test.v")
	cmd.WaitDelay = 5 * time.Second
	// An empty config file keeps the developer's own out. HOME stays as it
	// is: the child's TestMain builds the binaries with Go's cache under it.
	emptyConfig := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(emptyConfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// No PREFECT__ variable of the developer's may point the child
	// anywhere else.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PREFECT__") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		canaryChildEnv+"=1",
		secrets.EnvUserConfigPath+"="+emptyConfig,
		secrets.EnvAPI+"="+api,
		secrets.EnvAuthToken+"="+c.token,
		secrets.EnvUseLocalSecrets+"=false",
		"CANARY_NAME=CANARY_STR",
	)
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, output)
	}

	revealed := 0
	for _, line := range strings.Split(string(output), "\n") {
		if v, ok := strings.CutPrefix(line, "REVEALED "); ok {
			reveal(t, "child", v, c.value)
			revealed++
			continue
		}
		out.text("default resolver (child process)", line)
	}
	if revealed != 3 || !strings.Contains(string(output), "--- PASS: TestCanaryDefaultChild") {
		t.Errorf("the child revealed %d values, want 3:\n%s", revealed, output)
	}
}

// TestCanaryDefaultChild is the child of canaryDefault; it prints what it
// sees, and "REVEALED " lines for values asked for on purpose.
func TestCanaryDefaultChild(t *testing.T) {
	if os.Getenv(canaryChildEnv) == "" {
		t.Skip("run by TestCanary in a child process")
	}
	ctx := context.Background()
	name := os.Getenv("CANARY_NAME")
	show := func(label string, v any) {
		fmt.Printf("%s: %v | %+v | %#v | %s | %x | %d\n", label, v, v, v, v, v, v)
		data, _ := json.Marshal(v)
		fmt.Printf("%s JSON: %s\n", label, data)
	}

	v, err := secrets.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("REVEALED", v)
	_, err = secrets.Get(ctx, "MISSING")
	show("secrets.Get not found", err)
	_, err = secrets.Get(ctx, "")
	show("secrets.Get invalid name", err)
	r, err := secrets.Default()
	if err != nil {
		t.Fatal(err)
	}
	show("Default resolver", r)
	show("Default config", r.Config())

	task, err := secrets.NewTask(name) // the PrefectStore on Default
	if err != nil {
		t.Fatal(err)
	}
	tv, err := task.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("REVEALED", tv.Reveal())
	show("Task", task)
	show("Value", tv)

	data, _ := json.Marshal(task)
	var back secrets.Task
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	bv, err := secrets.Runner{}.Run(ctx, &back)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("REVEALED", bv.Reveal())
	_, err = secrets.PrefectStore{}.Get(ctx, "MISSING")
	show("PrefectStore not found", err)
	show("PrefectStore", secrets.PrefectStore{})
}

func canaryCLI(t *testing.T, c canaries, out *sink, api, badAPI string) {
	env := cloudEnv(api, c.token)
	run := func(label string, env []string, stdin string, wantCode int, args ...string) result {
		t.Helper()
		r := cli(t, env, stdin, append([]string{"--debug"}, args...)...)
		if r.code != wantCode {
			t.Errorf("%s: exit %d, want %d (stderr %q)", label, r.code, wantCode, r.stderr)
		}
		out.text("prefect-secrets "+label+": stderr", r.stderr)
		return r
	}
	// secret runs a command whose stdout is the value, asked for on purpose.
	secret := func(label string, env []string, want string, args ...string) {
		t.Helper()
		r := run(label, env, "", 0, args...)
		reveal(t, label, r.stdout, want)
	}
	quiet := func(label string, env []string, stdin string, wantCode int, args ...string) {
		t.Helper()
		r := run(label, env, stdin, wantCode, args...)
		out.text("prefect-secrets "+label+": stdout", r.stdout)
	}

	quiet("set from stdin", env, c.value+"\n", 0, "set", "CANARY_SET")
	quiet("set as JSON", env, `{"pw": "`+c.value+`"}`, 0, "set", "--json", "CANARY_SET_JSON", "-")
	secret("get", env, c.value+"\n", "get", "CANARY_SET")
	secret("get --json", env, `"`+c.value+`"`+"\n", "get", "--json", "CANARY_SET")
	secret("get an object", env, `{"pw":"`+c.value+`"}`+"\n", "get", "CANARY_SET_JSON")
	secret("get a seeded JSON string", env, `{"pw":"`+c.value+`"}`+"\n", "get", "CANARY_JSON")
	quiet("exists", env, "", 0, "exists", "CANARY_SET")
	quiet("list", env, "", 0, "list")
	quiet("delete", env, "", 0, "delete", "CANARY_SET")
	quiet("get after delete", env, "", 1, "get", "CANARY_SET")
	quiet("exists after delete", env, "", 1, "exists", "CANARY_SET")
	quiet("delete again", env, "", 1, "delete", "CANARY_SET")

	quiet("bad token flag", env, "", 3, "--token", c.badToken, "get", "CANARY_STR")
	quiet("bad token env", cloudEnv(api, c.badToken), "", 3, "get", "CANARY_STR")
	quiet("bad token list", cloudEnv(api, c.badToken), "", 3, "list")
	quiet("bad token set", cloudEnv(api, c.badToken), c.value, 3, "set", "X")
	quiet("set invalid JSON", env, "{nope "+c.value, 2, "set", "--json", "BAD")
	quiet("set invalid JSON as an argument", env, "", 2, "set", "--json", "BAD", "{nope "+c.value)
	quiet("set without a name", env, c.value, 2, "set", "")
	quiet("get an invalid name", env, "", 2, "get", "bad\x01name")
	quiet("malformed answer", cloudEnv(badAPI+"/malformed", c.token), "", 4, "get", "CANARY_STR")
	quiet("transient answer", cloudEnv(badAPI+"/transient", c.token), "", 4, "get", "CANARY_STR")
	quiet("proxy echoing the token", cloudEnv(badAPI+"/echo", c.token), "", 4, "get", "CANARY_STR")
	quiet("unreachable API", cloudEnv("http://127.0.0.1:1", c.token), "", 4, "get", "CANARY_STR")

	configFile := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(configFile, []byte("[cloud]\nauth_token = "+c.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	quiet("config file that is not TOML", []string{secrets.EnvUserConfigPath + "=" + configFile}, "", 2, "get", "K")
	quiet("token in a boolean variable", []string{secrets.EnvUseLocalSecrets + "=" + c.token}, "", 2, "get", "K")
	quiet("cloud mode without an API", []string{secrets.EnvUseLocalSecrets + "=false", secrets.EnvAuthToken + "=" + c.token}, "", 2, "get", "K")

	local := []string{secrets.EnvSecretPrefix + "CANARY_LOCAL=" + c.value, secrets.EnvAuthToken + "=" + c.token}
	secret("get a local secret", local, c.value+"\n", "get", "CANARY_LOCAL")
	quiet("local not found", local, "", 1, "get", "MISSING")
	quiet("list local names", local, "", 0, "list")

	seed := writeSeed(t, map[string]any{"CANARY_MOCK": c.value})
	secret("get from --mock", nil, c.value+"\n", "--mock", seed, "get", "CANARY_MOCK")
	quiet("not found in --mock", nil, "", 1, "--mock", seed, "get", "MISSING")
}

func canaryMockCLI(t *testing.T, c canaries, out *sink) {
	badSeed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(badSeed, []byte("{\n  \"A\": \""+c.value+"\" oops\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for label, args := range map[string][]string{
		"seed that is not JSON": {"--seed", badSeed},
		"token with a space":    {"--token", c.token + " x"},
		"empty tenant":          {"--token", "=" + c.token},
		"token given twice":     {"--token", c.token, "--token", c.token},
		"unknown flag":          {"--tokn", c.token},
	} {
		// Each should exit at once; the timeout only keeps a server that
		// started by mistake from hanging the test.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin.mock, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
		cmd.WaitDelay = 5 * time.Second
		output, err := cmd.CombinedOutput()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%s: err = %v, want exit 2; output %q", label, err, output)
		}
		out.text("prefect-mockserver "+label, string(output))
	}
}
