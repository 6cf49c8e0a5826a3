package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// defaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is 0.
const defaultMaxBodyBytes = 1 << 20

// readBody reads r's body, failing with 413 if it is over limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &requestError{
			status: http.StatusRequestEntityTooLarge,
			code:   codePayloadTooLarge,
			msg:    fmt.Sprintf("request body is larger than %d bytes", limit),
		}
	case err != nil:
		return nil, badRequest("could not read the request body")
	}
	return body, nil
}

// wireRequest is a GraphQL-over-HTTP request body, with the same field types
// as gqlgen's own, except that variables may still be a string.
type wireRequest struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName,omitempty"`
	Variables     json.RawMessage `json:"variables,omitempty"`
	Extensions    map[string]any  `json:"extensions,omitempty"`
}

// normalizeBody checks that body is a JSON request gqlgen can decode, and
// rewrites variables sent as a JSON-encoded string, as Prefect Core's Python
// clients send them, into the object that string holds. It touches no GraphQL.
//
// gqlgen answers a body it cannot decode with an error that quotes the whole
// body, secret values included; checking first keeps that from happening.
// Its own error messages name positions and fields, never content.
func normalizeBody(body []byte) ([]byte, error) {
	var req wireRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return nil, describeDecodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("request body has more after its JSON value")
	}

	vars, err := normalizeVariables(req.Variables)
	if err != nil {
		return nil, err
	}
	req.Variables = vars

	return json.Marshal(req)
}

// normalizeVariables returns variables as a JSON object, or nil for none.
func normalizeVariables(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}

	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("variables is not a valid JSON string")
		}

		raw = bytes.TrimSpace([]byte(s))
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			return nil, nil
		}
		if !json.Valid(raw) {
			return nil, badRequest("variables is a string that does not hold valid JSON")
		}
	}

	if raw[0] != '{' {
		return nil, badRequest("variables must be a JSON object or a string holding one")
	}
	return raw, nil
}

// describeDecodeError turns a decoding error into a message that says where
// the problem is but quotes nothing from the body.
func describeDecodeError(err error) *requestError {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("request body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("request body is empty or cut short")
	case errors.As(err, &typ) && typ.Field == "":
		return badRequest("request body must be a JSON object, not " + typ.Value)
	case errors.As(err, &typ):
		return badRequest(fmt.Sprintf("request body field %q must not be %s", typ.Field, typ.Value))
	default:
		return badRequest("request body is not a GraphQL request")
	}
}
