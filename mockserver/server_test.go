package mockserver_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts mockserver.Options
		want string
	}{
		{
			name: "empty token",
			opts: mockserver.Options{Tokens: map[string]string{"": "alpha"}},
			want: `token for tenant "alpha": token is empty`,
		},
		{
			name: "token with a space",
			opts: mockserver.Options{Tokens: map[string]string{"tok en-s3cr3t": "alpha"}},
			want: `token for tenant "alpha": token holds a space or control character`,
		},
		{
			name: "empty tenant",
			opts: mockserver.Options{Tokens: map[string]string{"tok-s3cr3t": ""}},
			want: "a token's tenant: tenant name is empty",
		},
		{
			name: "empty seed name",
			opts: mockserver.Options{Seed: map[string]json.RawMessage{"": json.RawMessage(`1`)}},
			want: `seed secret "": secret name is empty`,
		},
		{
			name: "seed name too long",
			opts: mockserver.Options{Seed: map[string]json.RawMessage{strings.Repeat("n", 256): json.RawMessage(`1`)}},
			want: "secret name is 256 bytes long; at most 255 are allowed",
		},
		{
			name: "seed value not JSON",
			opts: mockserver.Options{Seed: map[string]json.RawMessage{"K": json.RawMessage(`{s3cr3t`)}},
			want: `seed secret "K": value is not valid JSON`,
		},
		{
			name: "negative body limit",
			opts: mockserver.Options{MaxBodyBytes: -1},
			want: "MaxBodyBytes is negative",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mockserver.New(tt.opts)

			if err == nil {
				t.Fatalf("New succeeded: %v", s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error quotes a token or value: %q", err)
			}
		})
	}
}

func TestNewStoresSeedCompactInDefaultTenant(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{
		Tokens: map[string]string{"T": "alpha"},
		Seed:   map[string]json.RawMessage{"K": json.RawMessage(" { \"a\" : [ 1 , 2 ] } "), "E": nil},
	})
	if err != nil {
		t.Fatal(err)
	}

	if v, ok := s.Secret(mockserver.DefaultTenant, "K"); !ok || string(v) != `{"a":[1,2]}` {
		t.Errorf("K = %s, %v", v, ok)
	}
	if v, ok := s.Secret(mockserver.DefaultTenant, "E"); !ok || string(v) != "null" {
		t.Errorf("E = %s, %v; want null, true", v, ok)
	}
	if names := s.SecretNames("alpha"); names == nil || len(names) != 0 {
		t.Errorf("alpha names = %#v, want an empty slice", names)
	}
}

func TestSecretReturnsACopy(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := json.RawMessage(`"abc"`)
	s.SetSecret("t", "K", in)
	in[1] = 'X'

	got, _ := s.Secret("t", "K")
	got[2] = 'Y'

	if again, _ := s.Secret("t", "K"); string(again) != `"abc"` {
		t.Errorf("stored value changed to %s", again)
	}
	if _, ok := s.Secret("t", "OTHER"); ok {
		t.Error("found a secret never set")
	}
}

func TestSetSecretPanicsOnMistakes(t *testing.T) {
	tests := []struct {
		name      string
		secret    string
		value     string
		wantPanic string
	}{
		{name: "bad name", secret: "", value: `1`, wantPanic: "mockserver: SetSecret: secret name is empty"},
		{name: "bad value", secret: "K", value: `{s3cr3t`, wantPanic: `mockserver: SetSecret "K": value is not valid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mockserver.New(mockserver.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if got := recover(); got != tt.wantPanic {
					t.Errorf("panic = %v, want %q", got, tt.wantPanic)
				}
			}()

			s.SetSecret(mockserver.DefaultTenant, tt.secret, json.RawMessage(tt.value))
		})
	}
}

func TestStoreIsSafeForConcurrentUse(t *testing.T) {
	s, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			name := string(rune('a' + i))
			s.SetSecret("t", name, json.RawMessage(`1`))
			_, _ = s.Secret("t", name)
			_ = s.SecretNames("t")
		})
	}
	wg.Wait()

	if got := strings.Join(s.SecretNames("t"), ""); got != "abcdefghijklmnop" {
		t.Errorf("names = %s", got)
	}
}
