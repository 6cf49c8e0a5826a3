package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// JSON is the schema's JSON scalar: any JSON value, kept as its compact
// encoding so that what a client stores is what it reads back.
type JSON json.RawMessage

// UnmarshalGQL takes a value that gqlgen decoded from a literal or a variable.
// It keeps characters such as < and & as they are rather than escaping them,
// so that a stored string reads back byte for byte.
func (j *JSON) UnmarshalGQL(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return errors.New("value is not JSON")
	}

	*j = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return nil
}

// MarshalGQL writes the stored encoding; an empty JSON is null.
func (j JSON) MarshalGQL(w io.Writer) {
	if len(j) == 0 {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = w.Write(j)
}

// SecretInput is the input of set_secret and of its deprecated twin setSecret.
type SecretInput struct {
	Name  string                  `json:"name"`
	Value graphql.Omittable[JSON] `json:"value,omitempty"`
}
