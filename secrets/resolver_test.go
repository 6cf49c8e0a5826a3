package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// fakeCloud answers from a map of JSON values and counts the questions.
type fakeCloud struct {
	values map[string]string
	err    error
	calls  atomic.Int32
}

func (f *fakeCloud) SecretValue(_ context.Context, name string) (json.RawMessage, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	v, ok := f.values[name]
	if !ok {
		return nil, &client.Error{Op: "secret_value", Name: name, URL: "http://fake/graphql",
			Err: client.GraphQLErrors{{Message: "No value found for the requested key"}}}
	}
	return json.RawMessage(v), nil
}

func (f *fakeCloud) SecretNames(context.Context) ([]string, error) {
	f.calls.Add(1)
	var names []string
	for n := range f.values {
		names = append(names, n)
	}
	return names, f.err
}

// Prefect Core's rules for Secret.get, one row each.
func TestGetFollowsPrefect(t *testing.T) {
	cloudValues := map[string]string{
		"CLOUD_STR":  `"from cloud"`,
		"CLOUD_JSON": `"{\"x\": 42}"`,
		"CLOUD_NUM":  `"42"`,
		"CLOUD_OBJ":  `{"a": [1, 2.5, "b"]}`,
		"CLOUD_NULL": `null`,
		"BOTH":       `"cloud loses"`,
	}
	tests := []struct {
		name      string
		local     bool           // use_local_secrets
		ctx       map[string]any // secrets carried in the context
		cfg       map[string]any // [context.secrets] of the config
		secret    string
		want      any
		wantErr   error
		says      string
		wantCalls int32
	}{
		{name: "context first, local mode", local: true, ctx: map[string]any{"K": "v"}, secret: "K", want: "v"},
		{name: "context first, cloud mode", local: false, ctx: map[string]any{"BOTH": "ctx wins"}, secret: "BOTH", want: "ctx wins"},
		{name: "context beats config", local: true, ctx: map[string]any{"K": "ctx"}, cfg: map[string]any{"K": "cfg"}, secret: "K", want: "ctx"},
		{name: "config secrets count as context", local: true, cfg: map[string]any{"K": "cfg"}, secret: "K", want: "cfg"},
		{name: "local not found", local: true, secret: "NOPE", wantErr: secrets.ErrNotFound, says: `Local Secret "NOPE" was not found.`},
		{name: "local mode never asks cloud", local: true, secret: "CLOUD_STR", wantErr: secrets.ErrNotFound, says: `Local Secret "CLOUD_STR" was not found.`},
		{name: "cloud found", secret: "CLOUD_STR", want: "from cloud", wantCalls: 1},
		{name: "cloud not found names the secret", secret: "NOPE", wantErr: secrets.ErrNotFound, says: `Secret "NOPE" was not found in Prefect Cloud`, wantCalls: 1},
		{name: "cloud JSON string decodes", secret: "CLOUD_JSON", want: map[string]any{"x": int64(42)}, wantCalls: 1},
		{name: "cloud number string decodes", secret: "CLOUD_NUM", want: int64(42), wantCalls: 1},
		{name: "cloud object stays plain", secret: "CLOUD_OBJ", want: map[string]any{"a": []any{int64(1), 2.5, "b"}}, wantCalls: 1},
		{name: "cloud null is found", secret: "CLOUD_NULL", want: nil, wantCalls: 1},
		{name: "context JSON string decodes", local: true, ctx: map[string]any{"K": `{"x": 42}`}, secret: "K", want: map[string]any{"x": int64(42)}},
		{name: "context number string decodes", local: true, ctx: map[string]any{"K": "42"}, secret: "K", want: int64(42)},
		{name: "plain string stays", local: true, ctx: map[string]any{"K": "not {json"}, secret: "K", want: "not {json"},
		{name: "context map stays a map", local: true, ctx: map[string]any{"K": map[string]any{"a": 1}}, secret: "K", want: map[string]any{"a": 1}},
		{name: "context nil is found", local: true, ctx: map[string]any{"K": nil}, secret: "K", want: nil},
		{name: "big whole number keeps every digit", local: true, ctx: map[string]any{"K": "12345678901234567890"}, secret: "K", want: json.Number("12345678901234567890")},
		{name: "big id inside an object keeps every digit", local: true, ctx: map[string]any{"K": `{"id": 98765432109876543210}`}, secret: "K", want: map[string]any{"id": json.Number("98765432109876543210")}},
		{name: "empty name", local: true, secret: "", wantErr: secrets.ErrInvalidName},
		{name: "name not valid UTF-8", local: true, secret: "\xff\xfe", wantErr: secrets.ErrInvalidName},
		{name: "control character in name", local: true, secret: "A\nB", wantErr: secrets.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := &fakeCloud{values: cloudValues}
			cfg := secrets.DefaultConfig()
			cfg.UseLocalSecrets = tt.local
			cfg.Secrets = tt.cfg
			r, err := secrets.NewResolver(cfg, secrets.WithCloud(cloud))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = secrets.WithSecrets(ctx, tt.ctx)
			}

			got, err := r.Secret(tt.secret).Get(ctx)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if tt.says != "" && !strings.Contains(err.Error(), tt.says) {
					t.Errorf("message %q does not say %q", err, tt.says)
				}
			} else if err != nil {
				t.Fatalf("Get: %v", err)
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
			if n := cloud.calls.Load(); n != tt.wantCalls {
				t.Errorf("%d Cloud calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestGetWhileBuildingAFlowFails(t *testing.T) {
	r, _ := secrets.NewResolver(secrets.DefaultConfig())
	ctx := secrets.WithFlowBuilding(secrets.WithSecrets(context.Background(), map[string]any{"K": "v"}))

	_, err := r.Get(ctx, "K")
	if !errors.Is(err, secrets.ErrFlowBuilding) || !strings.Contains(err.Error(), `"K"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestCloudErrorsPassThrough(t *testing.T) {
	cfg := secrets.DefaultConfig()
	cfg.UseLocalSecrets = false
	cloud := &fakeCloud{err: &client.Error{Op: "secret_value", Name: "K", URL: "http://fake/graphql",
		Err: &client.HTTPError{StatusCode: 401, Status: "401 Unauthorized"}}}
	r, _ := secrets.NewResolver(cfg, secrets.WithCloud(cloud))

	_, err := r.Get(context.Background(), "K")
	if !errors.Is(err, client.ErrUnauthenticated) || errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestCloudModeWithoutAPIIsAConfigError(t *testing.T) {
	cfg := secrets.DefaultConfig()
	cfg.UseLocalSecrets = false
	r, _ := secrets.NewResolver(cfg)

	_, err := r.Get(context.Background(), "K")
	var ce *secrets.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cloud.api") {
		t.Fatalf("err = %v", err)
	}

	// A secret in the context needs no API at all.
	v, err := r.Get(secrets.WithSecrets(context.Background(), map[string]any{"K": "v"}), "K")
	if err != nil || v != "v" {
		t.Fatalf("got %v, %v", v, err)
	}
}

func TestTypedAccessors(t *testing.T) {
	cfg := secrets.DefaultConfig()
	cfg.UseLocalSecrets = false
	cloud := &fakeCloud{values: map[string]string{
		"PIN":  `"007"`,
		"CODE": `"42"`,
		"CONF": `"{\"host\": \"db\", \"port\": 5432}"`,
		"OBJ":  `{"host": "db", "port": 5433}`,
	}}
	r, _ := secrets.NewResolver(cfg, secrets.WithCloud(cloud))
	ctx := context.Background()

	pin, err := r.GetString(ctx, "PIN")
	if err != nil || pin != "007" {
		t.Errorf("GetString(PIN) = %q, %v; want the string as stored", pin, err)
	}
	if v, _ := r.Get(ctx, "PIN"); v != "007" {
		t.Errorf("Get(PIN) = %#v; 007 is not JSON, so it stays a string", v)
	}
	if v, _ := r.Get(ctx, "CODE"); v != int64(42) {
		t.Errorf("Get(CODE) = %#v, want Prefect's decoding to 42", v)
	}
	if s, _ := r.GetString(ctx, "CODE"); s != "42" {
		t.Errorf("GetString(CODE) = %q, want the string as stored", s)
	}
	var vte *secrets.ValueTypeError
	if _, err := r.GetString(ctx, "OBJ"); !errors.As(err, &vte) || strings.Contains(err.Error(), "5433") {
		t.Errorf("GetString(OBJ) err = %v; want a type error without the value", err)
	}

	type db struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	for name, want := range map[string]db{"CONF": {"db", 5432}, "OBJ": {"db", 5433}} {
		var got db
		if err := r.Decode(ctx, name, &got); err != nil || got != want {
			t.Errorf("Decode(%s) = %+v, %v; want %+v", name, got, err, want)
		}
	}
	var n int
	if err := r.Decode(ctx, "OBJ", &n); !errors.As(err, &vte) {
		t.Errorf("Decode(OBJ into int) err = %v", err)
	}
}

func TestExistsAsksForNamesNotValues(t *testing.T) {
	cfg := secrets.DefaultConfig()
	cfg.UseLocalSecrets = false
	cloud := &fakeCloud{values: map[string]string{"THERE": `"x"`}}
	r, _ := secrets.NewResolver(cfg, secrets.WithCloud(cloud))
	ctx := context.Background()

	for name, want := range map[string]bool{"THERE": true, "GONE": false} {
		got, err := r.Exists(ctx, name)
		if err != nil || got != want {
			t.Errorf("Exists(%s) = %v, %v", name, got, err)
		}
	}
}

func TestWithSecretsLayersAndCopies(t *testing.T) {
	m := map[string]any{"A": "1"}
	ctx := secrets.WithSecrets(context.Background(), m)
	ctx = secrets.WithSecrets(ctx, map[string]any{"B": "2"})
	m["A"] = "changed"
	r, _ := secrets.NewResolver(secrets.DefaultConfig())

	for name, want := range map[string]any{"A": int64(1), "B": int64(2)} {
		if got, err := r.Get(ctx, name); err != nil || got != want {
			t.Errorf("Get(%s) = %#v, %v; want %#v", name, got, err, want)
		}
	}
}
