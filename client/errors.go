package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Every error a [Client] method returns is an [*Error] that
// matches at most one of these with errors.Is, with one exception: a failure
// the client retried until no attempt was left always matches [ErrTransient],
// so an HTML page that answered every attempt matches both
// [ErrMalformedResponse] and ErrTransient. None of them ever turns into
// [ErrNotFound].
var (
	// ErrNotFound means the API has no secret by the name asked for.
	ErrNotFound = errors.New("secret not found")

	// ErrUnauthenticated means the API refused the token: GraphQL code
	// UNAUTHENTICATED, HTTP 401, or a malformed Authorization header.
	ErrUnauthenticated = errors.New("authentication failed")

	// ErrMalformedResponse means the answer was not a GraphQL response at all,
	// for example an HTML page from a proxy or an empty body.
	ErrMalformedResponse = errors.New("answer is not a GraphQL response")

	// ErrTransient means the API or the network failed in a way that may pass:
	// a connection error, HTTP 429 or 5xx, a GraphQL error with code
	// API_ERROR or INTERNAL_SERVER_ERROR, or an answer that broke off or was
	// not a GraphQL response, still failing after every retry. A call whose
	// context ended while it was retrying matches it too, as well as the
	// context's error.
	ErrTransient = errors.New("transient API failure")
)

// notFoundMessage is the text Prefect Cloud answers for a missing secret.
const notFoundMessage = "No value found for the requested key"

// Error is what every [Client] method returns on failure: which operation,
// which secret, which endpoint, and the cause. It never holds a token or a
// secret value.
type Error struct {
	Op       string // GraphQL operation, e.g. "secret_value"
	Name     string // secret name, when the operation has one
	URL      string // endpoint, with any credentials and query removed
	Attempts int    // HTTP requests made, retries included
	Err      error  // the cause: *GraphQLError, *HTTPError, a transport error, ...
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Name != "" {
		fmt.Fprintf(&b, " %q", e.Name)
	}
	fmt.Fprintf(&b, " at %s", e.URL)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// GraphQLError is one entry of a GraphQL response's "errors" list.
type GraphQLError struct {
	Message string
	Path    string // dotted, e.g. "secret_value"; empty when the server gave none
	Code    string // extensions.code, e.g. "UNAUTHENTICATED"; may be empty
}

func (e *GraphQLError) Error() string {
	msg := e.Message
	if e.Code != "" {
		msg += " (code " + e.Code + ")"
	}
	if e.Path != "" {
		msg += " at " + e.Path
	}
	return msg
}

// Is reports whether the error is one of the kinds callers match on.
func (e *GraphQLError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		// A transient failure is never taken for a missing secret.
		return !isTransientCode(e.Code) && strings.Contains(e.Message, notFoundMessage)
	case ErrUnauthenticated:
		return e.Code == "UNAUTHENTICATED" ||
			strings.Contains(e.Message, "UNAUTHENTICATED") ||
			strings.Contains(e.Message, "Malformed Authorization header")
	case ErrTransient:
		return isTransientCode(e.Code)
	}
	return false
}

// GraphQLErrors is the whole "errors" list of one response. errors.Is and
// errors.As look through every entry.
type GraphQLErrors []*GraphQLError

func (l GraphQLErrors) Error() string {
	if len(l) == 1 {
		return "graphql: " + l[0].Error()
	}
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return fmt.Sprintf("graphql: %d errors: %s", len(l), strings.Join(parts, "; "))
}

func (l GraphQLErrors) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// HTTPError is an HTTP answer other than 200 that carried no GraphQL errors.
type HTTPError struct {
	StatusCode int
	Status     string
	// Snippet is the start of the body, cut short and stripped of control
	// characters, to say what answered (a proxy's page, say). It is left
	// empty when the body looked like JSON data, which could hold a value.
	Snippet string
	// RetryAfter is the wait a 429 or 503 answer asked for in its
	// Retry-After header; 0 when it asked for none.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	msg := "HTTP " + e.Status
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	if e.Snippet != "" {
		msg += ": " + e.Snippet
	}
	return msg
}

// Is matches [ErrUnauthenticated] for 401 and [ErrTransient] for 429 and 5xx
// statuses that are worth retrying.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrUnauthenticated:
		return e.StatusCode == 401
	case ErrTransient:
		return isTransientStatus(e.StatusCode)
	}
	return false
}

// MalformedResponseError is an answer that is not a GraphQL response.
type MalformedResponseError struct {
	StatusCode  int
	ContentType string
	Length      int
	Reason      string // e.g. "empty body", "not JSON"
}

func (e *MalformedResponseError) Error() string {
	ct := e.ContentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("the answer was not a GraphQL response (HTTP %d, %s, %d bytes: %s); check the API URL and the token",
		e.StatusCode, ct, e.Length, e.Reason)
}

func (e *MalformedResponseError) Is(target error) bool { return target == ErrMalformedResponse }

// TransportError is a failure to get any answer: refused connection, reset,
// timeout, DNS. It is transient.
type TransportError struct{ Err error }

func (e *TransportError) Error() string { return "no answer: " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// Is matches [ErrTransient].
func (e *TransportError) Is(target error) bool { return target == ErrTransient }

func isTransientStatus(code int) bool {
	switch code {
	case 429, 500, 502, 503, 504:
		return true
	}
	return false
}

func isTransientCode(code string) bool {
	return code == "API_ERROR" || code == "INTERNAL_SERVER_ERROR"
}

// Kind names the kind of err in one word, for logs and metrics: "ok",
// "not_found", "unauthenticated", "malformed_response", "transient",
// "canceled" or "error". It never carries a message.
func Kind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrUnauthenticated):
		return "unauthenticated"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrMalformedResponse):
		return "malformed_response"
	case errors.Is(err, ErrTransient):
		return "transient"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "error"
}
