package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
)

// Runner runs a [Task] with the task's retry settings, so that a workflow
// engine gets Prefect's retries by calling one method. The zero Runner is
// ready to use and logs nothing.
type Runner struct {
	// Logger receives one debug line per attempt (the secret's name, the
	// store's kind, the attempt, the kind of error, the wait before the next
	// attempt), never a value or an error message. nil logs nothing.
	Logger *slog.Logger
}

// Run runs t until it succeeds, fails with an error that [Retryable] says
// is final, or has made t.MaxRetries()+1 attempts, waiting t.RetryDelay()
// before each retry. It stops as soon as ctx ends, in a wait as well as in
// an attempt.
//
// An error after more than one attempt, or when ctx ended before a retry,
// is a [*RunError] that wraps the last attempt's error (and ctx's cause), so
// errors.Is still finds client.ErrTransient, ErrNotFound, context.Canceled
// and the like. A first attempt's final error is returned as it is.
func (r Runner) Run(ctx context.Context, t *Task) (Value, error) {
	if t == nil {
		return Value{}, errors.New("secrets: Runner.Run: nil *Task")
	}

	for attempt := 1; ; attempt++ {
		v, err := t.Run(ctx)
		if err == nil {
			r.log(ctx, t, attempt, nil, false)
			return v, nil
		}

		if attempt > t.maxRetries || !Retryable(err) {
			r.log(ctx, t, attempt, err, false)
			if attempt == 1 {
				return Value{}, err
			}
			return Value{}, &RunError{Name: t.name, Attempts: attempt, Err: err}
		}

		r.log(ctx, t, attempt, err, true)
		if stop := sleep(ctx, t.retryDelay); stop != nil {
			return Value{}, &RunError{Name: t.name, Attempts: attempt, Err: err, Stopped: stop}
		}
	}
}

// sleep waits d, or until ctx ends; then it returns ctx's cause. A context
// that has already ended returns at once, whatever d.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 || ctx.Err() != nil {
		return context.Cause(ctx)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// log writes one attempt's line; retry says whether another attempt follows.
func (r Runner) log(ctx context.Context, t *Task, attempt int, err error, retry bool) {
	if r.Logger == nil || !r.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}

	attrs := []slog.Attr{
		slog.String("secret", t.name),
		slog.String("store", t.store.Kind()),
		slog.Int("attempt", attempt),
		slog.String("outcome", client.Kind(err)),
	}
	if retry {
		attrs = append(attrs, slog.Duration("retry_in", t.retryDelay))
	}
	r.Logger.LogAttrs(ctx, slog.LevelDebug, "secret task attempt", attrs...)
}

// Retryable reports whether a [Runner] retries after err. These are final:
// an ended context, a missing secret ([ErrNotFound]), a refused token
// (client.ErrUnauthenticated), an invalid name ([ErrInvalidName]), a flow
// being built ([ErrFlowBuilding]), a configuration error ([*ConfigError])
// and a value of the wrong type ([*ValueTypeError]). Everything else, such
// as client.ErrTransient, a malformed answer or a custom store's own
// errors, is retried.
func Retryable(err error) bool {
	if err == nil {
		return false
	}

	var ce *ConfigError
	var ve *ValueTypeError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, ErrNotFound), errors.Is(err, client.ErrUnauthenticated),
		errors.Is(err, ErrInvalidName), errors.Is(err, ErrFlowBuilding),
		errors.As(err, &ce), errors.As(err, &ve):
		return false
	}
	return true
}

// RunError is a [Runner.Run] that failed after retrying, or that stopped
// because its context ended when a retry was due. errors.Is and
// errors.As see both the last attempt's error and the context's cause.
type RunError struct {
	Name     string // the secret
	Attempts int    // attempts made
	Err      error  // the last attempt's error
	Stopped  error  // the context's cause, when it ended the run; else nil
}

// Error names the secret, the attempts made and the last error.
func (e *RunError) Error() string {
	if e.Stopped != nil {
		return fmt.Sprintf("secret task %q stopped after %d attempt(s): %v; last error: %v",
			e.Name, e.Attempts, e.Stopped, e.Err)
	}
	return fmt.Sprintf("secret task %q failed after %d attempts: %v", e.Name, e.Attempts, e.Err)
}

// Unwrap returns the last error and, when set, the context's cause.
func (e *RunError) Unwrap() []error {
	if e.Stopped != nil {
		return []error{e.Err, e.Stopped}
	}
	return []error{e.Err}
}
