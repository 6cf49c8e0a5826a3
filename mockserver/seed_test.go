package mockserver_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// writeSeed writes content to a file in the test's temporary directory.
func writeSeed(t *testing.T, content string) string {
	t.Helper()

	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSeedFileFillsTheDefaultTenant(t *testing.T) {
	path := writeSeed(t, `{
  "API_KEY": "s3cr3t",
  "CONFIG": {"retries": 3, "hosts": ["a", "b"]},
  "NOTHING": null
}`)

	seed, err := mockserver.LoadSeedFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, ts := setup(t, mockserver.Options{Seed: seed})

	if names := strings.Join(s.SecretNames(mockserver.DefaultTenant), ","); names != "API_KEY,CONFIG,NOTHING" {
		t.Errorf("names = %s", names)
	}
	if v, ok := s.Secret(mockserver.DefaultTenant, "CONFIG"); !ok || string(v) != `{"retries":3,"hosts":["a","b"]}` {
		t.Errorf("CONFIG = %s, %v", v, ok)
	}
	_, got := post(t, ts.Client(), ts.URL, "", gqlBody(t, querySnake, map[string]any{"name": "API_KEY"}))
	if string(got.Data) != `{"secret_value":"s3cr3t"}` {
		t.Errorf("read API_KEY = %s %+v", got.Data, got.Errors)
	}
}

func TestLoadSeedFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string // no file at all when missing is set
		missing bool
		want    []string // parts of the message after the path
	}{
		{
			name:    "syntax error names line and column",
			content: "{\n  \"A\": \"s3cr3t\",\n  B: 1\n}",
			want:    []string{"line 3, column 3: invalid character 'B'"},
		},
		{
			name:    "cut short",
			content: "{\n  \"A\": \"s3cr3t\"",
			want:    []string{"line 2, column 15: unexpected end of JSON input"},
		},
		{
			name:    "top level array",
			content: `["s3cr3t"]`,
			want:    []string{"must hold a JSON object of secret names to values, not array"},
		},
		{
			name:    "top level string",
			content: `"s3cr3t"`,
			want:    []string{"not string"},
		},
		{
			name:    "top level null",
			content: `null`,
			want:    []string{"not null"},
		},
		{
			name:    "bad secret name",
			content: `{"": "s3cr3t"}`,
			want:    []string{`secret "": secret name is empty`},
		},
		{
			name:    "missing file",
			missing: true,
			want:    []string{"no such file or directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "absent.json")
			if !tt.missing {
				path = writeSeed(t, tt.content)
			}

			seed, err := mockserver.LoadSeedFile(path)

			if err == nil {
				t.Fatalf("no error; seed %v", seed)
			}
			msg := err.Error()
			if prefix := `seed file "` + path + `": `; !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "s3cr3t") {
				t.Errorf("error quotes a value: %q", msg)
			}
		})
	}
}

func TestLoadSeedFileKeepsValuesExact(t *testing.T) {
	path := writeSeed(t, `{"N": 1.50, "S": "{\"x\": 42}"}`)

	seed, err := mockserver.LoadSeedFile(path)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]json.RawMessage{"N": json.RawMessage(`1.50`), "S": json.RawMessage(`"{\"x\": 42}"`)}
	for name, w := range want {
		if string(seed[name]) != string(w) {
			t.Errorf("%s = %s, want %s", name, seed[name], w)
		}
	}
}
