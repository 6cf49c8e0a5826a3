package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// The retry policy is made of the three hooks go-retryablehttp calls
// ([policy.checkRetry], [policy.backoff], [policy.giveUp]) and the response
// handler [bufferAnswer]; the loop itself is the library's. What one call
// learns along the way is kept in a [callState] in the request's context.

// policy holds the hooks that go-retryablehttp calls: which answers to retry,
// how long to wait, and what to return once it gives up.
type policy struct {
	waitMax time.Duration
}

// callState is what the hooks record about one call. Only the goroutine
// that runs the call touches it: go-retryablehttp calls every hook from the
// goroutine that called Do.
type callState struct {
	attempts  int   // HTTP requests sent so far
	retryable bool  // the policy's verdict on the latest attempt
	last      error // the latest failure that was worth retrying

	// The answer bufferAnswer read and judged, kept so that it is parsed
	// once: answered is the response it belongs to.
	answered *http.Response
	answer   *wireAnswer
	failure  error
}

type stateKey struct{}

// withCallState returns ctx carrying a fresh callState for one call.
func withCallState(ctx context.Context) (context.Context, *callState) {
	st := &callState{}
	return context.WithValue(ctx, stateKey{}, st), st
}

// stateOf returns the call's state, or a throwaway one when ctx has none
// (a request that did not come through MakeRequest).
func stateOf(ctx context.Context) *callState {
	if st, ok := ctx.Value(stateKey{}).(*callState); ok {
		return st
	}
	return &callState{}
}

// verdict records the policy's decision on the latest attempt.
func (st *callState) verdict(retry bool, cause error) bool {
	st.retryable = retry
	if retry && cause != nil {
		st.last = cause
	}
	return retry
}

// permanentError is a transport failure that retrying cannot fix, such as an
// untrusted certificate or an unsupported URL scheme.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// retryableAnswer is what [bufferAnswer] reports for an HTTP 200 that is
// worth asking for again: transient GraphQL errors, an answer that is not a
// GraphQL response, or a body that broke off while being read. cause is
// the error the call ends with if no retry is left.
type retryableAnswer struct{ cause error }

func (e *retryableAnswer) Error() string { return e.cause.Error() }
func (e *retryableAnswer) Unwrap() error { return e.cause }

// checkRetry retries connection errors, HTTP 429, 500, 502, 503 and 504, and
// answers the response hook marked retryable. It never retries once the
// context has ended, nor any other answer: authentication, not-found and
// validation errors are final after one request.
//
// A server's Retry-After that would outlast the context's deadline ends the
// call at once: waiting could only end in the deadline.
func (p *policy) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := stateOf(ctx)
	if ctx.Err() != nil {
		return st.verdict(false, nil), ctx.Err()
	}

	if err != nil {
		var ra *retryableAnswer
		if errors.As(err, &ra) {
			return st.verdict(true, ra.cause), nil
		}
		if _, ok := err.(*bodyTooLarge); ok {
			return st.verdict(false, nil), err
		}
		if errors.Is(err, errInsecureRedirect) {
			return st.verdict(false, nil), &permanentError{err: bare(err)}
		}
		// The library's policy knows which transport errors are permanent.
		if retry, perr := retryablehttp.ErrorPropagatedRetryPolicy(ctx, nil, err); !retry {
			return st.verdict(false, nil), &permanentError{err: bare(perr)}
		}
		return st.verdict(true, &TransportError{Err: bare(err)}), nil
	}

	if !isTransientStatus(resp.StatusCode) {
		return st.verdict(false, nil), nil
	}
	cause := &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status}
	if wait, ok := retryAfter(resp, time.Now()); ok {
		cause.RetryAfter = wait
		if deadline, set := ctx.Deadline(); set && time.Now().Add(min(wait, p.waitMax)).After(deadline) {
			return st.verdict(false, nil), nil
		}
	}
	return st.verdict(true, cause), nil
}

// backoff waits exponentially from the minimum, with jitter so that many
// clients do not retry in step. A Retry-After on 429 or 503 (seconds or an
// HTTP date) is honoured instead, capped at the maximum wait.
func (p *policy) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if wait, ok := retryAfter(resp, time.Now()); ok {
		return min(wait, p.waitMax)
	}

	wait := retryablehttp.DefaultBackoff(lo, hi, attempt, nil)
	if wait <= 0 {
		return 0
	}

	// Equal jitter: half fixed, half random.
	half := wait / 2
	return half + rand.N(wait-half+1)
}

// retryAfter reads the Retry-After of a 429 or 503 answer: whole seconds, or
// an HTTP date (a date in the past is no wait). ok is false when there is
// none, or it does not parse.
func retryAfter(resp *http.Response, now time.Time) (wait time.Duration, ok bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}

	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Anything beyond a day is capped anyway; keep the multiplication safe.
		return time.Duration(min(secs, 86400)) * time.Second, true
	}

	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(when.Sub(now), 0), true
}

// giveUp hands the last answer or error back to MakeRequest unchanged, so
// that it is classified like any other; the body stays readable.
func (p *policy) giveUp(resp *http.Response, err error, _ int) (*http.Response, error) {
	return resp, err
}

// countAttempt records in the call's state how many requests were sent.
func countAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	stateOf(req.Context()).attempts = i + 1
}

// gaveUp is the final failure of a call the policy would have retried had
// any attempt been left. It reads as its cause and matches [ErrTransient]
// too, whatever that cause: an HTML page on HTTP 200 that persisted through
// every retry matches both [ErrMalformedResponse] and ErrTransient.
type gaveUp struct{ err error }

func (e *gaveUp) Error() string        { return e.err.Error() }
func (e *gaveUp) Unwrap() error        { return e.err }
func (e *gaveUp) Is(target error) bool { return target == ErrTransient }

// interrupted is a call whose context ended while it was retrying: it
// matches the context's error (or the budget's) and the last failure.
type interrupted struct {
	cause error // context.Canceled, context.DeadlineExceeded, a cause, or the budget
	last  error // the failure that was about to be retried
}

func (e *interrupted) Error() string {
	return fmt.Sprintf("%v while retrying (last failure: %v)", e.cause, e.last)
}

func (e *interrupted) Unwrap() []error { return []error{e.cause, e.last} }

// finish turns what go-retryablehttp returned into the call's error: the
// answer's own error, the transport's, or the context's.
func (st *callState) finish(ctx context.Context, budget time.Duration, err error, answer func() error) error {
	switch {
	case errors.Is(err, errInsecureRedirect):
		// The answer is the redirect that was refused; the refusal says why.
		err = st.transportFailure(ctx, budget, err)
	case answer != nil:
		var ra *retryableAnswer
		if errors.As(err, &ra) {
			err = ra.cause
		} else {
			err = answer()
		}
		// An answer worth retrying that came as the context ended.
		if err != nil && ctx.Err() != nil && (ra != nil || errors.Is(err, ErrTransient)) {
			return &interrupted{cause: contextCause(ctx, budget), last: err}
		}
	case err != nil:
		err = st.transportFailure(ctx, budget, err)
	}

	if err != nil && st.retryable && !errors.Is(err, ErrTransient) {
		err = &gaveUp{err: err}
	}
	return err
}

// contextCause says why ctx ended: the caller's cancellation or deadline
// (or cause), or the call's own budget.
func contextCause(ctx context.Context, budget time.Duration) error {
	cause := context.Cause(ctx)
	if errors.Is(cause, errBudget) {
		return &TransportError{Err: fmt.Errorf("%w (%v)", errBudget, budget)}
	}
	return cause
}

// transportFailure explains an error that came with no answer at all.
func (st *callState) transportFailure(ctx context.Context, budget time.Duration, err error) error {
	if ctx.Err() != nil {
		cause := contextCause(ctx, budget)
		if st.last != nil {
			return &interrupted{cause: cause, last: st.last}
		}
		return cause
	}

	var perm *permanentError
	if errors.As(err, &perm) {
		return perm.err
	}
	return &TransportError{Err: bare(err)}
}

// bare takes the cause out of the *url.Error that net/http wraps around a
// transport failure: [Error] already names the redacted URL, and the raw
// one may carry a query string that should not be repeated.
func bare(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
