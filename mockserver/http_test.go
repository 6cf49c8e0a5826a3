package mockserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

func TestHTTPRoutes(t *testing.T) {
	_, ts := setup(t, mockserver.Options{})

	tests := []struct {
		name      string
		method    string
		path      string
		wantCode  int
		wantAllow string
		wantBody  string
	}{
		{name: "healthz", method: http.MethodGet, path: "/healthz", wantCode: 200, wantBody: "ok"},
		{name: "GET on root", method: http.MethodGet, path: "/", wantCode: 405, wantAllow: "POST"},
		{name: "GET on /graphql", method: http.MethodGet, path: "/graphql", wantCode: 405, wantAllow: "POST"},
		{name: "PUT on /graphql/alpha", method: http.MethodPut, path: "/graphql/alpha", wantCode: 405, wantAllow: "POST"},
		{name: "DELETE on /graphql", method: http.MethodDelete, path: "/graphql", wantCode: 405, wantAllow: "POST"},
		{name: "unknown path", method: http.MethodPost, path: "/graphql/beta", wantCode: 404},
		{name: "trailing slash is another path", method: http.MethodPost, path: "/graphql/", wantCode: 404},
		{name: "POST on healthz", method: http.MethodPost, path: "/healthz", wantCode: 405, wantAllow: "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, ts.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)

			if resp.StatusCode != tt.wantCode {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if got := resp.Header.Get("Allow"); tt.wantAllow != "" && got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
		})
	}
}

func TestGraphQLPathsAllAnswer(t *testing.T) {
	_, ts := setup(t, mockserver.Options{})

	for _, path := range []string{"/", "/graphql", "/graphql/alpha"} {
		t.Run(path, func(t *testing.T) {
			status, got := post(t, ts.Client(), ts.URL+path, "", gqlBody(t, queryNames, nil))

			if status != 200 || string(got.Data) != `{"secret_names":[]}` {
				t.Errorf("got %d %s %+v", status, got.Data, got.Errors)
			}
		})
	}
}

func TestBadRequestBodies(t *testing.T) {
	_, ts := setup(t, mockserver.Options{MaxBodyBytes: 256})

	tests := []struct {
		name     string
		body     string
		wantCode int
		wantErr  string // extensions.code
	}{
		{name: "not JSON", body: `query { secret_names }`, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "cut short", body: `{"query": "{ secret_names }"`, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "empty", body: ``, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "an array", body: `[{"query": "{ secret_names }"}]`, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "query not a string", body: `{"query": 5}`, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "two values", body: `{"query": "{ secret_names }"} {}`, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "variables an array", body: `{"query": "{ secret_names }", "variables": [1]}`, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "variables string not JSON", body: `{"query": "{ secret_names }", "variables": "{nope"}`, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "variables string an array", body: `{"query": "{ secret_names }", "variables": "[1]"}`, wantCode: 400, wantErr: "BAD_REQUEST"},
		{name: "over the limit", body: `{"query": "{ secret_names }", "variables": {"pad": "` + strings.Repeat("x", 256) + `"}}`, wantCode: 413, wantErr: "PAYLOAD_TOO_LARGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := postRaw(t, ts.Client(), ts.URL+"/graphql", "", tt.body)

			if status != tt.wantCode {
				t.Errorf("status = %d, want %d", status, tt.wantCode)
			}
			var got answer
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("body is not JSON: %s", raw)
			}
			if code := got.code(t); code != tt.wantErr {
				t.Errorf("code = %q, want %q", code, tt.wantErr)
			}
			if got.Errors[0].Message == "" {
				t.Error("empty message")
			}
			if strings.Contains(string(raw), "secret_names") {
				t.Errorf("the answer quotes the body: %s", raw)
			}
		})
	}
}

func TestBadBodyIsNotEchoed(t *testing.T) {
	_, ts := setup(t, mockserver.Options{})

	// A body gqlgen would quote whole if it saw it first.
	body := `{"query": "mutation { x }", "variables": {"input": {"value": "hunter2"}}, "extensions": 7}`
	status, raw := postRaw(t, ts.Client(), ts.URL+"/graphql", "", body)

	if status != 400 {
		t.Errorf("status = %d, want 400", status)
	}
	if strings.Contains(string(raw), "hunter2") {
		t.Errorf("the answer quotes a value: %s", raw)
	}
}

// TestGraphQLNeedsJSONContentType: a web page can post text/plain, a form
// or an untyped body to the mock without a CORS preflight, so only
// application/json is served; anything else is a 415 that changes nothing.
func TestGraphQLNeedsJSONContentType(t *testing.T) {
	tests := []struct {
		contentType string
		wantStatus  int
	}{
		{"application/json", 200},
		{"application/json; charset=utf-8", 200},
		{"Application/JSON", 200},
		{"", 415},
		{"text/plain", 415},
		{"text/plain; charset=utf-8", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=xyz", 415},
		{"application/jsonp", 415},
		{"application/json, text/plain", 415},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			s, ts := setup(t, mockserver.Options{})
			vars := map[string]any{"input": map[string]any{"name": "K", "value": "v"}}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL+"/graphql",
				strings.NewReader(gqlBody(t, mutateSnake, vars)))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)

			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			_, stored := s.Secret(mockserver.DefaultTenant, "K")
			if tt.wantStatus == 200 {
				if !stored {
					t.Errorf("the mutation stored nothing: %s", body)
				}
				return
			}
			if stored {
				t.Error("a refused request stored a secret")
			}
			var a answer
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatalf("answer is not JSON: %s", body)
			}
			if code := a.code(t); code != "UNSUPPORTED_MEDIA_TYPE" || !strings.Contains(a.Errors[0].Message, "application/json") {
				t.Errorf("got %s, want an UNSUPPORTED_MEDIA_TYPE error naming application/json", body)
			}
		})
	}
}

func TestDefaultBodyLimitIsOneMiB(t *testing.T) {
	_, ts := setup(t, mockserver.Options{})

	// padded returns a valid request body of exactly n bytes.
	padded := func(n int) string {
		head, tail := `{"query": "{ secret_names }", "extensions": {"pad": "`, `"}}`
		return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	}
	tests := []struct {
		name     string
		size     int
		wantCode int
	}{
		{name: "exactly 1 MiB is served", size: 1 << 20, wantCode: 200},
		{name: "one byte more is too large", size: 1<<20 + 1, wantCode: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := postRaw(t, ts.Client(), ts.URL+"/graphql", "", padded(tt.size))

			if status != tt.wantCode {
				t.Errorf("status = %d, want %d: %.200s", status, tt.wantCode, raw)
			}
			if tt.wantCode == 413 && string(raw) != `{"errors":[{"message":"request body is larger than 1048576 bytes","extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}` {
				t.Errorf("body = %s", raw)
			}
		})
	}
}
