package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
)

func TestCleanText(t *testing.T) {
	secrets := []string{"tok-1234567890", `"NEWVALSECRET"`, "NEWVALSECRET", "T"}
	tests := []struct{ name, in, want string }{
		{"whole token", "you sent Bearer tok-1234567890 here", withheld},
		{"token cut short by the server", "Malformed Authorization header: Bearer tok-1234", withheld},
		{"snippet cut short inside the token", "Authorization: Bearer tok-12…", withheld},
		{"value echoed", `Variable "$input" got invalid value {"input": {"value": "NEWVALSECRET"}}`, withheld},
		{"snippet cut short elsewhere", "a proxy page…", "a proxy page…"},
		{"tail too short to judge", "ends in tok…", "ends in tok…"},
		{"a one-letter token is not looked for", "The API could not answer", "The API could not answer"},
		{"control characters", "bad\x1b]0;pwned\x07 gateway\nnext", "bad ]0;pwned  gateway next"},
		{"no secret", "bad gateway", "bad gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in, secrets); got != tt.want {
				t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLongServerTextIsCut(t *testing.T) {
	got := cleanText(strings.Repeat("x", 1000), nil)
	if len(got) > maxServerText+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("got %d bytes: %q", len(got), got)
	}
}

// A server or proxy that echoes the Authorization header must not put the
// token into the client's errors.
func TestErrorsNeverQuoteAnEchoedToken(t *testing.T) {
	const token = "tok-echo-canary-4412"
	const endpoint = "http://127.0.0.1:9/graphql"
	echo := func(status int, format string) httpmock.Responder {
		return func(req *http.Request) (*http.Response, error) {
			body := fmt.Sprintf(format, req.Header.Get("Authorization"))
			return httpmock.NewStringResponse(status, body), nil
		}
	}
	tests := []struct {
		name      string
		responder httpmock.Responder
		kind      error
	}{
		{"HTML error page", echo(http.StatusBadGateway, "<html>bad gateway; you sent %s</html>"), nil},
		{"long page cut short", echo(http.StatusForbidden, strings.Repeat("x", 100)+" %s"), nil},
		{"GraphQL message", echo(http.StatusOK, `{"errors": [{"message": "%s is not valid", "extensions": {"code": "UNAUTHENTICATED"}}]}`), ErrUnauthenticated},
		{"several GraphQL messages", echo(http.StatusOK, `{"errors": [{"message": "first"}, {"message": "again: %s"}]}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock := httpmock.NewMockTransport()
			mock.RegisterResponder(http.MethodPost, endpoint, tt.responder)
			c, err := New(endpoint, WithToken(token), WithTransport(mock), WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}

			_, err = c.SecretValue(context.Background(), "K")
			if err == nil || (tt.kind != nil && !errors.Is(err, tt.kind)) {
				t.Fatalf("err = %v, want a failure matching %v", err, tt.kind)
			}
			if mock.GetTotalCallCount() != 1 {
				t.Fatalf("%d requests, want 1", mock.GetTotalCallCount())
			}
			for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(out, token) || strings.Contains(out, token[:8]) {
					t.Errorf("the error quotes the token: %s", out)
				}
			}
			if !strings.Contains(err.Error(), withheld) {
				t.Errorf("err %q should say that server text was withheld", err)
			}
		})
	}
}

func TestPrintingAClientHidesItsToken(t *testing.T) {
	const token = "tok-print-canary-7781"
	c, err := New("http://127.0.0.1:9/graphql", WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		if out := fmt.Sprintf(verb, c); strings.Contains(out, token) || strings.Contains(out, fmt.Sprintf("%x", token)) {
			t.Errorf("%s printed %q", verb, out)
		}
	}
}
