package secrets_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/internal/testutil"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// scriptStore fails with the scripted errors in turn, then answers "ok".
// onCall, when set, runs at each call with the call's number (from 1).
type scriptStore struct {
	errs   []error
	calls  atomic.Int32
	onCall func(n int)
}

func (s *scriptStore) Kind() string { return "script" }

func (s *scriptStore) Get(context.Context, string) (any, error) {
	n := int(s.calls.Add(1))
	if s.onCall != nil {
		s.onCall(n)
	}
	if n <= len(s.errs) {
		return nil, s.errs[n-1]
	}
	return "ok", nil
}

// errFlaky is a failure that may pass; the marker in its message lets the
// tests check that logs never carry error messages.
var errFlaky = fmt.Errorf("flaky backend (marker-err-6610): %w", client.ErrTransient)

func TestRunnerRetries(t *testing.T) {
	unauth := &client.Error{Op: "secret_value", Name: "K", URL: "http://127.0.0.1:9/graphql",
		Err: &client.HTTPError{StatusCode: 401, Status: "401 Unauthorized"}}
	tests := []struct {
		name       string
		retries    int
		errs       []error
		wantCalls  int32
		wantErr    error // nil: success
		wantRunErr bool  // the error is a *RunError
	}{
		{name: "success needs one attempt", retries: 2, wantCalls: 1},
		{name: "transient errors are retried until success", retries: 2, errs: []error{errFlaky, errFlaky}, wantCalls: 3},
		{name: "gives up after max retries", retries: 2, errs: []error{errFlaky, errFlaky, errFlaky, errFlaky},
			wantCalls: 3, wantErr: client.ErrTransient, wantRunErr: true},
		{name: "0 retries means one attempt", retries: 0, errs: []error{errFlaky}, wantCalls: 1, wantErr: client.ErrTransient},
		{name: "not found is not retried", retries: 2, errs: []error{&secrets.NotFoundError{Name: "K", Local: true}},
			wantCalls: 1, wantErr: secrets.ErrNotFound},
		{name: "authentication errors are not retried", retries: 2, errs: []error{unauth},
			wantCalls: 1, wantErr: client.ErrUnauthenticated},
		{name: "invalid names are not retried", retries: 2, errs: []error{fmt.Errorf("%w: bad", secrets.ErrInvalidName)},
			wantCalls: 1, wantErr: secrets.ErrInvalidName},
		{name: "configuration errors are not retried", retries: 2, errs: []error{&secrets.ConfigError{Msg: "no api"}},
			wantCalls: 1},
		{name: "a retry that hits a final error stops", retries: 5, errs: []error{errFlaky, &secrets.NotFoundError{Name: "K", Local: true}},
			wantCalls: 2, wantErr: secrets.ErrNotFound, wantRunErr: true},
		{name: "other errors are retried", retries: 1, errs: []error{errors.New("custom store hiccup")}, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &scriptStore{errs: tt.errs}
			task := mustTask(t, "K", secrets.WithStore(store), secrets.WithMaxRetries(tt.retries),
				secrets.WithRetryDelay(time.Millisecond))

			v, err := secrets.Runner{}.Run(context.Background(), task)
			if got := store.calls.Load(); got != tt.wantCalls {
				t.Errorf("store called %d times, want %d", got, tt.wantCalls)
			}
			var runErr *secrets.RunError
			if errors.As(err, &runErr) != tt.wantRunErr {
				t.Errorf("err = %v (%T); want a *RunError: %t", err, err, tt.wantRunErr)
			}
			if tt.wantRunErr && (runErr.Attempts != int(tt.wantCalls) || runErr.Name != "K") {
				t.Errorf("RunError = %+v, want %d attempts for K", runErr, tt.wantCalls)
			}
			wantOK := tt.wantCalls > int32(len(tt.errs))
			switch {
			case wantOK && (err != nil || v.Reveal() != "ok"):
				t.Errorf("Run = %v, %v; want ok", v.Reveal(), err)
			case !wantOK && err == nil:
				t.Errorf("Run = %v, want an error", v.Reveal())
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want one matching %v", err, tt.wantErr)
			}
		})
	}
}

// cancelOnRetry is a slog handler that ends a context shortly after the
// Runner logs that it is about to wait, so that the end falls inside the
// wait. Should it come sooner, the Runner must stop all the same.
type cancelOnRetry struct {
	slog.Handler
	cancel context.CancelFunc
}

func (h cancelOnRetry) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOnRetry) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "retry_in" {
			time.AfterFunc(50*time.Millisecond, h.cancel)
		}
		return true
	})
	return nil
}

func TestRunnerStopsAtOnceWhenTheContextEndsDuringTheWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := &scriptStore{errs: []error{errFlaky, errFlaky}}
	// An hour's delay: the test can only finish if the wait is cut short.
	task := mustTask(t, "K", secrets.WithStore(store), secrets.WithRetryDelay(time.Hour))
	runner := secrets.Runner{Logger: slog.New(cancelOnRetry{cancel: cancel})}

	done := make(chan error, 1)
	go func() {
		_, err := runner.Run(ctx, task)
		done <- err
	}()

	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run slept through the cancellation")
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, client.ErrTransient) {
		t.Errorf("err = %v; want it to match both context.Canceled and the last error", err)
	}
	var runErr *secrets.RunError
	if !errors.As(err, &runErr) || runErr.Stopped == nil || runErr.Attempts != 1 {
		t.Errorf("err = %#v; want a *RunError stopped after 1 attempt", err)
	}
	if n := store.calls.Load(); n != 1 {
		t.Errorf("store called %d times, want 1", n)
	}
}

func TestRunnerWithAnEndedContextAsksNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	store := &scriptStore{}
	task := mustTask(t, "K", secrets.WithStore(store))

	if _, err := (secrets.Runner{}).Run(ctx, task); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("store called %d times", n)
	}
}

func TestRunnerDoesNotRetryWhenTheContextEndedDuringAnAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := &scriptStore{errs: []error{errFlaky, errFlaky}, onCall: func(int) { cancel() }}
	task := mustTask(t, "K", secrets.WithStore(store), secrets.WithRetryDelay(0))

	_, err := secrets.Runner{}.Run(ctx, task)
	var runErr *secrets.RunError
	if !errors.As(err, &runErr) || !errors.Is(err, context.Canceled) || runErr.Attempts != 1 {
		t.Fatalf("err = %v, want a *RunError stopped by the context after 1 attempt", err)
	}
	if n := store.calls.Load(); n != 1 {
		t.Errorf("store called %d times, want 1", n)
	}
}

func TestRunnerLogsAttemptsButNoMessagesOrValues(t *testing.T) {
	var logs testutil.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := &scriptStore{errs: []error{errFlaky}}
	task := mustTask(t, "K", secrets.WithStore(store), secrets.WithRetryDelay(time.Millisecond))

	v, err := secrets.Runner{Logger: logger}.Run(context.Background(), task)
	if err != nil || v.Reveal() != "ok" {
		t.Fatalf("Run = %v, %v", v.Reveal(), err)
	}

	out := logs.String()
	for _, want := range []string{"secret=K", "store=script", "attempt=1", "outcome=transient", "retry_in=1ms", "attempt=2", "outcome=ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs do not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "marker-err-6610") || strings.Contains(out, "ok\"") {
		t.Errorf("logs hold an error message or the value:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d log lines, want one per attempt:\n%s", n, out)
	}
}

// The Runner gives a task Prefect's retries over the real client: Cloud
// answers 503 twice, then the value.
func TestRunnerRetriesCloudThroughTheClient(t *testing.T) {
	const endpoint = "http://127.0.0.1:9/graphql"
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, endpoint,
		httpmock.NewStringResponder(503, "busy").
			Then(httpmock.NewStringResponder(503, "busy")).
			Then(httpmock.NewStringResponder(200, `{"data":{"secret_value":"from cloud"}}`)))

	cfg := secrets.DefaultConfig()
	cfg.API, cfg.UseLocalSecrets = "http://127.0.0.1:9", false
	r, err := secrets.NewResolver(cfg, secrets.WithClientOptions(
		client.WithTransport(mock), client.WithRetries(0)))
	if err != nil {
		t.Fatal(err)
	}
	task := mustTask(t, "K", secrets.WithResolver(r), secrets.WithRetryDelay(time.Millisecond))

	v, err := secrets.Runner{}.Run(context.Background(), task)
	if err != nil || v.Reveal() != "from cloud" {
		t.Fatalf("Run = %v, %v", v.Reveal(), err)
	}
	if n := mock.GetTotalCallCount(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	// One retry fewer than needed: the 503 comes back, after 2 attempts.
	mock.Reset()
	mock.RegisterResponder(http.MethodPost, endpoint, httpmock.NewStringResponder(503, "busy"))
	task = mustTask(t, "K", secrets.WithResolver(r), secrets.WithMaxRetries(1), secrets.WithRetryDelay(time.Millisecond))
	_, err = secrets.Runner{}.Run(context.Background(), task)
	var runErr *secrets.RunError
	if !errors.Is(err, client.ErrTransient) || !errors.As(err, &runErr) || runErr.Attempts != 2 {
		t.Fatalf("err = %v, want a transient failure after 2 attempts", err)
	}
	if !strings.Contains(err.Error(), `"K"`) || !strings.Contains(err.Error(), endpoint) {
		t.Errorf("err %q should name the secret and the endpoint", err)
	}
}
