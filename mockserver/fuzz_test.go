package mockserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// fuzzMarker marks secret material in fuzz inputs: a variable's value or a
// token holding it must never be echoed in an answer.
const fuzzMarker = "s3cr3t"

// FuzzRequestDecoding sends any body, with any Authorization header, to a
// fresh server that knows the token "tok-fuzz". The server must not panic,
// must answer a GraphQL-shaped JSON error or result with a known status,
// and must never echo a variable's value or the token it was sent. The
// seed corpus is in testdata/fuzz/FuzzRequestDecoding.
func FuzzRequestDecoding(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, auth string) {
		s, err := mockserver.New(mockserver.Options{
			Tokens:        map[string]string{"tok-fuzz": "fuzz"},
			MaxBodyBytes:  64 << 10,
			MaxValueBytes: 4 << 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()

		s.Handler().ServeHTTP(rec, req)

		switch rec.Code {
		case 200, 400, 413, 422:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		answer := rec.Body.Bytes()
		var shape map[string]json.RawMessage
		if err := json.Unmarshal(answer, &shape); err != nil {
			t.Fatalf("answer is not a JSON object: %q", answer)
		}
		if _, ok := shape["data"]; !ok {
			if _, ok := shape["errors"]; !ok {
				t.Fatalf("answer has neither data nor errors: %q", answer)
			}
		}

		for _, secret := range secretsSent(body, auth) {
			if bytes.Contains(answer, []byte(secret)) {
				t.Fatalf("answer echoes %q: %s", secret, answer)
			}
		}
	})
}

// secretsSent returns what in a request must not come back: the token, and
// every variable value holding the marker that does not also appear where
// the server may rightly quote it (the query, the operation name, a
// variable's name).
func secretsSent(body []byte, auth string) []string {
	var out []string
	if _, token, ok := strings.Cut(auth, " "); ok && strings.Contains(token, fuzzMarker) {
		out = append(out, strings.TrimSpace(token))
	}

	// The same field names and types as the server decodes with.
	var req struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    map[string]any  `json:"extensions"`
	}
	if json.Unmarshal(body, &req) != nil {
		return out
	}
	var vars any
	var text string
	if json.Unmarshal(req.Variables, &text) == nil {
		_ = json.Unmarshal([]byte(text), &vars)
	} else {
		_ = json.Unmarshal(req.Variables, &vars)
	}

	var values, keys []string
	collectStrings(vars, &values, &keys)
	quotable := req.Query + "\x00" + req.OperationName + "\x00" + strings.Join(keys, "\x00")
	if ext, err := json.Marshal(req.Extensions); err == nil {
		quotable += "\x00" + string(ext)
	}
	for _, v := range values {
		if strings.Contains(v, fuzzMarker) && !strings.Contains(quotable, v) {
			out = append(out, v)
		}
	}
	return out
}

// collectStrings gathers the string values and the object keys in v.
func collectStrings(v any, values, keys *[]string) {
	switch v := v.(type) {
	case string:
		*values = append(*values, v)
	case []any:
		for _, e := range v {
			collectStrings(e, values, keys)
		}
	case map[string]any:
		for k, e := range v {
			*keys = append(*keys, k)
			collectStrings(e, values, keys)
		}
	}
}
