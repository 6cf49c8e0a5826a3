package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/secrets"
)

// cacheConfigEnv returns an environment whose config file holds text, plus
// the given variables.
func cacheConfigEnv(t *testing.T, text string, vars ...string) []string {
	t.Helper()
	env := []string{"HOME=" + t.TempDir()}
	if text != "" {
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		env = append(env, secrets.EnvUserConfigPath+"="+path)
	}
	return append(env, vars...)
}

func TestLoadConfigCacheSettings(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     []string
		wantTTL time.Duration
		wantMax int
	}{
		{name: "absent: off", wantTTL: 0, wantMax: 0},
		{name: "from the file", file: "[cloud]\ncache_ttl = \"30s\"\ncache_max_entries = 50\n",
			wantTTL: 30 * time.Second, wantMax: 50},
		{name: "environment wins", file: "[cloud]\ncache_ttl = \"30s\"\ncache_max_entries = 50\n",
			env:     []string{secrets.EnvCacheTTL + "=5m", secrets.EnvCacheMaxEntries + "=7"},
			wantTTL: 5 * time.Minute, wantMax: 7},
		{name: "zero turns it off", file: "[cloud]\ncache_ttl = \"30s\"\n",
			env: []string{secrets.EnvCacheTTL + "=0"}, wantTTL: 0},
		{name: "zero duration string", file: "[cloud]\ncache_ttl = \"0s\"\n", wantTTL: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := secrets.LoadConfigEnv(cacheConfigEnv(t, tt.file, tt.env...))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CacheTTL != tt.wantTTL || cfg.CacheMaxEntries != tt.wantMax {
				t.Errorf("cache_ttl, cache_max_entries = %v, %d; want %v, %d",
					cfg.CacheTTL, cfg.CacheMaxEntries, tt.wantTTL, tt.wantMax)
			}
		})
	}
}

func TestLoadConfigBadCacheSettings(t *testing.T) {
	const canary = "9h-canary-77"
	tests := []struct {
		name string
		file string
		env  []string
		says string
	}{
		{name: "not a duration in the file", file: "[cloud]\ncache_ttl = \"" + canary + "\"\n", says: "cloud.cache_ttl"},
		{name: "negative in the file", file: "[cloud]\ncache_ttl = \"-1s\"\n", says: "cloud.cache_ttl"},
		{name: "a number, not a string", file: "[cloud]\ncache_ttl = 30\n", says: "cache_ttl"},
		{name: "negative maximum in the file", file: "[cloud]\ncache_max_entries = -1\n", says: "cloud.cache_max_entries"},
		{name: "not a duration in the environment", env: []string{secrets.EnvCacheTTL + "=" + canary}, says: secrets.EnvCacheTTL},
		{name: "maximum not a number", env: []string{secrets.EnvCacheMaxEntries + "=" + canary}, says: secrets.EnvCacheMaxEntries},
		{name: "negative maximum in the environment", env: []string{secrets.EnvCacheMaxEntries + "=-3"}, says: secrets.EnvCacheMaxEntries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := secrets.LoadConfigEnv(cacheConfigEnv(t, tt.file, tt.env...))
			var ce *secrets.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("message %q does not name %s", err, tt.says)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("message %q quotes the value", err)
			}
		})
	}
}

// A Resolver built from a configuration with cache_ttl caches.
func TestConfiguredCacheIsUsed(t *testing.T) {
	cfg, err := secrets.LoadConfigEnv(cacheConfigEnv(t, "", secrets.EnvCacheTTL+"=1h", secrets.EnvUseLocalSecrets+"=false"))
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedCloud{values: map[string]string{"K": `"v"`}}
	r, err := secrets.NewResolver(cfg, secrets.WithCloud(g))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustGet(t, r, "K")
	}
	if n := g.calls.Load(); n != 1 {
		t.Errorf("%d requests for 3 Gets with %s=1h, want 1", n, secrets.EnvCacheTTL)
	}
}
