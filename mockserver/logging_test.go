package mockserver_test

import (
	"log/slog"
	"testing"

	"github.com/prefect-go/cloudsecrets/internal/testutil"
	"github.com/prefect-go/cloudsecrets/mockserver"
)

func TestLoggerGetsOneLinePerRequestWithoutSecrets(t *testing.T) {
	var out testutil.Buffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	_, ts := setup(t, mockserver.Options{Tokens: map[string]string{"tok-s3cr3t": "alpha"}, Logger: logger})

	set := `{"query": "mutation SetIt($input: set_secret_input!) { set_secret(input: $input) { success } }", "variables": {"input": {"name": "K", "value": "value-s3cr3t"}}}`
	post(t, ts.Client(), ts.URL+"/graphql", "tok-s3cr3t", set)
	post(t, ts.Client(), ts.URL+"/graphql/alpha", "wrong-s3cr3t", gqlBody(t, queryCamel, map[string]any{"name": "K"}))

	want := `level=INFO msg=request method=POST path=/graphql status=200 tenant=alpha operation=SetIt fields=set_secret
level=INFO msg=request method=POST path=/graphql/alpha status=200 tenant="" operation="" fields=""
`
	if got := out.String(); got != want {
		t.Errorf("log =\n%s\nwant\n%s", got, want)
	}
}
