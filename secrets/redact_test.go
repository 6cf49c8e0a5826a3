package secrets_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/secrets"
)

func TestResolverAndConfigHideTokensAndValues(t *testing.T) {
	const token, value = "tok-redact-canary-902", "val-redact-canary-902"
	cfg := secrets.DefaultConfig()
	cfg.API = "http://user:" + token + "@127.0.0.1:4200"
	cfg.GraphQL = "http://" + token + "@127.0.0.1:4200/graphql"
	cfg.APIKey = token
	cfg.Secrets = map[string]any{"NAME": value}
	r, err := secrets.NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}

	for name, v := range map[string]any{"Resolver": r, "Config": cfg, "Config inside a struct": struct{ C secrets.Config }{cfg}} {
		var texts []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			texts = append(texts, fmt.Sprintf(verb, v))
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "v", v)
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "v", v)
		texts = append(texts, string(data), logs.String())

		for _, text := range texts {
			if strings.Contains(text, token) || strings.Contains(text, value) {
				t.Errorf("%s: %q holds the token or the value", name, text)
			}
		}
		if !strings.Contains(fmt.Sprint(v), "127.0.0.1:4200") || !strings.Contains(fmt.Sprint(v), "NAME") {
			t.Errorf("%s prints %q; want the API host and the secret's name", name, fmt.Sprint(v))
		}
	}
}
