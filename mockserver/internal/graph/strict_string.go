package graph

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// MarshalStrictString writes a String as gqlgen's own String scalar does.
func MarshalStrictString(s string) graphql.Marshaler {
	return graphql.MarshalString(s)
}

// UnmarshalStrictString takes the schema's String from a string only.
// gqlgen's own String scalar also takes a number sent in the variables and
// turns it into its text, which the input coercion of the GraphQL spec does
// not allow: set_secret would store a secret named "123" for the number 123.
// Its error does not quote the value.
func UnmarshalStrictString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", &gqlerror.Error{
			Message:    "String cannot represent a non-string value",
			Extensions: map[string]any{"code": "BAD_USER_INPUT"},
		}
	}
	return s, nil
}
