package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Cast says how an [EnvStore] turns a variable's text into a value.
type Cast string

// The casts an EnvStore knows. Numbers come back as int64 and float64, as
// everywhere in this package.
const (
	CastNone   Cast = ""       // the text as it is, a string
	CastString Cast = "string" // the same, said explicitly
	CastInt    Cast = "int"    // int64, base 10
	CastFloat  Cast = "float"  // float64
	CastBool   Cast = "bool"   // as strconv.ParseBool: 1, t, true, 0, f, false, in any case
	CastJSON   Cast = "json"   // any JSON value, decoded as [Resolver.Get] decodes
)

// EnvStore reads a secret from an environment variable, like Prefect's
// EnvVarSecret task. The variable is named by Var, or by the secret's name
// when Var is empty. An unset variable gives a nil value, or, with Required,
// an error matching [ErrNotFound]. A variable set to "" is set.
//
// Its errors name the secret and the variable, never the variable's text.
type EnvStore struct {
	Var      string `json:"var,omitempty"`
	Cast     Cast   `json:"cast,omitempty"`
	Required bool   `json:"required,omitempty"`

	// Lookup reads a variable; nil means os.LookupEnv. Tests and engines
	// that keep their own environment set it. It is never written to JSON.
	Lookup func(key string) (string, bool) `json:"-"`
}

// Kind returns [KindEnv].
func (EnvStore) Kind() string { return KindEnv }

// Validate reports a Cast this store does not know. [WithStore] calls it.
func (s EnvStore) Validate() error {
	switch s.Cast {
	case CastNone, CastString, CastInt, CastFloat, CastBool, CastJSON:
		return nil
	}
	return &ConfigError{Msg: fmt.Sprintf("EnvStore: unknown cast %q (want string, int, float, bool or json)", string(s.Cast))}
}

// Get reads the variable and applies the cast.
func (s EnvStore) Get(_ context.Context, name string) (any, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}

	key := s.Var
	if key == "" {
		key = name
	}
	lookup := s.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	text, ok := lookup(key)
	if !ok && s.Required {
		return nil, s.fail(name, key, "is not set", ErrNotFound)
	}
	if !ok {
		return nil, nil
	}

	v, err := cast(text, s.Cast)
	if err != nil {
		return nil, s.fail(name, key, "cannot be read as "+string(s.Cast)+": "+err.Error(), err)
	}
	return v, nil
}

func (s EnvStore) fail(name, key, reason string, err error) error {
	return &StoreError{
		Name:   name,
		Kind:   KindEnv,
		Source: fmt.Sprintf("environment variable %q", key),
		Reason: reason,
		Err:    err,
	}
}

// errNotJSON is the cause of a failed JSON cast. The decoder's own message
// is dropped because it quotes the character it stopped at.
var errNotJSON = errors.New("not valid JSON")

// cast converts text. Its errors never hold the text: strconv's NumError
// quotes its input, so only the reason inside it is kept.
func cast(text string, c Cast) (any, error) {
	var (
		v   any
		err error
	)
	switch c {
	case CastNone, CastString:
		return text, nil
	case CastInt:
		v, err = strconv.ParseInt(text, 10, 64)
	case CastFloat:
		v, err = strconv.ParseFloat(text, 64)
	case CastBool:
		v, err = strconv.ParseBool(text)
	case CastJSON:
		if v, err = decodeJSON([]byte(text)); err != nil {
			err = errNotJSON
		}
	}

	var numErr *strconv.NumError
	if errors.As(err, &numErr) {
		err = numErr.Err
	}
	return v, err
}

// MarshalJSON writes the store's configuration; Lookup is left out.
func (s EnvStore) MarshalJSON() ([]byte, error) {
	type plain EnvStore // without methods, so no recursion
	return json.Marshal(plain(s))
}
