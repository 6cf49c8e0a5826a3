package mockserver_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// nested returns a query whose deepest field sits depth levels down,
// depth >= 2: __type, then ofType depth-2 times, then name. ofType is not a
// list, so gqlparser's own introspection depth rule lets it through.
func nested(depth int) string {
	return `{ __type(name: "Query") {` + strings.Repeat(" ofType {", depth-2) +
		" name" + strings.Repeat(" }", depth-1) + " }"
}

// aliases returns a query that asks for secret_names n times under aliases.
func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " n%d: secret_names", i)
	}
	b.WriteString(" }")
	return b.String()
}

// fragmentBomb returns a short query whose fragments each spread the next
// one twice, so that it expands to 2^levels fields.
func fragmentBomb(levels int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { secret_names }\n", levels)
	return b.String()
}

// introspection is a client's usual introspection query: the whole schema,
// with type references followed seven levels down.
const introspection = `query Introspect {
  __schema {
    queryType { name }
    mutationType { name }
    types {
      kind name description
      fields(includeDeprecated: true) {
        name description isDeprecated deprecationReason
        args { name description defaultValue type { ...Ref } }
        type { ...Ref }
      }
      inputFields { name defaultValue type { ...Ref } }
      enumValues(includeDeprecated: true) { name isDeprecated }
      interfaces { ...Ref }
      possibleTypes { ...Ref }
    }
    directives { name locations args { name type { ...Ref } } }
  }
}
fragment Ref on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

func TestNestedBuildsTheDepthAskedFor(t *testing.T) {
	for _, depth := range []int{2, 3, 4, 15, 16} {
		q := nested(depth)

		// Depth is the most open braces at once, less the operation's own.
		deepest, open := 0, 0
		for _, r := range q {
			switch r {
			case '{':
				open++
				deepest = max(deepest, open)
			case '}':
				open--
			}
		}
		if deepest != depth {
			t.Errorf("nested(%d) nests %d deep: %s", depth, deepest, q)
		}
	}
}

func TestLimitsAnswerWithClearErrors(t *testing.T) {
	const setMutation = "mutation($input: set_secret_input!) { set_secret(input: $input) { success } }"
	setVars := func(name string, value any) map[string]any {
		return map[string]any{"input": map[string]any{"name": name, "value": value}}
	}
	// A string of n bytes once JSON-encoded, quotes included.
	jsonString := func(n int) string { return strings.Repeat("v", n-2) }

	tests := []struct {
		name     string
		opts     mockserver.Options
		query    string
		vars     any
		wantCode string // extensions.code; "" for success
		wantMsg  string
	}{
		{
			name:  "a value at the default limit is stored",
			query: setMutation, vars: setVars("BIG", jsonString(mockserver.DefaultMaxValueBytes)),
		},
		{
			name:  "a value over the default limit is refused",
			query: setMutation, vars: setVars("BIG", jsonString(mockserver.DefaultMaxValueBytes+1)),
			wantCode: "BAD_USER_INPUT", wantMsg: "value is 524289 bytes long as compact JSON; at most 524288 are allowed",
		},
		{
			name: "a value over a configured limit is refused",
			opts: mockserver.Options{MaxValueBytes: 6}, query: setMutation, vars: setVars("K", map[string]any{"a": 1}),
			wantCode: "BAD_USER_INPUT", wantMsg: "value is 7 bytes long as compact JSON; at most 6 are allowed",
		},
		{
			name: "a value is measured compact, not as sent",
			opts: mockserver.Options{MaxValueBytes: 7}, query: setMutation,
			vars: `{"input": {"name": "K", "value": {  "a" :  1  }}}`,
		},
		{
			name: "a name over a configured limit is refused on set",
			opts: mockserver.Options{MaxNameBytes: 4}, query: setMutation, vars: setVars("FIVE5", 1),
			wantCode: "BAD_USER_INPUT", wantMsg: "secret name is 5 bytes long; at most 4 are allowed",
		},
		{
			name: "a name over a configured limit is refused on read",
			opts: mockserver.Options{MaxNameBytes: 4}, query: querySnake, vars: map[string]any{"name": "FIVE5"},
			wantCode: "BAD_USER_INPUT", wantMsg: "secret name is 5 bytes long; at most 4 are allowed",
		},
		{
			name: "a name over a configured limit is refused on delete",
			opts: mockserver.Options{MaxNameBytes: 4}, query: mutateDelete, vars: map[string]any{"input": map[string]any{"name": "FIVE5"}},
			wantCode: "BAD_USER_INPUT", wantMsg: "secret name is 5 bytes long; at most 4 are allowed",
		},
		{
			name: "a configured limit may allow names longer than the default",
			opts: mockserver.Options{MaxNameBytes: 300}, query: setMutation, vars: setVars(strings.Repeat("n", 300), 1),
		},
		{
			name:  "a name with a control character is refused",
			query: setMutation, vars: setVars("A\x07B", 1),
			wantCode: "BAD_USER_INPUT", wantMsg: "secret name holds a control character at byte 1",
		},
		{
			name:  "an operation at the default depth runs",
			query: nested(mockserver.DefaultMaxDepth),
		},
		{
			name:     "an operation past the default depth is refused",
			query:    nested(mockserver.DefaultMaxDepth + 1),
			wantCode: "DEPTH_LIMIT_EXCEEDED", wantMsg: "operation is nested more than 15 levels deep",
		},
		{
			name: "a configured depth counts the mutation's payload",
			opts: mockserver.Options{MaxDepth: 1}, query: setMutation, vars: setVars("K", 1),
			wantCode: "DEPTH_LIMIT_EXCEEDED", wantMsg: "operation is nested more than 1 levels deep",
		},
		{
			name: "a configured depth counts fields inside fragments",
			opts: mockserver.Options{MaxDepth: 3},
			query: `query { ...A } fragment A on Query { __type(name: "Query") { ...B } }
				fragment B on __Type { fields { type { name } } }`,
			wantCode: "DEPTH_LIMIT_EXCEEDED", wantMsg: "operation is nested more than 3 levels deep",
		},
		{
			name:  "the usual introspection query passes the defaults",
			query: introspection,
		},
		{
			name:  "an operation at the default complexity runs",
			query: aliases(mockserver.DefaultMaxComplexity),
		},
		{
			name:     "an operation over the default complexity gets gqlgen's error",
			query:    aliases(mockserver.DefaultMaxComplexity + 1),
			wantCode: "COMPLEXITY_LIMIT_EXCEEDED", wantMsg: "operation has complexity 201, which exceeds the limit of 200",
		},
		{
			name: "a configured complexity counts the payload's fields",
			opts: mockserver.Options{MaxComplexity: 1}, query: setMutation, vars: setVars("K", 1),
			wantCode: "COMPLEXITY_LIMIT_EXCEEDED", wantMsg: "operation has complexity 2, which exceeds the limit of 1",
		},
		{
			name:     "fragments that double at every level are refused before gqlgen counts them",
			query:    fragmentBomb(64),
			wantCode: "COMPLEXITY_LIMIT_EXCEEDED", wantMsg: "operation has more than 2000 fields once its fragments are expanded",
		},
		{
			name: "fragments spread repeatedly within the limit are counted by gqlgen",
			opts: mockserver.Options{MaxComplexity: 10}, query: fragmentBomb(4),
			wantCode: "COMPLEXITY_LIMIT_EXCEEDED", wantMsg: "operation has complexity 16, which exceeds the limit of 10",
		},
		{
			name: "a query over the token limit is refused while parsing",
			opts: mockserver.Options{MaxQueryTokens: 10}, query: aliases(4),
			wantCode: "GRAPHQL_PARSE_FAILED", wantMsg: "exceeded token limit of 10",
		},
		{
			name:     "the default token limit stops a very long query",
			query:    aliases(mockserver.DefaultMaxQueryTokens),
			wantCode: "GRAPHQL_PARSE_FAILED", wantMsg: "exceeded token limit of 2000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ts := setup(t, tt.opts)

			_, got := post(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, tt.query, tt.vars))

			if tt.wantCode == "" {
				if len(got.Errors) != 0 || len(got.Data) == 0 || string(got.Data) == "null" {
					t.Fatalf("want success, got %s %+v", got.Data, got.Errors)
				}
				return
			}
			if code := got.code(t); code != tt.wantCode {
				t.Errorf("code = %q, want %q (%+v)", code, tt.wantCode, got.Errors)
			}
			if msg := got.Errors[0].Message; !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestValidationErrorsAreCapped(t *testing.T) {
	_, ts := setup(t, mockserver.Options{})

	// Each pair of these fields conflicts: 435 errors without a cap.
	var b strings.Builder
	b.WriteString("{")
	for i := range 30 {
		fmt.Fprintf(&b, ` a: secret_value(name: "N%d")`, i)
	}
	b.WriteString(" }")
	_, got := post(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, b.String(), nil))

	if len(got.Errors) != 21 {
		t.Fatalf("%d errors, want 20 and one saying there were more", len(got.Errors))
	}
	if !strings.Contains(got.Errors[0].Message, "conflict") {
		t.Errorf("first error = %q", got.Errors[0].Message)
	}
	if last := got.Errors[20].Message; last != "too many validation errors; only the first 20 are listed" {
		t.Errorf("last error = %q", last)
	}
}

func TestRefusedValueIsNotStored(t *testing.T) {
	s, ts := setup(t, mockserver.Options{MaxValueBytes: 4})
	s.SetSecret(mockserver.DefaultTenant, "K", json.RawMessage(`1`))

	vars := map[string]any{"input": map[string]any{"name": "K", "value": "s3cr3t-too-long"}}
	_, got := post(t, ts.Client(), ts.URL+"/graphql", "", gqlBody(t, mutateSnake, vars))

	if got.code(t) != "BAD_USER_INPUT" {
		t.Fatalf("errors = %+v", got.Errors)
	}
	if strings.Contains(got.Errors[0].Message, "s3cr3t") {
		t.Errorf("the error quotes the value: %q", got.Errors[0].Message)
	}
	if v, _ := s.Secret(mockserver.DefaultTenant, "K"); string(v) != "1" {
		t.Errorf("K = %s, want the old value 1", v)
	}
}

func TestNewRefusesBadLimits(t *testing.T) {
	tests := []struct {
		name string
		opts mockserver.Options
		want string
	}{
		{"negative name limit", mockserver.Options{MaxNameBytes: -1}, "MaxNameBytes is negative"},
		{"negative value limit", mockserver.Options{MaxValueBytes: -1}, "MaxValueBytes is negative"},
		{"negative depth", mockserver.Options{MaxDepth: -1}, "MaxDepth is negative"},
		{"negative complexity", mockserver.Options{MaxComplexity: -1}, "MaxComplexity is negative"},
		{"negative token limit", mockserver.Options{MaxQueryTokens: -1}, "MaxQueryTokens is negative"},
		{
			"seed name over the configured limit",
			mockserver.Options{MaxNameBytes: 3, Seed: map[string]json.RawMessage{"LONG": json.RawMessage(`1`)}},
			`seed secret "LONG": secret name is 4 bytes long; at most 3 are allowed`,
		},
		{
			"seed value over the configured limit",
			mockserver.Options{MaxValueBytes: 3, Seed: map[string]json.RawMessage{"K": json.RawMessage(`"s3cr3t"`)}},
			`seed secret "K": value is 8 bytes long as compact JSON; at most 3 are allowed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mockserver.New(tt.opts)

			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
