package mockserver_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

func TestQueryReadsSecrets(t *testing.T) {
	s, ts := setup(t, mockserver.Options{})
	s.SetSecret(mockserver.DefaultTenant, "MY_KEY", json.RawMessage(`"s3cr3t"`))
	s.SetSecret(mockserver.DefaultTenant, "ENCODED", json.RawMessage(`"{\"x\": 42}"`))
	s.SetSecret(mockserver.DefaultTenant, "OBJECT", json.RawMessage(`{"x": 42, "y": [true, null]}`))
	s.SetSecret(mockserver.DefaultTenant, "NULL", json.RawMessage(`null`))

	byName := map[string]any{"name": "MY_KEY"}
	tests := []struct {
		name     string
		body     string
		wantData string
	}{
		{
			name:     "snake_case with variables as an object",
			body:     gqlBody(t, querySnake, byName),
			wantData: `{"secret_value": "s3cr3t"}`,
		},
		{
			name:     "snake_case with variables as a JSON string",
			body:     gqlBody(t, querySnake, stringVars(t, byName)),
			wantData: `{"secret_value": "s3cr3t"}`,
		},
		{
			name:     "camelCase with variables as a JSON string",
			body:     gqlBody(t, queryCamel, stringVars(t, byName)),
			wantData: `{"secretValue": "s3cr3t"}`,
		},
		{
			name:     "camelCase with variables as an object",
			body:     gqlBody(t, queryCamel, byName),
			wantData: `{"secretValue": "s3cr3t"}`,
		},
		{
			name:     "Prefect Core 0.7 body, byte for byte",
			body:     `{"query": "query($name: String!) {\n        secretValue(name: $name)\n}", "variables": "{\"name\": \"MY_KEY\"}"}`,
			wantData: `{"secretValue": "s3cr3t"}`,
		},
		{
			name:     "named operation picked by operationName",
			body:     `{"query": "query A { secret_names } query B($n: String!) { secret_value(name: $n) }", "operationName": "B", "variables": {"n": "MY_KEY"}}`,
			wantData: `{"secret_value": "s3cr3t"}`,
		},
		{
			name:     "name given as a literal",
			body:     gqlBody(t, `{ secret_value(name: "MY_KEY") }`, nil),
			wantData: `{"secret_value": "s3cr3t"}`,
		},
		{
			name:     "both generations in one query",
			body:     gqlBody(t, `query($name: String!) { a: secret_value(name: $name) b: secretValue(name: $name) }`, byName),
			wantData: `{"a": "s3cr3t", "b": "s3cr3t"}`,
		},
		{
			name:     "JSON-encoded string stays a string",
			body:     gqlBody(t, querySnake, map[string]any{"name": "ENCODED"}),
			wantData: `{"secret_value": "{\"x\": 42}"}`,
		},
		{
			name:     "object value comes back as the object",
			body:     gqlBody(t, querySnake, map[string]any{"name": "OBJECT"}),
			wantData: `{"secret_value": {"x": 42, "y": [true, null]}}`,
		},
		{
			name:     "null value is found and answers null",
			body:     gqlBody(t, querySnake, map[string]any{"name": "NULL"}),
			wantData: `{"secret_value": null}`,
		},
		{
			name:     "empty variables string is no variables",
			body:     `{"query": "{ secret_value(name: \"MY_KEY\") }", "variables": ""}`,
			wantData: `{"secret_value": "s3cr3t"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := post(t, ts.Client(), ts.URL+"/graphql", "", tt.body)

			if status != http.StatusOK {
				t.Errorf("status = %d, want 200", status)
			}
			if len(got.Errors) != 0 {
				t.Fatalf("errors = %+v, want none", got.Errors)
			}
			if !jsonEqual(t, got.Data, []byte(tt.wantData)) {
				t.Errorf("data = %s, want %s", got.Data, tt.wantData)
			}
		})
	}
}

func TestQueryMissingSecretIsNotFound(t *testing.T) {
	_, ts := setup(t, mockserver.Options{})

	tests := []struct{ field, query string }{
		{field: "secret_value", query: querySnake},
		{field: "secretValue", query: queryCamel},
	}
	for _, tt := range tests {
		field := tt.field
		t.Run(field, func(t *testing.T) {
			_, got := post(t, ts.Client(), ts.URL, "", gqlBody(t, tt.query, map[string]any{"name": "ABSENT"}))

			if code := got.code(t); code != "NOT_FOUND" {
				t.Errorf("code = %q, want NOT_FOUND", code)
			}
			e := got.Errors[0]
			if e.Message != "No value found for the requested key" {
				t.Errorf("message = %q", e.Message)
			}
			if !slices.Equal(e.Path, []any{field}) {
				t.Errorf("path = %v, want [%s]", e.Path, field)
			}
			if want := `{"` + field + `": null}`; !jsonEqual(t, got.Data, []byte(want)) {
				t.Errorf("data = %s, want %s", got.Data, want)
			}
		})
	}
}

func TestSecretNames(t *testing.T) {
	tests := []struct {
		name  string
		seed  []string
		wantJ string
	}{
		{name: "empty tenant lists an empty array, not null", seed: nil, wantJ: `{"secret_names": []}`},
		{name: "names come sorted", seed: []string{"b", "C", "a"}, wantJ: `{"secret_names": ["C", "a", "b"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := setup(t, mockserver.Options{})
			for _, n := range tt.seed {
				s.SetSecret(mockserver.DefaultTenant, n, json.RawMessage(`1`))
			}

			_, got := post(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, queryNames, nil))

			if len(got.Errors) != 0 {
				t.Fatalf("errors = %+v", got.Errors)
			}
			if string(got.Data) != strings.ReplaceAll(tt.wantJ, " ", "") {
				t.Errorf("data = %s, want %s", got.Data, tt.wantJ)
			}
		})
	}
}

func TestSetSecretStoresValues(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		vars      any
		wantField string
		wantValue string
	}{
		{
			name:      "set_secret with variables as an object",
			query:     mutateSnake,
			vars:      map[string]any{"input": map[string]any{"name": "K", "value": "v1"}},
			wantField: "set_secret",
			wantValue: `"v1"`,
		},
		{
			name:      "setSecret with variables as a JSON string",
			query:     mutateCamel,
			vars:      stringVars(t, map[string]any{"input": map[string]any{"name": "K", "value": map[string]any{"x": 42}}}),
			wantField: "setSecret",
			wantValue: `{"x":42}`,
		},
		{
			name:      "set_secret with variables as a JSON string",
			query:     mutateSnake,
			vars:      stringVars(t, map[string]any{"input": map[string]any{"name": "K", "value": `{"x": 42}`}}),
			wantField: "set_secret",
			wantValue: `"{\"x\": 42}"`,
		},
		{
			name:      "explicit null is stored as null",
			query:     mutateSnake,
			vars:      map[string]any{"input": map[string]any{"name": "K", "value": nil}},
			wantField: "set_secret",
			wantValue: `null`,
		},
		{
			name:      "literal input",
			query:     `mutation { setSecret(input: {name: "K", value: [1, "two", {three: 3.5}]}) { success } }`,
			wantField: "setSecret",
			wantValue: `[1,"two",{"three":3.5}]`,
		},
		{
			name:      "numbers keep their digits and HTML characters stay as they are",
			query:     mutateSnake,
			vars:      json.RawMessage(`{"input": {"name": "K", "value": {"n": 12345678901234567890, "f": 1.50, "s": "<&>"}}}`),
			wantField: "set_secret",
			wantValue: `{"f":1.50,"n":12345678901234567890,"s":"<&>"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := setup(t, mockserver.Options{})
			s.SetSecret(mockserver.DefaultTenant, "K", json.RawMessage(`"old"`))

			_, got := post(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, tt.query, tt.vars))

			if len(got.Errors) != 0 {
				t.Fatalf("errors = %+v", got.Errors)
			}
			if want := `{"` + tt.wantField + `":{"success":true}}`; string(got.Data) != want {
				t.Errorf("data = %s, want %s", got.Data, want)
			}
			value, ok := s.Secret(mockserver.DefaultTenant, "K")
			if !ok || string(value) != tt.wantValue {
				t.Errorf("stored = %s, %v; want %s, true", value, ok, tt.wantValue)
			}
		})
	}
}

func TestMutationErrors(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		vars     any
		wantCode string
		wantMsg  string
	}{
		{
			name:     "set_secret without a value",
			query:    mutateSnake,
			vars:     map[string]any{"input": map[string]any{"name": "K"}},
			wantCode: "BAD_USER_INPUT",
			wantMsg:  "value is required",
		},
		{
			name:     "setSecret without a value",
			query:    mutateCamel,
			vars:     stringVars(t, map[string]any{"input": map[string]any{"name": "K"}}),
			wantCode: "BAD_USER_INPUT",
			wantMsg:  "value is required",
		},
		{
			name:     "empty name",
			query:    mutateSnake,
			vars:     map[string]any{"input": map[string]any{"name": "", "value": 1}},
			wantCode: "BAD_USER_INPUT",
			wantMsg:  "secret name is empty",
		},
		{
			name:     "name over 255 bytes",
			query:    mutateSnake,
			vars:     map[string]any{"input": map[string]any{"name": strings.Repeat("é", 128), "value": 1}},
			wantCode: "BAD_USER_INPUT",
			wantMsg:  "secret name is 256 bytes long; at most 255 are allowed",
		},
		{
			name:     "name with a control character",
			query:    mutateSnake,
			vars:     map[string]any{"input": map[string]any{"name": "a\nb", "value": 1}},
			wantCode: "BAD_USER_INPUT",
			wantMsg:  "secret name holds a control character at byte 1",
		},
		{
			name:     "delete a missing secret",
			query:    mutateDelete,
			vars:     map[string]any{"input": map[string]any{"name": "ABSENT"}},
			wantCode: "NOT_FOUND",
			wantMsg:  "No value found for the requested key",
		},
		{
			name:     "read with an empty name",
			query:    querySnake,
			vars:     map[string]any{"name": ""},
			wantCode: "BAD_USER_INPUT",
			wantMsg:  "secret name is empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := setup(t, mockserver.Options{})

			status, got := post(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, tt.query, tt.vars))

			if status != http.StatusOK {
				t.Errorf("status = %d, want 200", status)
			}
			if code := got.code(t); code != tt.wantCode {
				t.Errorf("code = %q, want %q", code, tt.wantCode)
			}
			if got.Errors[0].Message != tt.wantMsg {
				t.Errorf("message = %q, want %q", got.Errors[0].Message, tt.wantMsg)
			}
			if names := s.SecretNames(mockserver.DefaultTenant); len(names) != 0 {
				t.Errorf("a failed mutation stored %v", names)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	_, ts := setup(t, mockserver.Options{})
	url := ts.URL + "/graphql"
	c := ts.Client()

	mustSucceed := func(t *testing.T, body, field string) {
		t.Helper()
		_, got := post(t, c, url, "", body)
		if want := `{"` + field + `":{"success":true}}`; len(got.Errors) != 0 || string(got.Data) != want {
			t.Fatalf("got %s %+v, want %s", got.Data, got.Errors, want)
		}
	}
	read := func(t *testing.T, name string) answer {
		t.Helper()
		_, got := post(t, c, url, "", gqlBody(t, querySnake, map[string]any{"name": name}))
		return got
	}

	mustSucceed(t, gqlBody(t, mutateSnake, map[string]any{"input": map[string]any{"name": "B", "value": []int{1, 2}}}), "set_secret")
	mustSucceed(t, gqlBody(t, mutateCamel, map[string]any{"input": map[string]any{"name": "A", "value": "x"}}), "setSecret")

	if got := read(t, "B"); string(got.Data) != `{"secret_value":[1,2]}` {
		t.Errorf("read B = %s %+v", got.Data, got.Errors)
	}
	_, names := post(t, c, url, "", gqlBody(t, queryNames, nil))
	if string(names.Data) != `{"secret_names":["A","B"]}` {
		t.Errorf("names = %s", names.Data)
	}

	mustSucceed(t, gqlBody(t, mutateDelete, map[string]any{"input": map[string]any{"name": "B"}}), "delete_secret")

	if got := read(t, "B"); len(got.Errors) != 1 || got.Errors[0].Message != "No value found for the requested key" {
		t.Errorf("read deleted B = %s %+v", got.Data, got.Errors)
	}
	_, names = post(t, c, url, "", gqlBody(t, queryNames, nil))
	if string(names.Data) != `{"secret_names":["A"]}` {
		t.Errorf("names after delete = %s", names.Data)
	}
}

// TestNumberIsNotAString: a number or boolean sent where the schema wants a
// String is refused, as the spec's input coercion says, not stored under its
// text.
func TestNumberIsNotAString(t *testing.T) {
	s, ts := setup(t, mockserver.Options{})
	s.SetSecret(mockserver.DefaultTenant, "123", json.RawMessage(`"v"`))

	tests := []struct {
		name string
		body string
	}{
		{"literal name", gqlBody(t, `mutation { set_secret(input: {name: 456, value: "x"}) { success } }`, nil)},
		{"number variable in an input", gqlBody(t, mutateSnake, map[string]any{"input": map[string]any{"name": 456, "value": "x"}})},
		{"float variable in an input", gqlBody(t, mutateSnake, map[string]any{"input": map[string]any{"name": 4.5, "value": "x"}})},
		{"boolean variable in an input", gqlBody(t, mutateSnake, map[string]any{"input": map[string]any{"name": true, "value": "x"}})},
		{"number variable read", gqlBody(t, querySnake, map[string]any{"name": 123})},
		{"number in string variables", gqlBody(t, querySnake, `{"name": 123}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, a := post(t, ts.Client(), ts.URL+"/graphql", "", tt.body)

			if len(a.Errors) != 1 || !strings.Contains(a.Errors[0].Message, "String") {
				t.Errorf("answer = %+v; want one error about the String", a)
			}
			if strings.Contains(string(a.Data), `"v"`) {
				t.Errorf("the number read the secret named by its text: %s", a.Data)
			}
		})
	}
	if names := s.SecretNames(mockserver.DefaultTenant); len(names) != 1 {
		t.Errorf("secrets = %v; want only the one set up", names)
	}
}
