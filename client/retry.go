package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// policy holds the hooks that go-retryablehttp calls: which answers to retry,
// how long to wait, and what to return once it gives up.
type policy struct {
	waitMax time.Duration
}

// permanentError is a transport failure that retrying cannot fix, such as an
// untrusted certificate or an unsupported URL scheme.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// retryableAnswer is what the response hook reports for an HTTP 200 whose
// GraphQL errors are transient, or whose body broke off while being read.
type retryableAnswer struct{ reason string }

func (e *retryableAnswer) Error() string { return e.reason }

// checkRetry retries connection errors, HTTP 429, 500, 502, 503 and 504, and
// answers the response hook marked retryable. It never retries once the
// context has ended, nor any other answer: authentication, not-found and
// validation errors are final after one request.
func (p *policy) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}

	if err != nil {
		var ra *retryableAnswer
		if errors.As(err, &ra) {
			return true, nil
		}
		if _, ok := err.(*bodyTooLarge); ok {
			return false, err
		}
		// The library's policy knows which transport errors are permanent.
		if retry, perr := retryablehttp.ErrorPropagatedRetryPolicy(ctx, nil, err); !retry {
			return false, &permanentError{err: perr}
		}
		return true, nil
	}

	return isTransientStatus(resp.StatusCode), nil
}

// backoff waits exponentially from the minimum, with jitter so that many
// clients do not retry in step. A Retry-After on 429 or 503 (seconds or an
// HTTP date) is honoured, capped at the maximum wait.
func (p *policy) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	wait := retryablehttp.DefaultBackoff(lo, hi, attempt, resp)
	if resp != nil && resp.Header.Get("Retry-After") != "" &&
		(resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		return min(wait, p.waitMax)
	}
	if wait <= 0 {
		return 0
	}
	// Equal jitter: half fixed, half random.
	half := wait / 2
	return half + rand.N(wait-half+1)
}

// giveUp hands the last answer or error back to MakeRequest unchanged, so
// that it is classified like any other; the body stays readable.
func (p *policy) giveUp(resp *http.Response, err error, _ int) (*http.Response, error) {
	return resp, err
}

type attemptsKey struct{}

// countAttempt records in the request's context how many requests were sent.
func countAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	if n, ok := req.Context().Value(attemptsKey{}).(*int); ok {
		*n = i + 1
	}
}
