package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// taskCloud is a Cloud that answers from a map of JSON values and counts
// the questions.
type taskCloud struct {
	values map[string]string
	calls  atomic.Int32
}

func (c *taskCloud) SecretValue(_ context.Context, name string) (json.RawMessage, error) {
	c.calls.Add(1)
	v, ok := c.values[name]
	if !ok {
		return nil, &client.Error{Op: "secret_value", Name: name, URL: "http://127.0.0.1:9/graphql",
			Err: client.GraphQLErrors{{Message: "No value found for the requested key"}}}
	}
	return json.RawMessage(v), nil
}

func (c *taskCloud) SecretNames(context.Context) ([]string, error) {
	c.calls.Add(1)
	return nil, nil
}

// newTaskResolver returns a Resolver with use_local_secrets as given and a
// taskCloud behind it.
func newTaskResolver(t *testing.T, local bool, cloudValues map[string]string) (*secrets.Resolver, *taskCloud) {
	t.Helper()
	cfg := secrets.DefaultConfig()
	cfg.UseLocalSecrets = local
	cloud := &taskCloud{values: cloudValues}
	r, err := secrets.NewResolver(cfg, secrets.WithCloud(cloud))
	if err != nil {
		t.Fatal(err)
	}
	return r, cloud
}

// countingStore answers from a map and counts the questions.
type countingStore struct {
	values map[string]any
	calls  atomic.Int32
}

func (s *countingStore) Kind() string { return "counting" }

func (s *countingStore) Get(_ context.Context, name string) (any, error) {
	s.calls.Add(1)
	v, ok := s.values[name]
	if !ok {
		return nil, fmt.Errorf("counting store: %q: %w", name, secrets.ErrNotFound)
	}
	return v, nil
}

// Prefect's own tests of creating a Secret task, one row each.
func TestNewTaskFollowsPrefect(t *testing.T) {
	tests := []struct {
		name        string
		secret      string
		opts        []secrets.TaskOption
		wantRetries int
		wantDelay   time.Duration
		wantErr     error  // matched with errors.Is
		says        string // the error message holds this
	}{
		{name: "name is required", secret: "", wantErr: secrets.ErrInvalidName, says: "name is empty"},
		{name: "default retries are 2 with a 1 s delay", secret: "test", wantRetries: 2, wantDelay: time.Second},
		{name: "retries can be overridden to 0 and no delay", secret: "test",
			opts: []secrets.TaskOption{secrets.WithMaxRetries(0), secrets.WithRetryDelay(0)}},
		{name: "retries can be raised", secret: "test",
			opts:        []secrets.TaskOption{secrets.WithMaxRetries(5), secrets.WithRetryDelay(3 * time.Second)},
			wantRetries: 5, wantDelay: 3 * time.Second},
		{name: "result handler is refused", secret: "test",
			opts:    []secrets.TaskOption{secrets.WithResultHandler(&secrets.SecretResultHandler{})},
			wantErr: secrets.ErrResultHandlerNotConfigurable, says: "result handlers are not configurable for secrets"},
		{name: "negative retries are refused", secret: "test",
			opts: []secrets.TaskOption{secrets.WithMaxRetries(-1)}, says: "negative"},
		{name: "negative delay is refused", secret: "test",
			opts: []secrets.TaskOption{secrets.WithRetryDelay(-time.Second)}, says: "negative"},
		{name: "nil store is refused", secret: "test",
			opts: []secrets.TaskOption{secrets.WithStore(nil)}, says: "nil Store"},
		{name: "nil resolver is refused", secret: "test",
			opts: []secrets.TaskOption{secrets.WithResolver(nil)}, says: "nil *Resolver"},
		{name: "a store that fails validation is refused", secret: "test",
			opts: []secrets.TaskOption{secrets.WithStore(secrets.FileStore{})}, says: "FileStore needs a Path or a Dir"},
		{name: "a name with a control character is refused", secret: "a\nb", wantErr: secrets.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, err := secrets.NewTask(tt.secret, tt.opts...)
			if tt.wantErr != nil || tt.says != "" {
				if err == nil {
					t.Fatalf("NewTask succeeded: %v", task)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want one matching %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.says) {
					t.Errorf("err %q does not say %q", err, tt.says)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if task.Name() != tt.secret || task.MaxRetries() != tt.wantRetries || task.RetryDelay() != tt.wantDelay {
				t.Errorf("task = %v, want name %q, %d retries, delay %v", task, tt.secret, tt.wantRetries, tt.wantDelay)
			}
			if task.Store().Kind() != secrets.KindPrefect {
				t.Errorf("default store kind = %q, want %q", task.Store().Kind(), secrets.KindPrefect)
			}
		})
	}
}

// Prefect's own tests of running a Secret task: Secret.get semantics.
func TestTaskRunFollowsPrefect(t *testing.T) {
	cloudValues := map[string]string{
		"CLOUD_STR":  `"from cloud"`,
		"CLOUD_JSON": `"{\"x\": 42}"`,
		"BOTH":       `"cloud loses"`,
	}
	tests := []struct {
		name      string
		local     bool
		ctx       map[string]any
		building  bool
		secret    string
		want      any
		wantErr   error
		says      string
		wantCalls int32
	}{
		{name: "context first", local: true, ctx: map[string]any{"test": 42}, secret: "test", want: 42},
		{name: "context first in cloud mode", ctx: map[string]any{"BOTH": "ctx"}, secret: "BOTH", want: "ctx"},
		{name: "local not found", local: true, secret: "test",
			wantErr: secrets.ErrNotFound, says: `Local Secret "test" was not found.`},
		{name: "local mode never asks cloud", local: true, secret: "CLOUD_STR", wantErr: secrets.ErrNotFound},
		{name: "cloud value when not in context", secret: "CLOUD_STR", want: "from cloud", wantCalls: 1},
		{name: "cloud not found names the secret", secret: "NOPE", wantErr: secrets.ErrNotFound,
			says: `Secret "NOPE" was not found in Prefect Cloud`, wantCalls: 1},
		{name: "JSON string from context is auto-decoded", local: true, ctx: map[string]any{"test": `{"x": 42}`},
			secret: "test", want: map[string]any{"x": int64(42)}},
		{name: "JSON string from cloud is auto-decoded", secret: "CLOUD_JSON",
			want: map[string]any{"x": int64(42)}, wantCalls: 1},
		{name: "plain string stays a string", local: true, ctx: map[string]any{"test": "not {json"},
			secret: "test", want: "not {json"},
		{name: "nil value is found", local: true, ctx: map[string]any{"test": nil}, secret: "test", want: nil},
		{name: "secrets are read at run time only", local: true, ctx: map[string]any{"test": 1}, building: true,
			secret: "test", wantErr: secrets.ErrFlowBuilding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, cloud := newTaskResolver(t, tt.local, cloudValues)
			task, err := secrets.NewTask(tt.secret, secrets.WithResolver(r))
			if err != nil {
				t.Fatal(err)
			}
			ctx := secrets.WithSecrets(context.Background(), tt.ctx)
			if tt.building {
				ctx = secrets.WithFlowBuilding(ctx)
			}

			v, err := task.Run(ctx)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.says) {
					t.Fatalf("err = %v, want %v saying %q", err, tt.wantErr, tt.says)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(v.Reveal(), tt.want) {
				t.Errorf("Run = %#v, want %#v", v.Reveal(), tt.want)
			}
			if got := cloud.calls.Load(); got != tt.wantCalls {
				t.Errorf("Cloud asked %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestTaskRunWithEndedContextAsksNoStore(t *testing.T) {
	store := &countingStore{values: map[string]any{"K": "v"}}
	task, err := secrets.NewTask("K", secrets.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := task.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("store asked %d times", n)
	}
}

func TestTaskRunWhileBuildingFailsForEveryStore(t *testing.T) {
	store := &countingStore{values: map[string]any{"K": "v"}}
	task, err := secrets.NewTask("K", secrets.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}

	_, err = task.Run(secrets.WithFlowBuilding(context.Background()))
	if !errors.Is(err, secrets.ErrFlowBuilding) || !strings.Contains(err.Error(), `"K"`) {
		t.Fatalf("err = %v, want ErrFlowBuilding naming the secret", err)
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("store asked %d times", n)
	}
}

// Prefect's SecretResultHandler tests: Write returns the name whatever the
// value, even one that cannot be serialised.
func TestSecretResultHandlerWriteReturnsTheName(t *testing.T) {
	tests := []struct {
		name  string
		value any
	}{
		{"42", 42},
		{"stringy", "stringy"},
		{"nil", nil},
		{"a map holding a func", map[string]any{"x": func() {}}},
		{"a channel", make(chan int)},
		{"a Value", secrets.NewValue("hidden")},
	}
	task, err := secrets.NewTask("test")
	if err != nil {
		t.Fatal(err)
	}
	h := task.ResultHandler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := h.Write(tt.value)
			if err != nil || loc != "test" {
				t.Fatalf("Write = %q, %v; want %q", loc, err, "test")
			}
		})
	}
}

// Prefect's round trip: what Write returns, Read turns back into the value
// by running the task again.
func TestSecretResultHandlerRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		value any
	}{
		{"42", 42},
		{"stringy", "stringy"},
		{"nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &countingStore{values: map[string]any{"test": tt.value}}
			task, err := secrets.NewTask("test", secrets.WithStore(store))
			if err != nil {
				t.Fatal(err)
			}
			h := task.ResultHandler()

			loc, err := h.Write(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Read(context.Background(), loc)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := got.(secrets.Value)
			if !ok || !reflect.DeepEqual(v.Reveal(), tt.value) {
				t.Errorf("Read = %#v (%T), want a Value holding %#v", got, got, tt.value)
			}
			if n := store.calls.Load(); n != 1 {
				t.Errorf("store asked %d times, want 1 (Read runs the task)", n)
			}
		})
	}
}

func TestSecretResultHandlerRefusesAnotherLocation(t *testing.T) {
	store := &countingStore{values: map[string]any{"A": 1, "B": 2}}
	task, err := secrets.NewTask("A", secrets.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}

	_, err = task.ResultHandler().Read(context.Background(), "B")
	if err == nil || !strings.Contains(err.Error(), `"A"`) || strings.Contains(err.Error(), `"B"`) {
		t.Fatalf("err = %v, want one naming the secret but not quoting the location", err)
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("store asked %d times", n)
	}
	if _, err := (&secrets.SecretResultHandler{}).Write(1); err == nil {
		t.Error("a handler with no task wrote a result")
	}
}

// tokenStore is a custom store holding a credential in an exported field,
// to show that printing a Task never reaches into it.
type tokenStore struct {
	Token string
}

func (tokenStore) Kind() string                             { return "vault" }
func (tokenStore) Get(context.Context, string) (any, error) { return nil, nil }

func TestPrintingATaskShowsNameAndKindOnly(t *testing.T) {
	const token = "tok-task-canary-31"
	task, err := secrets.NewTask("DB", secrets.WithStore(tokenStore{Token: token}))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, arg := range []any{task, *task} {
			out := fmt.Sprintf(verb, arg)
			if strings.Contains(out, token) {
				t.Errorf("%s of %T printed the store's token: %q", verb, arg, out)
			}
			if !strings.Contains(out, `"DB"`) || !strings.Contains(out, "vault") {
				t.Errorf("%s of %T = %q; want the name and the store kind", verb, arg, out)
			}
		}
	}
}

func TestTaskJSON(t *testing.T) {
	lookup := func(key string) (string, bool) {
		if key == "DB_PASSWORD" {
			return "from-env", true
		}
		return "", false
	}
	tests := []struct {
		name  string
		task  func(t *testing.T) *secrets.Task
		json  string
		check func(t *testing.T, got *secrets.Task)
	}{
		{
			name: "prefect store with defaults",
			task: func(t *testing.T) *secrets.Task { return mustTask(t, "API") },
			json: `{"name":"API","store":{"kind":"prefect"},"max_retries":2,"retry_delay":"1s"}`,
		},
		{
			name: "env store with its configuration",
			task: func(t *testing.T) *secrets.Task {
				return mustTask(t, "DB", secrets.WithStore(secrets.EnvStore{Var: "DB_PASSWORD", Cast: secrets.CastString, Required: true, Lookup: lookup}),
					secrets.WithMaxRetries(0), secrets.WithRetryDelay(0))
			},
			json: `{"name":"DB","store":{"kind":"env","config":{"var":"DB_PASSWORD","cast":"string","required":true}},"max_retries":0,"retry_delay":"0s"}`,
		},
		{
			name: "file store with its path",
			task: func(t *testing.T) *secrets.Task {
				return mustTask(t, "TLS_KEY", secrets.WithStore(secrets.FileStore{Path: "/run/secrets/tls"}), secrets.WithRetryDelay(1500*time.Millisecond))
			},
			json: `{"name":"TLS_KEY","store":{"kind":"file","config":{"path":"/run/secrets/tls"}},"max_retries":2,"retry_delay":"1.5s"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := tt.task(t)
			data, err := json.Marshal(task)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.json {
				t.Fatalf("json.Marshal =\n%s\nwant\n%s", data, tt.json)
			}

			var back secrets.Task
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if back.Name() != task.Name() || back.MaxRetries() != task.MaxRetries() ||
				back.RetryDelay() != task.RetryDelay() || back.Store().Kind() != task.Store().Kind() {
				t.Errorf("round trip = %v, want %v", back, task)
			}
			again, _ := json.Marshal(&back)
			if string(again) != tt.json {
				t.Errorf("marshalled again =\n%s\nwant\n%s", again, tt.json)
			}
		})
	}
}

func TestTaskDecoderMakesWorkingTasks(t *testing.T) {
	r, _ := newTaskResolver(t, true, nil)
	d := secrets.TaskDecoder{
		Resolver: r,
		Lookup: func(key string) (string, bool) {
			return map[string]string{"PORT": "5432"}[key], key == "PORT"
		},
		Stores: map[string]func(json.RawMessage) (secrets.Store, error){
			"counting": func(cfg json.RawMessage) (secrets.Store, error) {
				var c struct{ Value string }
				if err := json.Unmarshal(cfg, &c); err != nil {
					return nil, err
				}
				return &countingStore{values: map[string]any{"C": c.Value}}, nil
			},
		},
	}
	tests := []struct {
		name string
		json string
		ctx  map[string]any
		want any
	}{
		{"prefect kind binds the decoder's resolver", `{"name":"K","store":{"kind":"prefect"}}`, map[string]any{"K": "ctx"}, "ctx"},
		{"env kind uses the decoder's lookup and cast", `{"name":"PORT","store":{"kind":"env","config":{"cast":"int"}}}`, nil, int64(5432)},
		{"custom kind uses its constructor", `{"name":"C","store":{"kind":"counting","config":{"Value":"made"}}}`, nil, "made"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, err := d.Decode([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if task.MaxRetries() != secrets.DefaultMaxRetries || task.RetryDelay() != secrets.DefaultRetryDelay {
				t.Errorf("absent retry settings should be Prefect's defaults: %v", task)
			}
			v, err := task.Run(secrets.WithSecrets(context.Background(), tt.ctx))
			if err != nil || !reflect.DeepEqual(v.Reveal(), tt.want) {
				t.Errorf("Run = %#v, %v; want %#v", v.Reveal(), err, tt.want)
			}
		})
	}
}

func TestTaskDecoderRefusesBadJSON(t *testing.T) {
	tests := []struct {
		name, json, says string
		wantErr          error
	}{
		{"unknown kind", `{"name":"K","store":{"kind":"vault"}}`, `unknown store kind "vault"`, nil},
		{"no kind", `{"name":"K","store":{}}`, "no kind", nil},
		{"unknown field", `{"name":"K","store":{"kind":"prefect"},"result_handler":"s3"}`, "result_handler", nil},
		{"unknown store setting", `{"name":"K","store":{"kind":"env","config":{"variable":"X"}}}`, "variable", nil},
		{"bad duration", `{"name":"K","store":{"kind":"prefect"},"retry_delay":"soon"}`, `retry_delay "soon"`, nil},
		{"negative retries", `{"name":"K","store":{"kind":"prefect"},"max_retries":-1}`, "negative", nil},
		{"unknown cast", `{"name":"K","store":{"kind":"env","config":{"cast":"decimal"}}}`, `unknown cast "decimal"`, nil},
		{"no name", `{"store":{"kind":"prefect"}}`, "name is empty", secrets.ErrInvalidName},
		{"not JSON", `{"name":`, "secret task JSON", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var task secrets.Task
			if err := json.Unmarshal([]byte(tt.json), &task); err == nil {
				t.Fatalf("json.Unmarshal made %v", task)
			}
			_, err := secrets.TaskDecoder{}.Decode([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want one saying %q", err, tt.says)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTaskJSONHoldsNoTokenOrValue(t *testing.T) {
	const token, value = "tok-json-canary-58", "val-json-canary-58"
	cfg := secrets.DefaultConfig()
	cfg.API, cfg.APIKey = "http://127.0.0.1:9", token
	cfg.Secrets = map[string]any{"K": value}
	r, err := secrets.NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	task := mustTask(t, "K", secrets.WithResolver(r))
	if v, err := task.Run(context.Background()); err != nil || v.Reveal() != value {
		t.Fatalf("Run = %v, %v", v.Reveal(), err)
	}

	data, err := json.Marshal(task)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), token) || strings.Contains(string(data), value) {
		t.Errorf("JSON holds a token or value: %s", data)
	}
}

func mustTask(t *testing.T, name string, opts ...secrets.TaskOption) *secrets.Task {
	t.Helper()
	task, err := secrets.NewTask(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return task
}
