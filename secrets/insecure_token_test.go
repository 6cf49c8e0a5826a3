package secrets_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/secrets"
)

func TestAllowInsecureTokenSetting(t *testing.T) {
	tests := []struct {
		name    string
		file    string // config.toml; "" for none
		env     string // the variable's value; "" for unset
		want    bool
		wantErr string
	}{
		{name: "off unless set", want: false},
		{name: "the file turns it on", file: "[cloud]\nallow_insecure_token = true\n", want: true},
		{name: "the variable turns it on in any case", env: "TRUE", want: true},
		{name: "the variable wins over the file", file: "[cloud]\nallow_insecure_token = true\n", env: "false", want: false},
		{name: "a variable that is not a boolean", env: "yes-s3cr3t", wantErr: secrets.EnvAllowInsecureToken + " must be true or false"},
		{name: "a file value that is not a boolean", file: "[cloud]\nallow_insecure_token = \"s3cr3t\"\n", wantErr: "a setting has the wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{"HOME=" + t.TempDir()}
			if tt.file != "" {
				env = append(env, secrets.EnvUserConfigPath+"="+writeConfig(t, tt.file))
			}
			if tt.env != "" {
				env = append(env, secrets.EnvAllowInsecureToken+"="+tt.env)
			}

			cfg, err := secrets.LoadConfigEnv(env)

			if tt.wantErr != "" {
				var ce *secrets.ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a ConfigError saying %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("the error quotes the value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.AllowInsecureToken != tt.want {
				t.Errorf("AllowInsecureToken = %t, want %t", cfg.AllowInsecureToken, tt.want)
			}
		})
	}
}

// tokenRecorder is a RoundTripper that notes the Authorization header of
// every request and answers with one secret, so that no request leaves the
// process.
type tokenRecorder struct {
	mu   sync.Mutex
	auth []string
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	r.mu.Lock()
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()

	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"data":{"secret_value":"from cloud"}}`)),
		Request:    req,
	}, nil
}

func TestResolverPassesAllowInsecureTokenToTheClient(t *testing.T) {
	tests := []struct {
		name        string
		api         string
		allow       bool
		wantRefused bool
	}{
		{name: "plain http beyond loopback is refused", api: "http://prefect.example.test", wantRefused: true},
		{name: "plain http beyond loopback when allowed", api: "http://prefect.example.test", allow: true},
		{name: "plain http to loopback", api: "http://127.0.0.1:4200"},
		{name: "https", api: "https://prefect.example.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := secrets.DefaultConfig()
			cfg.UseLocalSecrets = false
			cfg.API = tt.api
			cfg.APIKey = canaryToken
			cfg.AllowInsecureToken = tt.allow
			rec := &tokenRecorder{}
			r, err := secrets.NewResolver(cfg, secrets.WithClientOptions(client.WithTransport(rec), client.WithRetries(0)))
			if err != nil {
				t.Fatal(err)
			}

			v, err := r.Get(context.Background(), "K")

			if tt.wantRefused {
				var ce *secrets.ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "refusing to send the API token over plain http") {
					t.Fatalf("err = %v, want a ConfigError refusing the URL", err)
				}
				if strings.Contains(err.Error(), canaryToken) {
					t.Errorf("the error holds the token: %v", err)
				}
				if len(rec.auth) != 0 {
					t.Errorf("%d requests were sent", len(rec.auth))
				}
				return
			}
			if err != nil || v != "from cloud" {
				t.Fatalf("Get = %v, %v", v, err)
			}
			if len(rec.auth) != 1 || rec.auth[0] != "Bearer "+canaryToken {
				t.Errorf("Authorization headers = %q", rec.auth)
			}
		})
	}
}
