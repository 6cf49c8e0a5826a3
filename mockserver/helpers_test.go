package mockserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// setup starts opts's server on an httptest loopback server for one test.
func setup(t *testing.T, opts mockserver.Options) (*mockserver.Server, *httptest.Server) {
	t.Helper()

	s, err := mockserver.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// answer is a decoded GraphQL response.
type answer struct {
	Data   json.RawMessage `json:"data"`
	Errors []answerError   `json:"errors"`
}

type answerError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// code returns the extensions.code of the answer's only error.
func (a answer) code(t *testing.T) string {
	t.Helper()

	if len(a.Errors) != 1 {
		t.Fatalf("want exactly one error, got %d: %+v", len(a.Errors), a.Errors)
	}
	code, _ := a.Errors[0].Extensions["code"].(string)
	return code
}

// post sends body to url with an optional bearer token and decodes the answer.
func post(t *testing.T, client *http.Client, url, token, body string) (int, answer) {
	t.Helper()

	status, raw := postRaw(t, client, url, token, body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, raw)
	}
	return status, a
}

// postRaw sends body to url with an optional bearer token.
func postRaw(t *testing.T, client *http.Client, url, token, body string) (int, []byte) {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()

	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	return resp.StatusCode, raw
}

// gqlBody builds a GraphQL request body; vars may be nil, a map or a string.
func gqlBody(t *testing.T, query string, vars any) string {
	t.Helper()

	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonEqual reports whether two JSON texts encode the same value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()

	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// stringVars encodes vars as a JSON string, as Prefect Core's clients do.
func stringVars(t *testing.T, vars map[string]any) string {
	t.Helper()

	b, err := json.Marshal(vars)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The operations Prefect Core's clients send, with their whitespace.
const (
	querySnake   = "query($name: String!) {\n        secret_value(name: $name)\n}"
	queryCamel   = "query($name: String!) {\n        secretValue(name: $name)\n}"
	mutateSnake  = "mutation($input: set_secret_input!) { set_secret(input: $input) { success } }"
	mutateCamel  = "mutation($input: setSecretInput!) { setSecret(input: $input) { success } }"
	mutateDelete = "mutation($input: delete_secret_input!) { delete_secret(input: $input) { success } }"
	queryNames   = "query { secret_names }"
)
