package secrets_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/secrets"
)

func TestLoadConfigRetrySettings(t *testing.T) {
	path := writeConfig(t, `
[cloud]
request_timeout = "90s"
attempt_timeout = "5s"
max_retries = 7
`)
	base := []string{"HOME=/nonexistent", secrets.EnvUserConfigPath + "=" + path}

	cfg, err := secrets.LoadConfigEnv(base)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RequestTimeout != 90*time.Second || cfg.AttemptTimeout != 5*time.Second || cfg.MaxRetries == nil || *cfg.MaxRetries != 7 {
		t.Errorf("from the file: %v %v %v", cfg.RequestTimeout, cfg.AttemptTimeout, cfg.MaxRetries)
	}

	cfg, err = secrets.LoadConfigEnv(append(base,
		secrets.EnvRequestTimeout+"=2m", secrets.EnvAttemptTimeout+"=750ms", secrets.EnvMaxRetries+"=0"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RequestTimeout != 2*time.Minute || cfg.AttemptTimeout != 750*time.Millisecond || cfg.MaxRetries == nil || *cfg.MaxRetries != 0 {
		t.Errorf("env over the file: %v %v %v", cfg.RequestTimeout, cfg.AttemptTimeout, cfg.MaxRetries)
	}

	cfg, err = secrets.LoadConfigEnv([]string{"HOME=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RequestTimeout != 0 || cfg.AttemptTimeout != 0 || cfg.MaxRetries != nil {
		t.Errorf("unset: %v %v %v; want the client's defaults", cfg.RequestTimeout, cfg.AttemptTimeout, cfg.MaxRetries)
	}
}

func TestLoadConfigBadRetrySettings(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  []string
		says string
	}{
		{"file timeout not a duration", `request_timeout = "soon"`, nil, `cloud.request_timeout must be a positive Go duration such as "90s"`},
		{"file timeout zero", `attempt_timeout = "0s"`, nil, "cloud.attempt_timeout must be a positive"},
		{"file timeout a number", `request_timeout = 90`, nil, "cloud.request_timeout"},
		{"file retries negative", `max_retries = -1`, nil, "cloud.max_retries must be a whole number from 0 to 100"},
		{"file retries too many", `max_retries = 1000`, nil, "cloud.max_retries must be a whole number from 0 to 100"},
		{"env timeout negative", "", []string{secrets.EnvRequestTimeout + "=-5s"}, secrets.EnvRequestTimeout + " must be a positive"},
		{"env attempt timeout bare number", "", []string{secrets.EnvAttemptTimeout + "=30"}, secrets.EnvAttemptTimeout + " must be a positive"},
		{"env retries not a number", "", []string{secrets.EnvMaxRetries + "=many"}, secrets.EnvMaxRetries + " must be a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"HOME=/nonexistent", secrets.EnvUserConfigPath + "=" + writeConfig(t, "[cloud]\n"+tt.file+"\n")}, tt.env...)

			_, err := secrets.LoadConfigEnv(env)
			var ce *secrets.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("err = %v; want a ConfigError saying %q", err, tt.says)
			}
		})
	}
}

// retryResolver returns a Cloud-mode Resolver for cfg whose client reaches a
// fresh httpmock transport that always answers 503.
func retryResolver(t *testing.T, cfg secrets.Config, opts ...client.Option) (*secrets.Resolver, *httpmock.MockTransport) {
	t.Helper()

	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", "http://127.0.0.1:4200/graphql", httpmock.NewStringResponder(503, "busy"))
	cfg.API, cfg.AuthToken, cfg.UseLocalSecrets = "http://127.0.0.1:4200", canaryToken, false

	all := append([]client.Option{client.WithTransport(mt), client.WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	r, err := secrets.NewResolver(cfg, secrets.WithClientOptions(all...))
	if err != nil {
		t.Fatal(err)
	}
	return r, mt
}

func TestResolverAppliesConfiguredRetries(t *testing.T) {
	two, none := 2, 0
	tests := []struct {
		name     string
		retries  *int
		opts     []client.Option
		requests int
	}{
		{"max_retries 2", &two, nil, 3},
		{"max_retries 0", &none, nil, 1},
		{"unset: the client's default", nil, nil, 1 + client.DefaultRetries},
		{"the caller's option wins", &two, []client.Option{client.WithRetries(5)}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := secrets.DefaultConfig()
			cfg.MaxRetries = tt.retries
			r, mt := retryResolver(t, cfg, tt.opts...)

			_, err := r.Get(context.Background(), "K")
			if !errors.Is(err, client.ErrTransient) || errors.Is(err, secrets.ErrNotFound) {
				t.Fatalf("err = %v; want transient, never not-found", err)
			}
			if n := mt.GetTotalCallCount(); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

func TestResolverAppliesConfiguredRequestTimeout(t *testing.T) {
	cfg := secrets.DefaultConfig()
	cfg.RequestTimeout = 150 * time.Millisecond
	hundred := 100
	cfg.MaxRetries = &hundred
	r, _ := retryResolver(t, cfg, client.WithRetryWait(20*time.Millisecond, 40*time.Millisecond))

	start := time.Now()
	_, err := r.Get(context.Background(), "K")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("returned after %v with a 150ms request timeout", elapsed)
	}
	if !errors.Is(err, client.ErrTransient) || !strings.Contains(err.Error(), "time budget ran out (150ms)") {
		t.Errorf("err = %v; want the request timeout named", err)
	}
}
