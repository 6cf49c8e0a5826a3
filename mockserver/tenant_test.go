package mockserver_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prefect-go/cloudsecrets/internal/testutil"
	"github.com/prefect-go/cloudsecrets/mockserver"
)

// The tokens of the tenant-isolation tests. Alpha plays the intruder and
// beta the victim; "default" is there to show it is a tenant like any other.
const (
	tokAlpha   = "tok-alpha-s3cr3t"
	tokBeta    = "tok-beta-s3cr3t"
	tokDefault = "tok-default-s3cr3t"
)

func tenantTokens() map[string]string {
	return map[string]string{tokAlpha: "alpha", tokBeta: "beta", tokDefault: mockserver.DefaultTenant}
}

// victim holds beta's and the default tenant's secrets; alpha has none.
func victim(t *testing.T, opts mockserver.Options) (*mockserver.Server, *httptest.Server) {
	t.Helper()

	opts.Tokens = tenantTokens()
	s, ts := setup(t, opts)
	s.SetSecret("beta", "B_ONLY", json.RawMessage(`"beta-value-s3cr3t"`))
	s.SetSecret("beta", "SAME", json.RawMessage(`"beta-same-s3cr3t"`))
	s.SetSecret(mockserver.DefaultTenant, "D_ONLY", json.RawMessage(`"default-value-s3cr3t"`))
	return s, ts
}

// untouched fails the test if beta's or the default tenant's secrets
// changed.
func untouched(t *testing.T, s *mockserver.Server) {
	t.Helper()

	want := map[string]map[string]string{
		"beta":                   {"B_ONLY": `"beta-value-s3cr3t"`, "SAME": `"beta-same-s3cr3t"`},
		mockserver.DefaultTenant: {"D_ONLY": `"default-value-s3cr3t"`},
	}
	for tenant, secrets := range want {
		if names := s.SecretNames(tenant); len(names) != len(secrets) {
			t.Errorf("tenant %s now has %v", tenant, names)
		}
		for name, value := range secrets {
			if got, ok := s.Secret(tenant, name); !ok || string(got) != value {
				t.Errorf("%s/%s = %s (found %t), want %s", tenant, name, got, ok, value)
			}
		}
	}
}

func TestTenantCannotReachAnotherTenantsSecrets(t *testing.T) {
	named := func(name string) map[string]any { return map[string]any{"name": name} }
	input := func(name string, value any) map[string]any {
		in := map[string]any{"name": name}
		if value != nil {
			in["value"] = value
		}
		return map[string]any{"input": in}
	}

	tests := []struct {
		name     string
		query    string
		vars     map[string]any
		wantCode string // "" when alpha's own operation succeeds
	}{
		{"read with secret_value", querySnake, named("B_ONLY"), "NOT_FOUND"},
		{"read with secretValue", queryCamel, named("B_ONLY"), "NOT_FOUND"},
		{"read the default tenant's", querySnake, named("D_ONLY"), "NOT_FOUND"},
		{"read with a literal name", `{ secret_value(name: "B_ONLY") }`, nil, "NOT_FOUND"},
		{"read under aliases", `{ a: secret_value(name: "SAME") b: secretValue(name: "B_ONLY") }`, nil, "NOT_FOUND"},
		{"list", queryNames, nil, ""},
		{"list with a read", `{ secret_names secret_value(name: "SAME") }`, nil, "NOT_FOUND"},
		{"overwrite with set_secret", mutateSnake, input("SAME", "alpha-value"), ""},
		{"overwrite with setSecret", mutateCamel, input("B_ONLY", "alpha-value"), ""},
		{"overwrite with null", mutateSnake, input("D_ONLY", json.RawMessage(`null`)), ""},
		{"delete", mutateDelete, input("B_ONLY", nil), "NOT_FOUND"},
		{"delete the default tenant's", mutateDelete, input("D_ONLY", nil), "NOT_FOUND"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/", "/graphql", "/graphql/alpha"} {
			for _, asString := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s on %s, string variables %t", tt.name, path, asString), func(t *testing.T) {
					s, ts := victim(t, mockserver.Options{})
					var vars any = tt.vars
					if asString && tt.vars != nil {
						vars = stringVars(t, tt.vars)
					}

					_, raw := postRaw(t, ts.Client(), ts.URL+path, tokAlpha, gqlBody(t, tt.query, vars))

					var got answer
					if err := json.Unmarshal(raw, &got); err != nil {
						t.Fatalf("answer is not JSON: %s", raw)
					}
					if tt.wantCode == "" && len(got.Errors) != 0 {
						t.Errorf("alpha's own operation failed: %+v", got.Errors)
					}
					if tt.wantCode != "" && len(got.Errors) == 0 {
						t.Errorf("no error, want %s", tt.wantCode)
					}
					for _, e := range got.Errors {
						if e.Extensions["code"] != tt.wantCode {
							t.Errorf("code = %v, want %q", e.Extensions["code"], tt.wantCode)
						}
					}
					for _, leak := range []string{"beta-", "default-value", "B_ONLY", "D_ONLY"} {
						if strings.Contains(string(got.Data), leak) {
							t.Errorf("alpha sees %q: %s", leak, got.Data)
						}
					}
					untouched(t, s)
				})
			}
		}
	}
}

func TestTenantsWithTheSameNamesStaySeparate(t *testing.T) {
	s, ts := victim(t, mockserver.Options{})
	url, c := ts.URL+"/graphql", ts.Client()

	// Alpha and beta both write SAME and their own names at once, many times.
	const rounds = 40
	var wg sync.WaitGroup
	for _, tok := range []string{tokAlpha, tokBeta} {
		wg.Go(func() {
			for i := range rounds {
				vars := map[string]any{"input": map[string]any{"name": fmt.Sprintf("N%d", i), "value": tok}}
				if _, got := post(t, c, url, tok, gqlBody(t, mutateSnake, vars)); len(got.Errors) != 0 {
					t.Errorf("set: %+v", got.Errors)
				}
			}
		})
	}
	wg.Wait()

	for _, tt := range []struct{ tenant, token string }{{"alpha", tokAlpha}, {"beta", tokBeta}} {
		for i := range rounds {
			v, _ := s.Secret(tt.tenant, fmt.Sprintf("N%d", i))
			if string(v) != `"`+tt.token+`"` {
				t.Errorf("%s/N%d = %s, want its own token's write", tt.tenant, i, v)
			}
		}
		_, got := post(t, c, url, tt.token, gqlBody(t, queryNames, nil))
		var names struct{ Secret_names []string }
		if err := json.Unmarshal(got.Data, &names); err != nil {
			t.Fatal(err)
		}
		if want := rounds + map[string]int{"alpha": 0, "beta": 2}[tt.tenant]; len(names.Secret_names) != want {
			t.Errorf("%s lists %d names, want %d", tt.tenant, len(names.Secret_names), want)
		}
	}
}

func TestRequestsWithoutAValidTokenReachNoTenant(t *testing.T) {
	s, ts := victim(t, mockserver.Options{})

	for _, token := range []string{"", "tok-beta", tokBeta + "x", strings.ToUpper(tokBeta), "tok-gamma"} {
		t.Run("token "+token, func(t *testing.T) {
			vars := map[string]any{"input": map[string]any{"name": "SAME", "value": "intruder"}}
			_, set := post(t, ts.Client(), ts.URL+"/graphql", token, gqlBody(t, mutateSnake, vars))
			_, read := post(t, ts.Client(), ts.URL+"/graphql", token, gqlBody(t, querySnake, map[string]any{"name": "D_ONLY"}))

			if set.code(t) != "UNAUTHENTICATED" || read.code(t) != "UNAUTHENTICATED" {
				t.Errorf("set %+v, read %+v", set.Errors, read.Errors)
			}
			if string(read.Data) != "null" {
				t.Errorf("data = %s", read.Data)
			}
			untouched(t, s)
		})
	}
}

func TestTenantsStaySeparateInTheDataFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.data")
	opts := mockserver.Options{Tokens: tenantTokens()}
	s, ts := withData(t, path, opts)
	setVia(t, ts, tokAlpha, "SAME", "alpha's")
	setVia(t, ts, tokBeta, "SAME", "beta's")

	s2 := reopen(t, s, path, opts)
	ts2 := httptest.NewServer(s2.Handler())
	defer ts2.Close()

	for tok, want := range map[string]string{tokAlpha: `"alpha's"`, tokBeta: `"beta's"`} {
		_, got := post(t, ts2.Client(), ts2.URL+"/graphql", tok, gqlBody(t, querySnake, map[string]any{"name": "SAME"}))
		if string(got.Data) != `{"secret_value":`+want+`}` {
			t.Errorf("after restart a token reads %s, want %s", got.Data, want)
		}
	}
	if names := s2.SecretNames(mockserver.DefaultTenant); len(names) != 0 {
		t.Errorf("the default tenant got %v", names)
	}
}

func TestLogNamesTheTenantButNoTokenOrValue(t *testing.T) {
	var out testutil.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	_, ts := victim(t, mockserver.Options{Logger: logger})
	url, c := ts.URL+"/graphql", ts.Client()

	set := `{"query": "mutation Put($input: set_secret_input!) { set_secret(input: $input) { success } }",
		"variables": {"input": {"name": "N", "value": "value-s3cr3t"}}}`
	post(t, c, url, tokAlpha, set)
	post(t, c, url, tokBeta, gqlBody(t, queryCamel, stringVars(t, map[string]any{"name": "B_ONLY"})))
	post(t, c, url, "wrong-s3cr3t", gqlBody(t, queryNames, nil))
	post(t, c, ts.URL+"/graphql?token=query-s3cr3t", tokDefault, `{"query": "query Names { secret_names }"}`)

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []struct{ tenant, operation, fields string }{
		{"alpha", "Put", "set_secret"},
		{"beta", "", "secretValue"},
		{"", "", ""},
		{mockserver.DefaultTenant, "Names", "secret_names"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d is not JSON: %s", i, line)
		}
		for _, key := range []string{"method", "path", "status", "duration"} {
			if _, ok := rec[key]; !ok {
				t.Errorf("line %d has no %s: %s", i, key, line)
			}
		}
		if rec["tenant"] != want[i].tenant || rec["operation"] != want[i].operation || rec["fields"] != want[i].fields {
			t.Errorf("line %d: tenant %v, operation %v, fields %v; want %+v", i, rec["tenant"], rec["operation"], rec["fields"], want[i])
		}
		if rec["path"] != "/graphql" {
			t.Errorf("line %d: path = %v, want /graphql without the query string", i, rec["path"])
		}
	}
	for _, secret := range []string{"s3cr3t", "B_ONLY", `"N"`, "beta-value"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, out.String())
		}
	}
}
