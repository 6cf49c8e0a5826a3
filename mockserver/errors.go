package mockserver

import (
	"encoding/json"
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The extensions.code values the server puts on its errors.
const (
	codeBadRequest       = "BAD_REQUEST"
	codeBadUserInput     = "BAD_USER_INPUT"
	codeNotFound         = "NOT_FOUND"
	codeUnauthenticated  = "UNAUTHENTICATED"
	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	codePayloadTooLarge  = "PAYLOAD_TOO_LARGE"
	codeInternal         = "INTERNAL_SERVER_ERROR"
)

// msgNotFound is the message Prefect Core's clients look for to tell a missing
// secret from any other failure; it must not change.
const msgNotFound = "No value found for the requested key"

// The messages of the two authentication failures, which Prefect Core's
// clients also match on.
const (
	msgUnauthenticated = "Unauthenticated"
	msgMalformedAuth   = "Malformed Authorization header"
)

// errorBody is a GraphQL response that holds only errors, for failures found
// before gqlgen runs. Data is left out unless set, as for a request error.
type errorBody struct {
	Errors []errorItem      `json:"errors"`
	Data   *json.RawMessage `json:"data,omitempty"`
}

type errorItem struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// writeError writes a GraphQL-shaped error answer with the given HTTP status.
// With withData the answer carries "data": null, as an executed operation does.
func writeError(w http.ResponseWriter, status int, code, message string, withData bool) {
	body := errorBody{Errors: []errorItem{{
		Message:    message,
		Extensions: map[string]any{"code": code},
	}}}
	if withData {
		null := json.RawMessage("null")
		body.Data = &null
	}

	b, err := json.Marshal(body)
	if err != nil {
		// Only strings go in, so this cannot happen.
		http.Error(w, message, status)
		return
	}

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// requestError is a request that fails before GraphQL runs: the HTTP status
// and extensions.code to answer with, and a message that quotes nothing from
// the request.
type requestError struct {
	status int
	code   string
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// badRequest is a requestError for a body that is not a GraphQL request.
func badRequest(msg string) *requestError {
	return &requestError{status: http.StatusBadRequest, code: codeBadRequest, msg: msg}
}

// resolverError is an error for a resolver to return: gqlgen adds its path
// and location and keeps the code.
func resolverError(code, message string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    message,
		Extensions: map[string]any{"code": code},
	}
}
