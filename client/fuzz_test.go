package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/client"
)

// fuzzStatuses are the HTTP statuses a fuzzed answer comes with.
var fuzzStatuses = [...]int{200, 200, 200, 200, 204, 301, 400, 401, 403, 404, 413, 422, 429, 500, 502, 503, 504}

// answerWith is a RoundTripper that answers every request with one fixed
// response, and never reaches a network.
type answerWith struct {
	status      int
	contentType string
	body        []byte
}

func (a answerWith) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	h := make(http.Header)
	if a.contentType != "" {
		h.Set("Content-Type", a.contentType)
	}
	return &http.Response{
		StatusCode:    a.status,
		Status:        http.StatusText(a.status),
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)),
		Request:       req,
	}, nil
}

// FuzzDecodeAnswer gives each of the client's operations any answer, with
// any status and content type. The client must not panic; on success a
// value must be valid JSON; on failure the error must be an [*client.Error]
// of a known kind that never quotes a string from the answer's data, where
// secret values travel. The seed corpus is in testdata/fuzz/FuzzDecodeAnswer.
func FuzzDecodeAnswer(f *testing.F) {
	f.Fuzz(func(t *testing.T, op, status uint8, contentType string, body []byte) {
		c, err := client.New("http://127.0.0.1:4200/graphql",
			client.WithToken("tok-fuzz"),
			client.WithTransport(answerWith{fuzzStatuses[int(status)%len(fuzzStatuses)], contentType, body}),
			client.WithRetries(0),
		)
		if err != nil {
			t.Fatal(err)
		}

		ctx := context.Background()
		switch op % 4 {
		case 0:
			var v json.RawMessage
			v, err = c.SecretValue(ctx, "K")
			if err == nil && !json.Valid(v) {
				t.Fatalf("SecretValue returned invalid JSON %q", v)
			}
		case 1:
			_, err = c.SecretNames(ctx)
		case 2:
			err = c.SetSecret(ctx, "K", json.RawMessage(`"v"`))
		default:
			err = c.DeleteSecret(ctx, "K")
		}
		if err == nil {
			return
		}

		var ce *client.Error
		if !errors.As(err, &ce) || ce.Op == "" || ce.URL != "http://127.0.0.1:4200/graphql" {
			t.Fatalf("err = %#v, want a *client.Error naming the operation and URL", err)
		}
		if kind := client.Kind(err); kind == "ok" || kind == "canceled" {
			t.Fatalf("Kind = %q for %v", kind, err)
		}
		msg := err.Error()
		for _, secret := range dataStrings(body, contentType) {
			if strings.Contains(msg, secret) {
				t.Fatalf("error quotes %q from the answer's data: %s", secret, msg)
			}
		}
	})
}

// dataStrings returns the strings holding the marker "s3cr3t" inside the
// "data" of a JSON answer, less any the answer also has outside its data or
// in its content type, which the client may rightly quote (a GraphQL error
// message, say). A payload's "error" field is a message too, not a value.
func dataStrings(body []byte, contentType string) []string {
	var answer map[string]json.RawMessage
	if json.Unmarshal(body, &answer) != nil {
		return nil
	}
	var data any
	if json.Unmarshal(answer["data"], &data) != nil {
		return nil
	}

	var inData []string
	collect(data, &inData, "error")
	delete(answer, "data")
	rest, _ := json.Marshal(answer)
	var restStrings []string
	var restAny any
	_ = json.Unmarshal(rest, &restAny)
	collect(restAny, &restStrings, "")
	elsewhere := strings.Join(restStrings, "\x00") + "\x00" + contentType

	var out []string
	for _, s := range inData {
		if strings.Contains(s, "s3cr3t") && !strings.Contains(elsewhere, s) {
			out = append(out, s)
		}
	}
	return out
}

// collect gathers every string in v, object keys included, except what is
// under a key that matches skip without regard to case.
func collect(v any, out *[]string, skip string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, e := range v {
			collect(e, out, skip)
		}
	case map[string]any:
		for k, e := range v {
			*out = append(*out, k)
			if skip == "" || !strings.EqualFold(k, skip) {
				collect(e, out, skip)
			}
		}
	}
}
