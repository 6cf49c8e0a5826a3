package mockserver_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/prefect-go/cloudsecrets/internal/testutil"
	"github.com/prefect-go/cloudsecrets/mockserver"
)

// withData starts a server on the data file path, serves it on an httptest
// server and closes both when the test ends.
func withData(t *testing.T, path string, opts mockserver.Options) (*mockserver.Server, *httptest.Server) {
	t.Helper()

	opts.DataFile = path
	s, err := mockserver.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, ts
}

// reopen closes s and starts a new server on the same data file.
func reopen(t *testing.T, s *mockserver.Server, path string, opts mockserver.Options) *mockserver.Server {
	t.Helper()

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, _ := withData(t, path, opts)
	return s2
}

// setVia sets name to value in the tenant of token over HTTP and fails the
// test unless the server says it succeeded.
func setVia(t *testing.T, ts *httptest.Server, token, name string, value any) {
	t.Helper()

	vars := map[string]any{"input": map[string]any{"name": name, "value": value}}
	_, got := post(t, ts.Client(), ts.URL+"/graphql", token, gqlBody(t, mutateSnake, vars))
	if len(got.Errors) != 0 || string(got.Data) != `{"set_secret":{"success":true}}` {
		t.Fatalf("set %s: %s %+v", name, got.Data, got.Errors)
	}
}

// validDataFile writes a data file holding one secret for the default
// tenant and returns its path and content.
func validDataFile(t *testing.T) (string, []byte) {
	t.Helper()

	path := filepath.Join(t.TempDir(), "secrets.data")
	s, err := mockserver.New(mockserver.Options{
		DataFile: path,
		Seed:     map[string]json.RawMessage{"K": json.RawMessage(`"s3cr3t-in-file"`), "L": json.RawMessage(`[1,2]`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestDataFileKeepsChangesAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.data")
	opts := mockserver.Options{
		Tokens: map[string]string{"tok-a": "alpha", "tok-b": "beta"},
		Seed:   map[string]json.RawMessage{"SEEDED": json.RawMessage(`"from seed"`)},
	}
	s, ts := withData(t, path, opts)

	setVia(t, ts, "tok-a", "SHARED", "alpha's")
	setVia(t, ts, "tok-b", "SHARED", map[string]any{"beta": []any{1, "<&>", nil}})
	setVia(t, ts, "tok-a", "GONE", true)
	setVia(t, ts, "tok-a", "NULL", nil)
	vars := map[string]any{"input": map[string]any{"name": "GONE"}}
	if _, got := post(t, ts.Client(), ts.URL+"/graphql", "tok-a", gqlBody(t, mutateDelete, vars)); len(got.Errors) != 0 {
		t.Fatalf("delete: %+v", got.Errors)
	}
	s.SetSecret(mockserver.DefaultTenant, "HELPER", json.RawMessage(`"é ünïcode"`))

	// The second start has a different seed, which must not win over the file.
	opts.Seed = map[string]json.RawMessage{"SEEDED": json.RawMessage(`"new seed"`), "NEW": json.RawMessage(`1`)}
	s2 := reopen(t, s, path, opts)

	want := map[string]map[string]string{
		mockserver.DefaultTenant: {"SEEDED": `"from seed"`, "HELPER": `"é ünïcode"`},
		"alpha":                  {"SHARED": `"alpha's"`, "NULL": `null`},
		"beta":                   {"SHARED": `{"beta":[1,"<&>",null]}`},
	}
	for tenant, secrets := range want {
		names := s2.SecretNames(tenant)
		if len(names) != len(secrets) {
			t.Errorf("tenant %s has %v, want %d secrets", tenant, names, len(secrets))
		}
		for name, value := range secrets {
			got, ok := s2.Secret(tenant, name)
			if !ok || string(got) != value {
				t.Errorf("%s/%s = %s (found %t), want %s", tenant, name, got, ok, value)
			}
		}
	}
}

func TestNewDataFileHoldsTheSeedAndOnlyItsOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.data")
	withData(t, path, mockserver.Options{Seed: map[string]json.RawMessage{"K": json.RawMessage(`"v"`)}})

	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the data file was not created at start: %v", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600: the file holds secrets", info.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte(`"K":"v"`)) {
		t.Errorf("the file does not hold the seed:\n%s", data)
	}
}

func TestConcurrentChangesAreAllSaved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.data")
	s, ts := withData(t, path, mockserver.Options{})

	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("W%d_%d", w, i)
				vars := map[string]any{"input": map[string]any{"name": name, "value": name}}
				status, raw := postRaw(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, mutateSnake, vars))
				if status != 200 || !strings.Contains(string(raw), `"success":true`) {
					t.Errorf("set %s: %d %s", name, status, raw)
				}
			}
		})
	}
	wg.Wait()

	s2 := reopen(t, s, path, mockserver.Options{})
	if got := len(s2.SecretNames(mockserver.DefaultTenant)); got != writers*each {
		t.Fatalf("%d secrets after restart, want %d", got, writers*each)
	}
	for w := range writers {
		for i := range each {
			name := fmt.Sprintf("W%d_%d", w, i)
			if v, _ := s2.Secret(mockserver.DefaultTenant, name); string(v) != `"`+name+`"` {
				t.Errorf("%s = %s", name, v)
			}
		}
	}
}

func TestDamagedDataFileIsRefusedAndLeftAlone(t *testing.T) {
	_, good := validDataFile(t)
	header, _, _ := bytes.Cut(good, []byte("\n"))

	// withHeader puts a correct header on body, as a tool that forged the
	// file would.
	withHeader := func(body string) []byte {
		return fmt.Appendf(nil, "prefect-mockserver data 1 sha256=%x bytes=%d\n%s", sha256.Sum256([]byte(body)), len(body), body)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-5] ^= 0x20

	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", nil, "is empty"},
		{"not ours", []byte(`{"K": "s3cr3t-in-file"}`), "is not a prefect-mockserver data file"},
		{"cut inside the header", header[:40], "is cut short inside its header"},
		{"cut after the header", good[:len(header)+1], "is cut short: its header announces"},
		{"cut inside the data", good[:len(good)-3], "is cut short: its header announces"},
		{"a byte changed", flipped, "does not match the checksum"},
		{"bytes added", append(bytes.Clone(good), "\n{}"...), "has 3 unexpected bytes after its data"},
		{"another format", bytes.Replace(good, []byte("data 1 "), []byte("data 2 "), 1), "in a format this server does not read"},
		{"a bad header", bytes.Replace(good, []byte("sha256="), []byte("md5="), 1), "has a malformed header"},
		{"a header that never ends", bytes.Repeat([]byte("prefect-mockserver data "), 20), "is not a prefect-mockserver data file"},
		{"data that is not tenants", withHeader(`["s3cr3t-in-file"]`), "its data is not a set of tenants and secrets"},
		{"data with no tenants", withHeader(`{}` + "\n"), "its data is not a set of tenants and secrets"},
		{"data with an unknown field", withHeader(`{"tenants": {}, "extra": "s3cr3t-in-file"}`), "its data is not a set of tenants and secrets"},
		{"a bad secret name", withHeader(`{"tenants": {"t": {"A\u0007": 1}}}`), `in tenant "t", secret name holds a control character`},
		{"an empty tenant name", withHeader(`{"tenants": {"": {"A": 1}}}`), "tenant name is empty"},
		{"two JSON values", withHeader(`{"tenants": {}} {"tenants": {}}`), "its data is not a set of tenants and secrets"},
		{"body after a good header", append(bytes.Clone(header), '\n'), "is cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secrets.data")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}

			s, err := mockserver.New(mockserver.Options{DataFile: path})

			if err == nil {
				_ = s.Close()
				t.Fatal("New accepted a damaged data file")
			}
			if !errors.Is(err, mockserver.ErrCorruptDataFile) {
				t.Errorf("err = %v, want it to match ErrCorruptDataFile", err)
			}
			var dfe *mockserver.DataFileError
			if !errors.As(err, &dfe) || dfe.Path != path {
				t.Errorf("err = %#v, want a *DataFileError for %s", err, path)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, fmt.Sprintf("data file %q: ", path)) || !strings.Contains(msg, tt.want) {
				t.Errorf("err = %q, want it to name the file and say %q", msg, tt.want)
			}
			if strings.Contains(msg, "s3cr3t") {
				t.Errorf("err quotes the file's content: %q", msg)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, tt.content) {
				t.Errorf("the damaged file was changed:\n%q\nwant\n%q", after, tt.content)
			}
			// The refusal let go of the file: a repaired file is accepted.
			if err := os.WriteFile(path, good, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err = mockserver.New(mockserver.Options{DataFile: path})
			if err != nil {
				t.Fatalf("New on the repaired file: %v", err)
			}
			_ = s.Close()
		})
	}
}

func TestEveryTruncationOfADataFileIsRefused(t *testing.T) {
	_, good := validDataFile(t)
	path := filepath.Join(t.TempDir(), "secrets.data")

	for n := range len(good) {
		if err := os.WriteFile(path, good[:n], 0o600); err != nil {
			t.Fatal(err)
		}

		s, err := mockserver.New(mockserver.Options{DataFile: path})

		if err == nil {
			_ = s.Close()
			t.Fatalf("the first %d of %d bytes were accepted", n, len(good))
		}
		if !errors.Is(err, mockserver.ErrCorruptDataFile) {
			t.Fatalf("the first %d bytes: err = %v, want ErrCorruptDataFile", n, err)
		}
	}
}

func TestDataFileIsUsedByOneServerAtATime(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no file locking on this platform")
	}
	path := filepath.Join(t.TempDir(), "secrets.data")
	first, _ := withData(t, path, mockserver.Options{})

	_, err := mockserver.New(mockserver.Options{DataFile: path})

	if !errors.Is(err, mockserver.ErrDataFileInUse) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second New: err = %v, want ErrDataFileInUse naming the file", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := mockserver.New(mockserver.Options{DataFile: path})
	if err != nil {
		t.Fatalf("New after Close: %v", err)
	}
	_ = second.Close()
}

func TestChangesAfterCloseAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.data")
	s, ts := withData(t, path, mockserver.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	vars := map[string]any{"input": map[string]any{"name": "K", "value": "v"}}
	_, got := post(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, mutateSnake, vars))

	if got.code(t) != "INTERNAL_SERVER_ERROR" || !strings.Contains(got.Errors[0].Message, "could not be saved") {
		t.Errorf("set after Close: %+v", got.Errors)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "closed") {
			t.Errorf("SetSecret after Close: panic %v, want one saying the server is closed", r)
		}
	}()
	s.SetSecret(mockserver.DefaultTenant, "K", json.RawMessage(`1`))
}

func TestFailedSaveIsReportedAndLogged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.data")
	var log testutil.Buffer
	_, ts := withData(t, path, mockserver.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})

	// With its directory gone, no save can succeed, even for root.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"input": map[string]any{"name": "K", "value": "s3cr3t-unsaved"}}
	_, got := post(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, mutateSnake, vars))

	if got.code(t) != "INTERNAL_SERVER_ERROR" {
		t.Errorf("errors = %+v", got.Errors)
	}
	logged := log.String()
	if !strings.Contains(logged, "saving the data file failed") || !strings.Contains(logged, path) {
		t.Errorf("log does not say which file failed:\n%s", logged)
	}
	if strings.Contains(logged, "s3cr3t") {
		t.Errorf("log holds the value:\n%s", logged)
	}
}

func TestStaleTemporaryFilesAreRemovedAtStart(t *testing.T) {
	path, _ := validDataFile(t)
	stale := path + ".tmp-123456"
	if err := os.WriteFile(stale, []byte("half a save"), 0o600); err != nil {
		t.Fatal(err)
	}
	unrelated := path + ".bak"
	if err := os.WriteFile(unrelated, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}

	withData(t, path, mockserver.Options{})

	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file still there: %v", err)
	}
	if _, err := os.Stat(unrelated); err != nil {
		t.Errorf("an unrelated file was removed: %v", err)
	}
}

func TestDataFileInAMissingDirectoryIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "secrets.data")

	_, err := mockserver.New(mockserver.Options{DataFile: path})

	var dfe *mockserver.DataFileError
	if !errors.As(err, &dfe) || dfe.Path != path || errors.Is(err, mockserver.ErrCorruptDataFile) {
		t.Errorf("err = %v, want a *DataFileError for %s that is not about damage", err, path)
	}
}
