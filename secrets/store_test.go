package secrets_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/secrets"
)

// envCanary is text planted in variables and files; no error may hold it.
const envCanary = "val-store-canary-204"

// fakeEnv is an EnvStore.Lookup over a map.
func fakeEnv(vars map[string]string) func(string) (string, bool) {
	return func(key string) (string, bool) {
		v, ok := vars[key]
		return v, ok
	}
}

func TestEnvStore(t *testing.T) {
	env := fakeEnv(map[string]string{
		"DB_PASSWORD": "hunter2",
		"EMPTY":       "",
		"PORT":        "5432",
		"RATIO":       "0.25",
		"DEBUG":       "TRUE",
		"CONFIG":      `{"x": 42, "tags": ["a"]}`,
		"BAD_INT":     "12x" + envCanary,
		"BAD_BOOL":    envCanary,
		"BAD_JSON":    "{" + envCanary,
		"HUGE":        "99999999999999999999",
	})
	tests := []struct {
		name    string
		store   secrets.EnvStore
		secret  string
		want    any
		wantErr error
		says    []string
	}{
		{name: "variable named after the secret", store: secrets.EnvStore{}, secret: "DB_PASSWORD", want: "hunter2"},
		{name: "variable named by Var", store: secrets.EnvStore{Var: "DB_PASSWORD"}, secret: "db", want: "hunter2"},
		{name: "unset gives nil", store: secrets.EnvStore{}, secret: "MISSING", want: nil},
		{name: "unset and required is not found", store: secrets.EnvStore{Required: true}, secret: "MISSING",
			wantErr: secrets.ErrNotFound, says: []string{`secret "MISSING"`, `environment variable "MISSING"`, "not set"}},
		{name: "set to empty is set", store: secrets.EnvStore{Required: true}, secret: "EMPTY", want: ""},
		{name: "string cast", store: secrets.EnvStore{Cast: secrets.CastString}, secret: "PORT", want: "5432"},
		{name: "no cast keeps JSON-looking text", store: secrets.EnvStore{}, secret: "CONFIG", want: `{"x": 42, "tags": ["a"]}`},
		{name: "int cast", store: secrets.EnvStore{Cast: secrets.CastInt}, secret: "PORT", want: int64(5432)},
		{name: "float cast", store: secrets.EnvStore{Cast: secrets.CastFloat}, secret: "RATIO", want: 0.25},
		{name: "bool cast", store: secrets.EnvStore{Cast: secrets.CastBool}, secret: "DEBUG", want: true},
		{name: "json cast", store: secrets.EnvStore{Cast: secrets.CastJSON}, secret: "CONFIG",
			want: map[string]any{"x": int64(42), "tags": []any{"a"}}},
		{name: "unset with a cast gives nil", store: secrets.EnvStore{Cast: secrets.CastInt}, secret: "MISSING", want: nil},
		{name: "bad int names the variable, not the text", store: secrets.EnvStore{Cast: secrets.CastInt}, secret: "BAD_INT",
			says: []string{`environment variable "BAD_INT"`, "cannot be read as int", "invalid syntax"}},
		{name: "int out of range", store: secrets.EnvStore{Cast: secrets.CastInt}, secret: "HUGE",
			says: []string{"out of range"}},
		{name: "bad bool names the variable, not the text", store: secrets.EnvStore{Cast: secrets.CastBool}, secret: "BAD_BOOL",
			says: []string{`"BAD_BOOL"`, "cannot be read as bool"}},
		{name: "bad JSON names the variable, not the text", store: secrets.EnvStore{Cast: secrets.CastJSON}, secret: "BAD_JSON",
			says: []string{`"BAD_JSON"`, "not valid JSON"}},
		{name: "unknown cast is a configuration error", store: secrets.EnvStore{Cast: "decimal"}, secret: "PORT",
			says: []string{`unknown cast "decimal"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.store.Lookup = env
			got, err := tt.store.Get(context.Background(), tt.secret)
			checkStoreResult(t, got, err, tt.want, tt.wantErr, tt.says)
		})
	}
}

func TestEnvStoreReadsTheProcessEnvironmentByDefault(t *testing.T) {
	t.Setenv("CLOUDSECRETS_TEST_ENV_STORE", "from-process")
	got, err := secrets.EnvStore{}.Get(context.Background(), "CLOUDSECRETS_TEST_ENV_STORE")
	if err != nil || got != "from-process" {
		t.Fatalf("Get = %#v, %v", got, err)
	}
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("db", "hunter2\n")
	crlf := write("crlf", "line\r\n")
	two := write("two", "kept\n\n")
	plain := write("plain", "no newline")
	jsonFile := write("json", `{"x": 42}`+"\n")
	huge := write("huge", envCanary+strings.Repeat("x", secrets.MaxSecretFileBytes))
	subdir := filepath.Join(dir, "subdir")
	if err := os.Mkdir(subdir, 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name    string
		store   secrets.FileStore
		secret  string
		want    any
		wantErr error
		says    []string
	}{
		{name: "secret name inside Dir, one newline trimmed", store: secrets.FileStore{Dir: dir}, secret: "db", want: "hunter2"},
		{name: "Path wins over the name", store: secrets.FileStore{Path: plain, Dir: "/nonexistent"}, secret: "anything", want: "no newline"},
		{name: "CRLF counts as one newline", store: secrets.FileStore{Path: crlf}, secret: "x", want: "line"},
		{name: "only one newline is trimmed", store: secrets.FileStore{Path: two}, secret: "x", want: "kept\n"},
		{name: "content stays a string, undecoded", store: secrets.FileStore{Path: jsonFile}, secret: "x", want: `{"x": 42}`},
		{name: "missing file is not found and names the path", store: secrets.FileStore{Path: missing}, secret: "x",
			wantErr: secrets.ErrNotFound, says: []string{`secret "x"`, missing, "does not exist"}},
		{name: "missing name inside Dir", store: secrets.FileStore{Dir: dir}, secret: "nope",
			wantErr: secrets.ErrNotFound, says: []string{filepath.Join(dir, "nope")}},
		{name: "a directory cannot be read", store: secrets.FileStore{Path: subdir}, secret: "x",
			says: []string{subdir, "cannot be read", "is a directory"}},
		{name: "too large a file is refused", store: secrets.FileStore{Path: huge}, secret: "x",
			says: []string{huge, "larger than"}},
		{name: "a name may not leave Dir", store: secrets.FileStore{Dir: dir}, secret: "../etc/passwd",
			wantErr: secrets.ErrInvalidName, says: []string{"../etc/passwd"}},
		{name: "an absolute name may not replace Dir", store: secrets.FileStore{Dir: dir}, secret: "/etc/passwd",
			wantErr: secrets.ErrInvalidName},
		{name: "neither Path nor Dir", store: secrets.FileStore{}, secret: "x", says: []string{"Path or a Dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.store.Get(context.Background(), tt.secret)
			checkStoreResult(t, got, err, tt.want, tt.wantErr, tt.says)
		})
	}
}

func TestFileStoreUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	path := filepath.Join(t.TempDir(), "locked")
	if err := os.WriteFile(path, []byte(envCanary), 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := secrets.FileStore{Path: path}.Get(context.Background(), "x")
	checkStoreResult(t, nil, err, nil, nil, []string{path, "permission denied"})
}

func TestStoresInATask(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "TOKEN"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, _ := newTaskResolver(t, true, nil)
	tests := []struct {
		name  string
		store secrets.Store
		want  any
	}{
		{"prefect", secrets.PrefectStore{Resolver: r}, "from-context"},
		{"env", secrets.EnvStore{Lookup: fakeEnv(map[string]string{"TOKEN": "from-env"})}, "from-env"},
		{"file", secrets.FileStore{Dir: dir}, "from-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := mustTask(t, "TOKEN", secrets.WithStore(tt.store))
			if task.Store().Kind() != tt.name {
				t.Errorf("Kind = %q, want %q", task.Store().Kind(), tt.name)
			}
			ctx := secrets.WithSecrets(context.Background(), map[string]any{"TOKEN": "from-context"})
			v, err := task.Run(ctx)
			if err != nil || v.Reveal() != tt.want {
				t.Fatalf("Run = %#v, %v; want %#v", v.Reveal(), err, tt.want)
			}
			if loc, err := task.ResultHandler().Write(v); loc != "TOKEN" || err != nil {
				t.Errorf("the result handler wrote %q, %v", loc, err)
			}
		})
	}
}

// checkStoreResult compares a store's answer, and checks that an error says
// what it should and holds no planted text.
func checkStoreResult(t *testing.T, got any, err error, want any, wantErr error, says []string) {
	t.Helper()
	if wantErr == nil && len(says) == 0 {
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Get = %#v, want %#v", got, want)
		}
		return
	}
	if err == nil {
		t.Fatalf("Get = %#v, want an error", got)
	}
	if wantErr != nil && !errors.Is(err, wantErr) {
		t.Errorf("err = %v, want one matching %v", err, wantErr)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("err %q does not say %q", err, s)
		}
	}
	if strings.Contains(err.Error(), envCanary) {
		t.Errorf("err holds the planted text: %q", err)
	}
}
