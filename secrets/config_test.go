package secrets_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/secrets"
)

const canaryToken = "tok-canary-9f3e"

// writeConfig writes a config.toml into a fresh directory and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := secrets.LoadConfigEnv([]string{"HOME=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.UseLocalSecrets || cfg.API != "" || len(cfg.Secrets) != 0 || cfg.File != "" {
		t.Fatalf("defaults = %v", cfg)
	}
}

func TestLoadConfigFileThenEnv(t *testing.T) {
	path := writeConfig(t, `
[cloud]
api = "http://127.0.0.1:4200"
auth_token = "file-token"
use_local_secrets = false

[context.secrets]
FROM_FILE = "f"
SHARED = "file"
NUMBER = 42

[logging]
level = "DEBUG"  # other sections are Prefect's and are ignored
`)
	env := []string{
		"HOME=/nonexistent",
		secrets.EnvUserConfigPath + "=" + path,
		secrets.EnvAPIKey + "=env-key",
		secrets.EnvUseLocalSecrets + "=TRUE",
		secrets.EnvSecretPrefix + "SHARED=env",
		secrets.EnvSecretPrefix + "My_Api_Key=k",
	}
	cfg, err := secrets.LoadConfigEnv(env)
	if err != nil {
		t.Fatal(err)
	}

	if cfg.API != "http://127.0.0.1:4200" || cfg.AuthToken != "file-token" || cfg.Token() != "env-key" {
		t.Errorf("cloud settings = %v", cfg)
	}
	if !cfg.UseLocalSecrets {
		t.Error("env TRUE (any case) should win over the file's false")
	}
	want := map[string]any{"FROM_FILE": "f", "SHARED": "env", "NUMBER": int64(42), "My_Api_Key": "k"}
	if !reflect.DeepEqual(cfg.Secrets, want) {
		t.Errorf("secrets = %#v, want %#v", cfg.Secrets, want)
	}
	if ep, err := cfg.Endpoint(); err != nil || ep != "http://127.0.0.1:4200/graphql" {
		t.Errorf("Endpoint = %q, %v", ep, err)
	}
	cfg.GraphQL = "http://127.0.0.1:4200/graphql/alpha"
	if ep, _ := cfg.Endpoint(); ep != cfg.GraphQL {
		t.Errorf("cloud.graphql should win: %q", ep)
	}
}

func TestLoadConfigDefaultPathUnderHome(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".prefect"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, secrets.DefaultConfigPath), []byte("[cloud]\napi = \"http://127.0.0.1:1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := secrets.LoadConfigEnv([]string{"HOME=" + home})
	if err != nil || cfg.API != "http://127.0.0.1:1" {
		t.Fatalf("cfg = %v, %v", cfg, err)
	}
}

func TestLoadConfigBadInput(t *testing.T) {
	tests := []struct {
		name    string
		file    string // config.toml text; "" for none
		env     []string
		says    []string
		line    int
		missing bool // point PREFECT__USER_CONFIG_PATH at a file that is not there
	}{
		{
			name: "TOML syntax error with a token on the line",
			file: "[cloud]\napi = \"http://127.0.0.1\"\nauth_token = " + canaryToken + "\n",
			says: []string{"config.toml", "line 3", "not valid TOML"}, line: 3,
		},
		{
			name: "wrong type",
			file: "[cloud]\nuse_local_secrets = \"" + canaryToken + "\"\n",
			says: []string{"config.toml", "line 2", "wrong type", "cloud.use_local_secrets"}, line: 2,
		},
		{
			name: "bad boolean in the environment",
			env:  []string{secrets.EnvUseLocalSecrets + "=" + canaryToken},
			says: []string{secrets.EnvUseLocalSecrets, "true or false"},
		},
		{
			name: "named config file missing", missing: true,
			says: []string{"nope.toml", "cannot be read"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"HOME=" + t.TempDir()}, tt.env...)
			if tt.file != "" {
				env = append(env, secrets.EnvUserConfigPath+"="+writeConfig(t, tt.file))
			}
			if tt.missing {
				env = append(env, secrets.EnvUserConfigPath+"="+filepath.Join(t.TempDir(), "nope.toml"))
			}

			_, err := secrets.LoadConfigEnv(env)
			var ce *secrets.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not say %q", err, s)
				}
			}
			if ce.Line != tt.line {
				t.Errorf("line = %d, want %d", ce.Line, tt.line)
			}
			if strings.Contains(err.Error(), canaryToken) {
				t.Errorf("message %q holds the token", err)
			}
		})
	}
}

func TestPrintingConfigHidesTokensAndValues(t *testing.T) {
	cfg := secrets.DefaultConfig()
	cfg.API = "http://127.0.0.1:4200"
	cfg.APIKey = canaryToken
	cfg.Secrets = map[string]any{"NAME": "value-canary-77"}

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, cfg)
		if strings.Contains(out, canaryToken) || strings.Contains(out, "value-canary-77") {
			t.Errorf("%s printed %q", verb, out)
		}
		if !strings.Contains(out, "NAME") || !strings.Contains(out, "<set>") {
			t.Errorf("%s printed %q; want the secret's name and that a token is set", verb, out)
		}
	}
}

func TestEndpointJoinsThePath(t *testing.T) {
	tests := map[string]string{
		"http://127.0.0.1:4200":          "http://127.0.0.1:4200/graphql",
		"http://127.0.0.1:4200/":         "http://127.0.0.1:4200/graphql",
		"http://127.0.0.1:4200/base":     "http://127.0.0.1:4200/base/graphql",
		"http://127.0.0.1:4200/base?x=1": "http://127.0.0.1:4200/base/graphql?x=1",
	}
	for api, want := range tests {
		cfg := secrets.DefaultConfig()
		cfg.API = api
		if got, err := cfg.Endpoint(); err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", api, got, err, want)
		}
	}
}

func TestConfigPathThatIsNotAFileFailsAtOnce(t *testing.T) {
	_, err := secrets.LoadConfigEnv([]string{"HOME=" + t.TempDir(), secrets.EnvUserConfigPath + "=/dev/zero"})
	var ce *secrets.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v", err)
	}
}

func TestPrintingConfigHidesURLQueryAndCredentials(t *testing.T) {
	cfg := secrets.DefaultConfig()
	cfg.API = "http://user:" + canaryToken + "@127.0.0.1:1/?api_key=" + canaryToken + "#" + canaryToken
	if out := fmt.Sprint(cfg); strings.Contains(out, canaryToken) || !strings.Contains(out, "127.0.0.1:1") {
		t.Errorf("printed %q", out)
	}
}
