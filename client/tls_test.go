package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/mockserver"
)

// tlsMock serves a mock server that knows token over HTTPS on loopback,
// with a self-signed certificate of its own, and returns its GraphQL URL
// and that certificate as PEM.
func tlsMock(t *testing.T) (*mockserver.Server, string, []byte) {
	t.Helper()

	s, err := mockserver.New(mockserver.Options{Tokens: map[string]string{token: mockserver.DefaultTenant}})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, cert := selfSigned(t)
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	ts.StartTLS()
	t.Cleanup(ts.Close)

	return s, ts.URL + "/graphql", certPEM
}

// selfSigned makes a certificate for 127.0.0.1 and ::1 that signs itself.
func selfSigned(t *testing.T) ([]byte, tls.Certificate) {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "mock prefect cloud"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}

	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return certPEM, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestTLSWithTheServersCertificate(t *testing.T) {
	s, url, cert := tlsMock(t)
	c, err := client.New(url, client.WithToken(token), client.WithRootCAs(cert), client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}

	if err := c.SetSecret(context.Background(), "K", json.RawMessage(`"over tls"`)); err != nil {
		t.Fatalf("SetSecret: %v", err)
	}
	got, err := c.SecretValue(context.Background(), "K")

	if err != nil || string(got) != `"over tls"` {
		t.Fatalf("SecretValue = %s, %v", got, err)
	}
	if v, _ := s.Secret(mockserver.DefaultTenant, "K"); string(v) != `"over tls"` {
		t.Errorf("the server holds %s", v)
	}
}

func TestTLSRefusesAnUntrustedServer(t *testing.T) {
	_, url, _ := tlsMock(t)
	_, _, otherCert := tlsMock(t)

	tests := []struct {
		name string
		opts []client.Option
	}{
		{"the system's roots only", nil},
		{"another server's certificate", []client.Option{client.WithRootCAs(otherCert)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]client.Option{client.WithToken(token), client.WithRetries(3), client.WithRetryWait(0, 0)}, tt.opts...)
			c, err := client.New(url, opts...)
			if err != nil {
				t.Fatal(err)
			}

			_, err = c.SecretValue(context.Background(), "K")

			var ce *client.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *client.Error", err)
			}
			if ce.Attempts > 1 {
				t.Errorf("an untrusted certificate was retried: %d attempts", ce.Attempts)
			}
			if msg := err.Error(); !strings.Contains(msg, "certificate") || !strings.Contains(msg, url) {
				t.Errorf("err = %q, want it to name the URL and the certificate", msg)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("err holds the token: %v", err)
			}
		})
	}
}

func TestWithRootCAsNeedsAPEMCertificate(t *testing.T) {
	for _, pemText := range []string{"", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		_, err := client.New("https://127.0.0.1:4200/graphql", client.WithRootCAs([]byte(pemText)))

		if err == nil || !strings.Contains(err.Error(), "WithRootCAs: no PEM certificate found") {
			t.Errorf("WithRootCAs(%q): err = %v", pemText, err)
		}
	}
}

// recorder is a RoundTripper that notes every request it is given and
// answers from a function, so that no test traffic reaches a network.
type recorder struct {
	mu     sync.Mutex
	seen   []seenRequest
	answer func(*http.Request) *http.Response
}

type seenRequest struct {
	url           string
	authorization string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	r.mu.Lock()
	r.seen = append(r.seen, seenRequest{url: req.URL.String(), authorization: req.Header.Get("Authorization")})
	r.mu.Unlock()

	if r.answer != nil {
		return r.answer(req), nil
	}
	return jsonAnswer(req, 200, `{"data":{"secret_names":["A"]}}`), nil
}

func (r *recorder) requests() []seenRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seenRequest(nil), r.seen...)
}

func jsonAnswer(req *http.Request, status int, body string) *http.Response {
	return &http.Response{
		StatusCode: status,
		Status:     http.StatusText(status),
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}
}

func TestTokenIsNotSentOverPlainHTTPBeyondLoopback(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		token       string
		allow       bool
		wantRefused bool
	}{
		{name: "http to a remote host", url: "http://prefect.example.test/graphql", token: token, wantRefused: true},
		{name: "http to a private address", url: "http://10.1.2.3:4200/graphql", token: token, wantRefused: true},
		{name: "http to the unspecified address", url: "http://0.0.0.0:4200/graphql", token: token, wantRefused: true},
		{name: "http to a name that starts like localhost", url: "http://localhost.example.test/graphql", token: token, wantRefused: true},
		{name: "http to a name that holds a loopback address", url: "http://127.0.0.1.example.test/graphql", token: token, wantRefused: true},
		{name: "http to a remote host, allowed", url: "http://prefect.example.test/graphql", token: token, allow: true},
		{name: "http to a remote host without a token", url: "http://prefect.example.test/graphql"},
		{name: "https to a remote host", url: "https://prefect.example.test/graphql", token: token},
		{name: "http to 127.0.0.1", url: "http://127.0.0.1:4200/graphql", token: token},
		{name: "http to elsewhere in 127/8", url: "http://127.9.8.7:4200/graphql", token: token},
		{name: "http to ::1", url: "http://[::1]:4200/graphql", token: token},
		{name: "http to localhost", url: "http://localhost:4200/graphql", token: token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			opts := []client.Option{client.WithTransport(rec), client.WithRetries(0)}
			if tt.token != "" {
				opts = append(opts, client.WithToken(tt.token))
			}
			if tt.allow {
				opts = append(opts, client.WithInsecureToken(true))
			}

			c, err := client.New(tt.url, opts...)

			if tt.wantRefused {
				if err == nil || !strings.Contains(err.Error(), "refusing to send the API token over plain http") {
					t.Fatalf("New: err = %v, want a refusal", err)
				}
				if strings.Contains(err.Error(), tt.token) {
					t.Errorf("the refusal holds the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if _, err := c.SecretNames(context.Background()); err != nil {
				t.Fatalf("SecretNames: %v", err)
			}
			seen := rec.requests()
			if len(seen) != 1 || seen[0].url != tt.url {
				t.Fatalf("requests = %+v, want one to %s", seen, tt.url)
			}
			wantAuth := ""
			if tt.token != "" {
				wantAuth = "Bearer " + tt.token
			}
			if seen[0].authorization != wantAuth {
				t.Errorf("Authorization = %q, want %q", seen[0].authorization, wantAuth)
			}
		})
	}
}

func TestRedirectNeverTakesTheTokenOrBodyToPlainHTTP(t *testing.T) {
	const start = "https://prefect.example.test/graphql"
	tests := []struct {
		name       string
		from       string
		to         string
		token      bool
		wantFollow bool
	}{
		{name: "https to http on the same host", from: start, to: "http://prefect.example.test/graphql", token: true},
		{name: "https to http on another host", from: start, to: "http://elsewhere.example.test/graphql", token: true},
		{name: "https to http without a token, the body still holds values", from: start, to: "http://prefect.example.test/graphql"},
		{name: "loopback http to remote http with a token", from: "http://127.0.0.1:4200/graphql", to: "http://prefect.example.test/graphql", token: true},
		{name: "https to https on another host", from: start, to: "https://elsewhere.example.test/graphql", token: true, wantFollow: true},
		{name: "loopback http to loopback http", from: "http://127.0.0.1:4200/graphql", to: "http://[::1]:4200/graphql", token: true, wantFollow: true},
		{name: "loopback http to https", from: "http://127.0.0.1:4200/graphql", to: start, token: true, wantFollow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{answer: func(req *http.Request) *http.Response {
				if req.URL.String() == tt.from {
					resp := jsonAnswer(req, http.StatusTemporaryRedirect, "")
					resp.Header.Set("Location", tt.to)
					return resp
				}
				return jsonAnswer(req, 200, `{"data":{"set_secret":{"success":true}}}`)
			}}
			opts := []client.Option{client.WithTransport(rec), client.WithRetries(3), client.WithRetryWait(0, 0)}
			if tt.token {
				opts = append(opts, client.WithToken(token))
			}
			c, err := client.New(tt.from, opts...)
			if err != nil {
				t.Fatal(err)
			}

			err = c.SetSecret(context.Background(), "K", json.RawMessage(`"s3cr3t-value"`))

			seen := rec.requests()
			if !tt.wantFollow {
				if len(seen) != 1 {
					t.Errorf("requests = %+v, want only the first, not retried", seen)
				}
				if err == nil || !strings.Contains(err.Error(), "refusing to follow a redirect to plain http") {
					t.Errorf("err = %v, want a refusal to follow", err)
				}
				var ce *client.Error
				if errors.As(err, &ce) && ce.Attempts != 1 {
					t.Errorf("attempts = %d, want 1", ce.Attempts)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetSecret: %v", err)
			}
			if len(seen) != 2 || seen[1].url != tt.to {
				t.Fatalf("requests = %+v, want the redirect followed to %s", seen, tt.to)
			}
		})
	}
}
