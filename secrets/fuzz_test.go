package secrets_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/secrets"
)

// fuzzMarker marks secret material in the config loader's fuzz inputs.
const fuzzMarker = "s3cr3t"

// keyMention is how a ConfigError names a key: quoted, or after "key".
var keyMention = regexp.MustCompile(`\(after key "(?:[^"\\]|\\.)*"\)|\(key [^)]*\)`)

// FuzzLoadConfig loads any config.toml under any PREFECT__ variables. The
// loader must not panic; an error must be a *ConfigError that names the
// file when it is about the file, with nothing from a value in it; a
// Config that loads must print no token or secret value. The seed corpus
// is in testdata/fuzz/FuzzLoadConfig.
func FuzzLoadConfig(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "config.toml")

	f.Fuzz(func(t *testing.T, file []byte, envLines string) {
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		// The fuzzer chooses every variable but the two that pick files.
		var environ []string
		for _, kv := range strings.Split(envLines, "\n") {
			key, _, _ := strings.Cut(kv, "=")
			if key != "HOME" && key != secrets.EnvUserConfigPath {
				environ = append(environ, kv)
			}
		}
		environ = append(environ, "HOME="+dir, secrets.EnvUserConfigPath+"="+path)

		cfg, err := secrets.LoadConfigEnv(environ)

		if err != nil {
			var ce *secrets.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %#v, want a *ConfigError", err)
			}
			if ce.File != "" && ce.File != path {
				t.Fatalf("error names %q, not the file read", ce.File)
			}
			if !reflect.DeepEqual(cfg, secrets.Config{}) {
				t.Fatalf("a failed load returned settings: %v", cfg)
			}
			// Key names may be quoted; nothing else from the input may.
			msg := keyMention.ReplaceAllString(err.Error(), "")
			msg = strings.ReplaceAll(msg, path, "")
			if strings.Contains(msg, fuzzMarker) {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}

		printed := []string{
			cfg.String(), cfg.GoString(),
			fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%q", cfg),
		}
		shown := cfg.API + "\x00" + cfg.GraphQL + "\x00" + cfg.File
		for name := range cfg.Secrets {
			shown += "\x00" + name
		}
		hidden := []string{cfg.AuthToken, cfg.APIKey}
		for _, v := range cfg.Secrets {
			if s, ok := v.(string); ok {
				hidden = append(hidden, s)
			}
		}
		for _, h := range hidden {
			if !strings.Contains(h, fuzzMarker) || strings.Contains(shown, h) {
				continue
			}
			for _, p := range printed {
				if strings.Contains(p, h) {
					t.Fatalf("printing the Config shows %q: %s", h, p)
				}
			}
		}
	})
}
