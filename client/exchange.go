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
	"unicode"

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
	c    *Client
	op   string
	name string
}

var _ graphql.Client = (*call)(nil)

// fail wraps a cause into the [*Error] every method returns.
func (call *call) fail(attempts int, err error) error {
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
	attempts := 0
	ctx = context.WithValue(ctx, attemptsKey{}, &attempts)

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
	if hresp != nil {
		status = hresp.StatusCode
		defer hresp.Body.Close()
	}
	if err == nil || hresp != nil {
		err = decodeAnswer(hresp, resp)
	} else {
		err = transportFailure(ctx, err)
	}

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
// policy can look for transient GraphQL errors and the caller can decode it.
func bufferAnswer(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return &retryableAnswer{reason: "reading the answer: " + err.Error()}
	}
	if len(data) > maxResponseBytes {
		return &bodyTooLarge{}
	}
	if resp.StatusCode == http.StatusOK && hasTransientCode(data) {
		return &retryableAnswer{reason: "transient GraphQL error"}
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

func hasTransientCode(data []byte) bool {
	if !bytes.Contains(data, []byte(`"errors"`)) {
		return false
	}
	var a wireAnswer
	if json.Unmarshal(data, &a) != nil {
		return false
	}
	for _, e := range a.Errors {
		if isTransientCode(e.Extensions.Code) {
			return true
		}
	}
	return false
}

// decodeAnswer is the one place an HTTP answer becomes data or an error.
func decodeAnswer(hresp *http.Response, resp *graphql.Response) error {
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes+1))
	if err != nil {
		return &TransportError{Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if len(data) > maxResponseBytes {
		return &bodyTooLarge{}
	}

	answer, reason := parseAnswer(data)
	if hresp.StatusCode != http.StatusOK {
		if answer != nil && len(answer.Errors) > 0 {
			return graphQLErrors(answer)
		}
		return &HTTPError{StatusCode: hresp.StatusCode, Status: hresp.Status, Snippet: snippet(data)}
	}
	if answer == nil {
		return &MalformedResponseError{
			StatusCode:  hresp.StatusCode,
			ContentType: hresp.Header.Get("Content-Type"),
			Length:      len(data),
			Reason:      reason,
		}
	}
	if len(answer.Errors) > 0 {
		return graphQLErrors(answer)
	}
	if err := json.Unmarshal(answer.Data, resp.Data); err != nil {
		return &MalformedResponseError{
			StatusCode:  hresp.StatusCode,
			ContentType: hresp.Header.Get("Content-Type"),
			Length:      len(data),
			Reason:      "its data does not fit the schema",
		}
	}
	return nil
}

// parseAnswer returns the answer, or nil and why it is not a GraphQL response.
func parseAnswer(data []byte) (*wireAnswer, string) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "empty body"
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, "not a JSON object"
	}
	_, hasData := fields["data"]
	_, hasErrors := fields["errors"]
	if !hasData && !hasErrors {
		return nil, "no data or errors field"
	}
	var a wireAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, "malformed errors field"
	}
	if !hasErrors && (len(a.Data) == 0 || string(a.Data) == "null") {
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
	const limit = 120
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			b.WriteString("…")
			break
		}
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// transportFailure explains an error that came with no answer at all.
func transportFailure(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, errBudget) {
			return &TransportError{Err: errBudget}
		}
		return cause
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		return perm.err
	}
	return &TransportError{Err: err}
}
