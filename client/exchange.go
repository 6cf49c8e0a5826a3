package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/hashicorp/go-retryablehttp"
)

// maxResponseBytes bounds how much of an answer is read.
const maxResponseBytes = 32 << 20

// errBudget is the cause of a call that ran out of its own time budget (see
// [WithTimeout]), as opposed to the caller's deadline.
var errBudget = errors.New("the call's time budget ran out")

// call is the genqlient client for one operation of one [Client].
type call struct {
	c      *Client
	op     string
	name   string
	values []string // what of a value being set must not come back in errors
}

var _ graphql.Client = (*call)(nil)

// fail wraps a cause into the [*Error] every method returns.
func (call *call) fail(attempts int, err error) error {
	err = scrub(err, append([]string{call.c.token}, call.values...)) // in case the server echoed them
	return &Error{Op: call.op, Name: call.name, URL: call.c.shown, Attempts: attempts, Err: err}
}

// MakeRequest posts one GraphQL request through the retrying HTTP client and
// fills resp.Data, or returns an [*Error] saying what went wrong.
func (call *call) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	c := call.c
	start := time.Now()

	body, err := json.Marshal(req)
	if err != nil {
		return call.fail(0, fmt.Errorf("encoding the request: %w", err))
	}

	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.timeout, errBudget)
		defer cancel()
	}
	ctx, st := withCallState(ctx)

	hreq, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, body)
	if err != nil {
		return call.fail(0, fmt.Errorf("building the request: %w", err))
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	if c.token != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.token)
	}
	hreq.SetResponseHandler(bufferAnswer)

	hresp, err := c.http.Do(hreq)
	status := 0
	var answer func() error
	if hresp != nil {
		status = hresp.StatusCode
		defer hresp.Body.Close()
		answer = func() error { return st.decodeAnswer(hresp, resp) }
	}
	err = st.finish(ctx, c.timeout, err, answer)
	attempts := st.attempts

	if c.logger != nil {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "prefect cloud request",
			slog.String("op", call.op), slog.String("url", c.shown), slog.Int("status", status),
			slog.Int("attempts", attempts), slog.Duration("duration", time.Since(start)),
			slog.String("outcome", Kind(err)))
	}
	if err != nil {
		return call.fail(attempts, err)
	}
	return nil
}

// bufferAnswer reads the whole answer into memory once, so that the retry
// policy can judge it and the caller can decode it. On HTTP 200 it marks as
// retryable a body that broke off, transient GraphQL errors, and an answer
// that is not a GraphQL response at all (a proxy's page, a cut-off body).
func bufferAnswer(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return &retryableAnswer{cause: &TransportError{Err: fmt.Errorf("reading the answer: %w", err)}}
	}
	if len(data) > maxResponseBytes {
		return &bodyTooLarge{}
	}
	answer, failure := answerFailure(resp, data)
	if resp.Request != nil {
		st := stateOf(resp.Request.Context())
		st.answered, st.answer, st.failure = resp, answer, failure
	}
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	if errors.Is(failure, ErrTransient) || errors.Is(failure, ErrMalformedResponse) {
		return &retryableAnswer{cause: failure}
	}
	return nil
}

type bodyTooLarge struct{}

func (*bodyTooLarge) Error() string {
	return fmt.Sprintf("the answer is larger than %d MiB", maxResponseBytes>>20)
}

// wireAnswer is a GraphQL response as it arrives.
type wireAnswer struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Path       []any  `json:"path"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

// decodeAnswer is the one place an HTTP answer becomes data or an error. It
// reuses what bufferAnswer parsed of the same answer, if it saw it.
func (st *callState) decodeAnswer(hresp *http.Response, resp *graphql.Response) error {
	answer, failure := st.answer, st.failure
	if st.answered != hresp {
		data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes+1))
		if err != nil {
			return &TransportError{Err: fmt.Errorf("reading the answer: %w", err)}
		}
		if len(data) > maxResponseBytes {
			return &bodyTooLarge{}
		}
		answer, failure = answerFailure(hresp, data)
	}
	if failure != nil {
		return failure
	}
	if err := json.Unmarshal(answer.Data, resp.Data); err != nil {
		return &MalformedResponseError{
			StatusCode:  hresp.StatusCode,
			ContentType: hresp.Header.Get("Content-Type"),
			Length:      int(hresp.ContentLength),
			Reason:      "its data does not fit the schema",
		}
	}
	return nil
}

// answerFailure returns the parsed answer, or the error it amounts to. A 429
// or 5xx status is an [*HTTPError] whatever the body says, so that it stays
// transient; another status is the body's GraphQL errors, if it has any.
func answerFailure(hresp *http.Response, data []byte) (*wireAnswer, error) {
	answer, reason := parseAnswer(data)
	if hresp.StatusCode != http.StatusOK {
		if answer != nil && len(answer.Errors) > 0 && !isTransientStatus(hresp.StatusCode) {
			return nil, graphQLErrors(answer)
		}
		herr := &HTTPError{StatusCode: hresp.StatusCode, Status: hresp.Status, Snippet: snippet(data)}
		herr.RetryAfter, _ = retryAfter(hresp, time.Now())
		return nil, herr
	}
	if answer == nil {
		return nil, &MalformedResponseError{
			StatusCode:  hresp.StatusCode,
			ContentType: hresp.Header.Get("Content-Type"),
			Length:      len(data),
			Reason:      reason,
		}
	}
	if len(answer.Errors) > 0 {
		return nil, graphQLErrors(answer)
	}
	return answer, nil
}

// parseAnswer returns the answer, or nil and why it is not a GraphQL response.
// One decoding tells all: an absent "data" leaves Data empty, an absent
// "errors" leaves Errors nil.
func parseAnswer(data []byte) (*wireAnswer, string) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "empty body"
	}
	var a wireAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, "malformed " + te.Field + " field"
		}
		return nil, "not a JSON object"
	}
	hasData, hasErrors := len(a.Data) > 0, a.Errors != nil
	if !hasData && !hasErrors {
		return nil, "no data or errors field"
	}
	if !hasErrors && string(a.Data) == "null" {
		return nil, "null data and no errors"
	}
	return &a, ""
}

func graphQLErrors(a *wireAnswer) GraphQLErrors {
	list := make(GraphQLErrors, len(a.Errors))
	for i, e := range a.Errors {
		parts := make([]string, len(e.Path))
		for j, p := range e.Path {
			parts[j] = fmt.Sprint(p)
		}
		list[i] = &GraphQLError{Message: e.Message, Path: strings.Join(parts, "."), Code: e.Extensions.Code}
	}
	return list
}

// snippet keeps the start of a non-JSON error body, printable characters
// only. A body that looks like JSON is left out: it could hold a value.
func snippet(data []byte) string {
	s := strings.TrimSpace(string(data))
	if s == "" || s[0] == '{' || s[0] == '[' {
		return ""
	}
	return printable(s, 120)
}
