package mockserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

func TestAuthentication(t *testing.T) {
	s, ts := setup(t, mockserver.Options{Tokens: map[string]string{
		"tok-alpha": "alpha",
		"tok-beta":  "beta",
	}})
	s.SetSecret("alpha", "K", json.RawMessage(`"a"`))

	const (
		unauthenticated = `{"errors":[{"message":"Unauthenticated","extensions":{"code":"UNAUTHENTICATED"}}],"data":null}`
		malformed       = `{"errors":[{"message":"Malformed Authorization header","extensions":{"code":"UNAUTHENTICATED"}}],"data":null}`
		ok              = `{"data":{"secret_value":"a"}}`
	)
	tests := []struct {
		name    string
		headers []string // Authorization values; none means no header
		want    string
	}{
		{name: "no header is unauthenticated", want: unauthenticated},
		{name: "unknown token is unauthenticated", headers: []string{"Bearer tok-gamma"}, want: unauthenticated},
		{name: "prefix of a token is unauthenticated", headers: []string{"Bearer tok-alph"}, want: unauthenticated},
		{name: "token of another scheme is malformed", headers: []string{"Basic tok-alpha"}, want: malformed},
		{name: "bare token is malformed", headers: []string{"tok-alpha"}, want: malformed},
		{name: "scheme without token is malformed", headers: []string{"Bearer"}, want: malformed},
		{name: "scheme with blank token is malformed", headers: []string{"Bearer   "}, want: malformed},
		{name: "empty header is malformed", headers: []string{""}, want: malformed},
		{name: "token with a space is malformed", headers: []string{"Bearer tok alpha"}, want: malformed},
		{name: "two headers are malformed", headers: []string{"Bearer tok-alpha", "Bearer tok-alpha"}, want: malformed},
		{name: "good token is accepted", headers: []string{"Bearer tok-alpha"}, want: ok},
		{name: "scheme is matched without case", headers: []string{"bearer tok-alpha"}, want: ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := gqlBody(t, querySnake, map[string]any{"name": "K"})
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL+"/graphql", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for _, h := range tt.headers {
				req.Header.Add("Authorization", h)
			}

			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got json.RawMessage
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}

			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
			if string(got) != tt.want {
				t.Errorf("body = %s\nwant   %s", got, tt.want)
			}
		})
	}
}

func TestOpenModeActsOnDefaultTenant(t *testing.T) {
	s, ts := setup(t, mockserver.Options{})
	s.SetSecret(mockserver.DefaultTenant, "K", json.RawMessage(`"d"`))

	for _, token := range []string{"", "anything", "spaces are fine"} {
		t.Run("token "+token, func(t *testing.T) {
			_, got := post(t, ts.Client(), ts.URL+"/graphql", token, gqlBody(t, querySnake, map[string]any{"name": "K"}))

			if string(got.Data) != `{"secret_value":"d"}` || len(got.Errors) != 0 {
				t.Errorf("got %s %+v", got.Data, got.Errors)
			}
		})
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	s, ts := setup(t, mockserver.Options{Tokens: map[string]string{"A": "alpha", "B": "beta"}})
	s.SetSecret("beta", "ONLY_B", json.RawMessage(`"b-secret"`))
	s.SetSecret("beta", "SHARED", json.RawMessage(`"b-shared"`))
	url, c := ts.URL+"/graphql", ts.Client()

	t.Run("read", func(t *testing.T) {
		_, got := post(t, c, url, "A", gqlBody(t, querySnake, map[string]any{"name": "ONLY_B"}))
		if got.code(t) != "NOT_FOUND" {
			t.Errorf("alpha read beta's secret: %s %+v", got.Data, got.Errors)
		}
	})

	t.Run("list", func(t *testing.T) {
		_, got := post(t, c, url, "A", gqlBody(t, queryNames, nil))
		if string(got.Data) != `{"secret_names":[]}` {
			t.Errorf("alpha lists %s", got.Data)
		}
	})

	t.Run("set", func(t *testing.T) {
		vars := map[string]any{"input": map[string]any{"name": "SHARED", "value": "a-shared"}}
		_, got := post(t, c, url, "A", gqlBody(t, mutateSnake, vars))
		if len(got.Errors) != 0 {
			t.Fatalf("errors = %+v", got.Errors)
		}

		if v, _ := s.Secret("beta", "SHARED"); string(v) != `"b-shared"` {
			t.Errorf("beta's SHARED = %s, want it untouched", v)
		}
		if v, _ := s.Secret("alpha", "SHARED"); string(v) != `"a-shared"` {
			t.Errorf("alpha's SHARED = %s", v)
		}
	})

	t.Run("delete", func(t *testing.T) {
		vars := map[string]any{"input": map[string]any{"name": "ONLY_B"}}
		_, got := post(t, c, url, "A", gqlBody(t, mutateDelete, vars))
		if got.code(t) != "NOT_FOUND" {
			t.Errorf("alpha deleted beta's secret: %s", got.Data)
		}

		if _, ok := s.Secret("beta", "ONLY_B"); !ok {
			t.Error("beta's ONLY_B is gone")
		}
	})

	t.Run("owner still reads", func(t *testing.T) {
		_, got := post(t, c, url, "B", gqlBody(t, querySnake, map[string]any{"name": "ONLY_B"}))
		if string(got.Data) != `{"secret_value":"b-secret"}` {
			t.Errorf("beta reads %s %+v", got.Data, got.Errors)
		}
	})
}
