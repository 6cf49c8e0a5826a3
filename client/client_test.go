package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/prefect-go/cloudsecrets/client"
)

const (
	endpoint = "http://127.0.0.1:4200/graphql"
	token    = "tok-canary-5b1f"
)

// setup returns a client whose requests reach a fresh httpmock transport.
func setup(t *testing.T, opts ...client.Option) (*client.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	all := append([]client.Option{
		client.WithToken(token),
		client.WithTransport(mt),
		client.WithRetries(0),
	}, opts...)
	c, err := client.New(endpoint, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, mt
}

// recorded answers with a file from testdata.
func recorded(t *testing.T, status int, file, contentType string) httpmock.Responder {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewBytesResponse(status, body)
		resp.Header.Set("Content-Type", contentType)
		return resp, nil
	}
}

func TestSecretValueDecodesAnswers(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"value_string.json", `"hello"`},
		{"value_object.json", `{"x":42,"nested":[1,"two",null]}`},
		{"value_null.json", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, mt := setup(t)
			mt.RegisterResponder("POST", endpoint, recorded(t, 200, tt.file, "application/json"))

			got, err := c.SecretValue(context.Background(), "MY_KEY")
			if err != nil {
				t.Fatalf("SecretValue: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRequestOnTheWire(t *testing.T) {
	c, mt := setup(t)
	var gotAuth, gotType string
	var body struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	mt.RegisterResponder("POST", endpoint, func(r *http.Request) (*http.Response, error) {
		gotAuth, gotType = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, err
		}
		return httpmock.NewStringResponse(200, `{"data":{"secret_value":"v"}}`), nil
	})

	if _, err := c.SecretValue(context.Background(), "MY_KEY"); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer "+token {
		t.Errorf("Authorization = %q", gotAuth)
	}
	if gotType != "application/json" {
		t.Errorf("Content-Type = %q", gotType)
	}
	if !strings.Contains(body.Query, "secret_value(name: $name)") || body.Variables["name"] != "MY_KEY" {
		t.Errorf("request = %+v", body)
	}
}

// Each error kind the API can answer, from recorded responses.
func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		file        string
		contentType string
		is          error // the sentinel it must match
		isNot       []error
		as          func(error) bool
		says        string // part of the message
	}{
		{
			name: "not found", status: 200, file: "not_found.json", contentType: "application/json",
			is: client.ErrNotFound, isNot: []error{client.ErrUnauthenticated, client.ErrTransient},
			as:   asGraphQL("NOT_FOUND"),
			says: `secret_value "MY_KEY" at http://127.0.0.1:4200/graphql: graphql: No value found for the requested key`,
		},
		{
			name: "unauthenticated code", status: 200, file: "unauthenticated.json", contentType: "application/json",
			is: client.ErrUnauthenticated, isNot: []error{client.ErrNotFound}, as: asGraphQL("UNAUTHENTICATED"),
			says: "Unauthenticated",
		},
		{
			name: "malformed authorization header", status: 200, file: "malformed_header.json", contentType: "application/json",
			is: client.ErrUnauthenticated, isNot: []error{client.ErrNotFound}, as: asGraphQL(""),
			says: "Malformed Authorization header",
		},
		{
			name: "HTTP 401", status: 401, file: "unauthorized.txt", contentType: "text/plain",
			is: client.ErrUnauthenticated, isNot: []error{client.ErrNotFound, client.ErrMalformedResponse}, as: asHTTP(401),
			says: "HTTP 401",
		},
		{
			name: "validation error", status: 200, file: "validation_failed.json", contentType: "application/json",
			isNot: []error{client.ErrNotFound, client.ErrUnauthenticated, client.ErrTransient},
			as:    asGraphQL("GRAPHQL_VALIDATION_FAILED"), says: `Cannot query field "secret_valu"`,
		},
		{
			name: "GraphQL errors in a 400 body", status: 400, file: "validation_failed.json", contentType: "application/json",
			isNot: []error{client.ErrMalformedResponse}, as: asGraphQL("GRAPHQL_VALIDATION_FAILED"),
			says: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "HTML page on 200", status: 200, file: "html_page.html", contentType: "text/html",
			is: client.ErrMalformedResponse, isNot: []error{client.ErrNotFound},
			as:   asMalformed,
			says: "not a GraphQL response (HTTP 200, text/html",
		},
		{
			name: "truncated JSON on 200", status: 200, file: "truncated.json", contentType: "application/json",
			is: client.ErrMalformedResponse, as: asMalformed, says: "check the API URL and the token",
		},
		{
			name: "HTTP 502 page", status: 502, file: "gateway.txt", contentType: "text/plain",
			is: client.ErrTransient, isNot: []error{client.ErrNotFound, client.ErrMalformedResponse},
			as: asHTTP(502), says: "HTTP 502 Bad Gateway: upstream connect error",
		},
		{
			name: "internal server error code", status: 200, file: "internal_error.json", contentType: "application/json",
			is: client.ErrTransient, isNot: []error{client.ErrNotFound}, as: asGraphQL("INTERNAL_SERVER_ERROR"),
			says: "Internal error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := setup(t)
			mt.RegisterResponder("POST", endpoint, recorded(t, tt.status, tt.file, tt.contentType))

			_, err := c.SecretValue(context.Background(), "MY_KEY")
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			for _, not := range tt.isNot {
				if errors.Is(err, not) {
					t.Errorf("errors.Is(%v, %v) = true", err, not)
				}
			}
			if !tt.as(err) {
				t.Errorf("error %#v is not of the expected type", err)
			}
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Name != "MY_KEY" || ce.Op != "secret_value" {
				t.Errorf("not a *client.Error naming the secret: %#v", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("message %q does not say %q", err, tt.says)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("message %q holds the token", err)
			}
			if got := mt.GetTotalCallCount(); got != 1 {
				t.Errorf("%d requests with retries off, want 1", got)
			}
		})
	}
}

func asGraphQL(code string) func(error) bool {
	return func(err error) bool {
		var ge *client.GraphQLError
		return errors.As(err, &ge) && ge.Code == code
	}
}

func asHTTP(status int) func(error) bool {
	return func(err error) bool {
		var he *client.HTTPError
		return errors.As(err, &he) && he.StatusCode == status
	}
}

func asMalformed(err error) bool {
	var me *client.MalformedResponseError
	return errors.As(err, &me)
}

func TestEmptyBodyIsMalformed(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder("POST", endpoint, httpmock.NewStringResponder(200, ""))

	_, err := c.SecretValue(context.Background(), "MY_KEY")
	if !errors.Is(err, client.ErrMalformedResponse) || !strings.Contains(err.Error(), "empty body") {
		t.Fatalf("err = %v", err)
	}
}

func TestNamesSetDelete(t *testing.T) {
	c, mt := setup(t)
	var sent []map[string]any
	answers := map[string]string{
		"SecretNames":  "names.json",
		"SetSecret":    "set_ok.json",
		"DeleteSecret": "delete_ok.json",
	}
	mt.RegisterResponder("POST", endpoint, func(r *http.Request) (*http.Response, error) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, err
		}
		sent = append(sent, body)
		data, err := os.ReadFile(filepath.Join("testdata", answers[body["operationName"].(string)]))
		if err != nil {
			return nil, err
		}
		return httpmock.NewBytesResponse(200, data), nil
	})
	ctx := context.Background()

	names, err := c.SecretNames(ctx)
	if err != nil || strings.Join(names, ",") != "A,B,C" {
		t.Fatalf("SecretNames = %v, %v", names, err)
	}
	if err := c.SetSecret(ctx, "K", json.RawMessage(`{"a":1}`)); err != nil {
		t.Fatalf("SetSecret: %v", err)
	}
	if err := c.DeleteSecret(ctx, "K"); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}

	input := sent[1]["variables"].(map[string]any)["input"].(map[string]any)
	if input["name"] != "K" || input["value"].(map[string]any)["a"] != 1.0 {
		t.Errorf("set_secret input = %v", input)
	}
}

func TestSetRefusedByPayload(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder("POST", endpoint, recorded(t, 200, "set_refused.json", "application/json"))

	err := c.SetSecret(context.Background(), "K", json.RawMessage(`"v"`))
	if err == nil || !strings.Contains(err.Error(), "value too large") || !strings.Contains(err.Error(), `"K"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestSetRejectsInvalidJSONBeforeSending(t *testing.T) {
	c, mt := setup(t)
	err := c.SetSecret(context.Background(), "K", json.RawMessage(`{not json`))
	if err == nil || mt.GetTotalCallCount() != 0 {
		t.Fatalf("err = %v after %d requests", err, mt.GetTotalCallCount())
	}
}

func TestUnreachableAPINamesTheURL(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder("POST", endpoint, httpmock.ConnectionFailure)

	_, err := c.SecretValue(context.Background(), "MY_KEY")
	if !errors.Is(err, client.ErrTransient) {
		t.Fatalf("err = %v, want transient", err)
	}
	if !strings.Contains(err.Error(), endpoint) || strings.Contains(err.Error(), token) {
		t.Errorf("message %q should name the URL and not the token", err)
	}
}

func TestRetriesThenSucceeds(t *testing.T) {
	c, mt := setup(t, client.WithRetries(3), client.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	var bodies []string
	calls := 0
	mt.RegisterResponder("POST", endpoint, func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		calls++
		if calls < 3 {
			return httpmock.NewStringResponse(503, "busy"), nil
		}
		return httpmock.NewStringResponse(200, `{"data":{"secret_value":"v"}}`), nil
	})

	got, err := c.SecretValue(context.Background(), "MY_KEY")
	if err != nil || string(got) != `"v"` {
		t.Fatalf("got %s, %v", got, err)
	}
	if calls != 3 {
		t.Fatalf("%d requests, want 3", calls)
	}
	for i, b := range bodies {
		if b != bodies[0] || !strings.Contains(b, "MY_KEY") {
			t.Errorf("attempt %d sent %q, want the same full body as attempt 1 (%q)", i+1, b, bodies[0])
		}
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts []client.Option
		says string
	}{
		{"not a URL", "::nope", nil, "not an http or https URL"},
		{"no scheme", "api.example.invalid/graphql", nil, "not an http or https URL"},
		{"token over plain http off this machine", "http://api.example.invalid/graphql",
			[]client.Option{client.WithToken(token)}, "refusing to send the API token over plain http"},
		{"negative retries", endpoint, []client.Option{client.WithRetries(-1)}, "negative"},
		{"nil transport", endpoint, []client.Option{client.WithTransport(nil)}, "nil"},
		{"credentials in the URL", "http://user:" + token + "@127.0.0.1:4200/graphql", nil, "user name or password"},
		{"port out of range", "http://127.0.0.1:99999/graphql", nil, "port is out of range"},
		{"token with a carriage return", endpoint, []client.Option{client.WithToken(token + "\r")}, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.New(tt.url, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want it to say %q", err, tt.says)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("message holds the token: %v", err)
			}
		})
	}
}

func TestPrintingAClientHidesTheToken(t *testing.T) {
	c, _ := setup(t)
	for _, s := range []string{c.String(), c.GoString(), c.Endpoint()} {
		if strings.Contains(s, token) {
			t.Errorf("%q holds the token", s)
		}
	}
}

// An answer without the field asked for must not pass for a secret set to null.
func TestMissingFieldIsMalformedNotNull(t *testing.T) {
	for _, body := range []string{`{"data":{}}`, `{"data":{"other":"v"}}`} {
		c, mt := setup(t)
		mt.RegisterResponder("POST", endpoint, httpmock.NewStringResponder(200, body))

		got, err := c.SecretValue(context.Background(), "MY_KEY")
		if !errors.Is(err, client.ErrMalformedResponse) || got != nil {
			t.Errorf("%s: got %s, %v; want a malformed-response error", body, got, err)
		}
	}
}
