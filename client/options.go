package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// Defaults for the retry policy and deadlines. Each can be changed with an
// [Option].
const (
	DefaultRetries        = 4 // retries after the first attempt
	DefaultRetryWaitMin   = 200 * time.Millisecond
	DefaultRetryWaitMax   = 10 * time.Second // also caps a server's Retry-After
	DefaultAttemptTimeout = 30 * time.Second // one HTTP request
	DefaultTimeout        = 2 * time.Minute  // one call, every retry and wait included
)

// Option configures a [Client]; see [New]. An option with a bad argument
// makes New fail.
type Option func(*settings) error

type settings struct {
	token          string
	httpClient     *http.Client
	transport      http.RoundTripper
	tlsConfig      *tls.Config
	logger         *slog.Logger
	retries        int
	waitMin        time.Duration
	waitMax        time.Duration
	attemptTimeout time.Duration
	timeout        time.Duration
	insecureToken  bool
}

func defaultSettings() settings {
	return settings{
		retries:        DefaultRetries,
		waitMin:        DefaultRetryWaitMin,
		waitMax:        DefaultRetryWaitMax,
		attemptTimeout: DefaultAttemptTimeout,
		timeout:        DefaultTimeout,
	}
}

// WithToken sets the API token sent as "Authorization: Bearer TOKEN".
func WithToken(token string) Option {
	return func(s *settings) error {
		s.token = token
		return nil
	}
}

// WithHTTPClient makes requests through a copy of hc; hc itself is never
// changed. Retries still wrap it. It replaces [WithTransport].
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		cp := *hc
		s.httpClient, s.transport = &cp, nil
		return nil
	}
}

// WithTransport makes requests through rt, beneath the retry layer: an
// engine's own transport, httpmock, or the mock server's in-process
// transport. It replaces [WithHTTPClient].
func WithTransport(rt http.RoundTripper) Option {
	return func(s *settings) error {
		if rt == nil {
			return errors.New("WithTransport: nil http.RoundTripper")
		}
		s.transport, s.httpClient = rt, nil
		return nil
	}
}

// WithRootCAs trusts the certificates in pem (for a self-signed server) in
// addition to nothing else: the default transport verifies against them
// only. It has no effect with [WithHTTPClient] or [WithTransport].
func WithRootCAs(pem []byte) Option {
	return func(s *settings) error {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return errors.New("WithRootCAs: no PEM certificate found")
		}
		s.tlsConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		return nil
	}
}

// WithLogger sends one debug line per call (operation, redacted URL, status,
// attempts, duration) to l. Without it the client logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		s.logger = l
		return nil
	}
}

// WithRetries sets how many times a failed request is retried; 0 disables
// retries.
func WithRetries(n int) Option {
	return func(s *settings) error {
		if n < 0 {
			return fmt.Errorf("WithRetries: %d is negative", n)
		}
		s.retries = n
		return nil
	}
}

// WithRetryWait bounds the wait between attempts: exponential from min,
// with jitter, up to max. max also caps a server's Retry-After.
func WithRetryWait(min, max time.Duration) Option {
	return func(s *settings) error {
		if min < 0 || max < min {
			return fmt.Errorf("WithRetryWait: need 0 <= min (%v) <= max (%v)", min, max)
		}
		s.waitMin, s.waitMax = min, max
		return nil
	}
}

// WithAttemptTimeout bounds one HTTP request; 0 leaves it unbounded.
func WithAttemptTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("WithAttemptTimeout: %v is negative", d)
		}
		s.attemptTimeout = d
		return nil
	}
}

// WithTimeout bounds one call, retries and waits included; 0 leaves it to
// the caller's context.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("WithTimeout: %v is negative", d)
		}
		s.timeout = d
		return nil
	}
}

// WithInsecureToken allows sending the token over plain http to a host that
// is not a loopback address. Without it [New] refuses such a URL, so a token
// cannot cross a network unencrypted by mistake.
func WithInsecureToken(allow bool) Option {
	return func(s *settings) error {
		s.insecureToken = allow
		return nil
	}
}

// checkToken refuses a token over plain http beyond this machine.
func (s *settings) checkToken(u *url.URL) error {
	if s.token == "" || u.Scheme != "http" || s.insecureToken || isLoopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("refusing to send the API token over plain http to %s; use https, or allow it explicitly", u.Host)
}

// errInsecureRedirect is the cause of a call that an answer redirected to
// plain http beyond this machine, from https or with a token: following it
// would send the token, or a secret value in the body, unencrypted. Go's
// http.Client keeps the Authorization header on a redirect to the same
// host even when the redirect drops https.
var errInsecureRedirect = errors.New("refusing to follow a redirect to plain http")

// checkRedirect returns the redirect policy: next, the HTTP client's own
// (nil for Go's default of at most 10 redirects), after refusing any
// redirect that [errInsecureRedirect] describes.
func (s *settings) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		u := req.URL
		downgrade := len(via) > 0 && via[len(via)-1].URL.Scheme == "https" && u.Scheme == "http"
		if (downgrade && !isLoopback(u.Hostname())) || s.checkToken(u) != nil {
			return fmt.Errorf("%w at %s: the request carries the API token or a secret value", errInsecureRedirect, u.Host)
		}

		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// retryClient builds the go-retryablehttp client around the HTTP layer the
// options chose.
func (s *settings) retryClient(logger *slog.Logger) *retryablehttp.Client {
	var hc *http.Client
	switch {
	case s.httpClient != nil:
		hc = s.httpClient
	case s.transport != nil:
		hc = &http.Client{Transport: s.transport}
	default:
		hc = cleanhttp.DefaultPooledClient()
		if s.tlsConfig != nil {
			hc.Transport.(*http.Transport).TLSClientConfig = s.tlsConfig
		}
	}
	hc.CheckRedirect = s.checkRedirect(hc.CheckRedirect)
	if hc.Timeout == 0 {
		hc.Timeout = s.attemptTimeout
	}

	p := &policy{waitMax: s.waitMax}
	return &retryablehttp.Client{
		HTTPClient:     hc,
		Logger:         nil, // the library's own logger prints to stderr; we log through slog
		RetryWaitMin:   s.waitMin,
		RetryWaitMax:   s.waitMax,
		RetryMax:       s.retries,
		CheckRetry:     p.checkRetry,
		Backoff:        p.backoff,
		ErrorHandler:   p.giveUp,
		RequestLogHook: countAttempt,
	}
}
