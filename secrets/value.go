package secrets

import (
	"fmt"
	"log/slog"
	"strconv"
)

// Mask is what a [Value] shows wherever it is printed, logged or encoded.
const Mask = "[REDACTED]"

// Value carries a secret's value so that it cannot leak by accident: it
// prints as [Mask] with every fmt verb (%v, %+v, %#v, %s, %q, %x, %d, ...),
// logs as Mask through log/slog, and encodes as Mask with encoding/json and
// any encoder that uses encoding.TextMarshaler. Only [Value.Reveal] returns
// the value itself.
//
// The value is held inside a closure, not a field, so that reflection-based
// dumpers and fmt printing a struct that holds a Value in an unexported field
// see a function pointer rather than the value.
//
// The zero Value holds nil. Values are not comparable with ==: compare what
// Reveal returns, if you must.
type Value struct {
	reveal func() any
}

// NewValue wraps v. A Value given to NewValue is returned as it is.
func NewValue(v any) Value {
	if already, ok := v.(Value); ok {
		return already
	}
	return Value{reveal: func() any { return v }}
}

// Reveal returns the secret's value: a string, int64, float64, bool, nil, a
// map or slice of those, or whatever a [Store] returned. It is the one way
// to read it; take care where it goes.
func (v Value) Reveal() any {
	if v.reveal == nil {
		return nil
	}
	return v.reveal()
}

// String returns [Mask].
func (v Value) String() string { return Mask }

// GoString returns [Mask], so that %#v shows no value either.
func (v Value) GoString() string { return Mask }

// Format prints [Mask] for every verb; %q quotes it.
func (v Value) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(strconv.Quote(Mask)))
		return
	}
	_, _ = f.Write([]byte(Mask))
}

// LogValue makes log/slog record [Mask].
func (v Value) LogValue() slog.Value { return slog.StringValue(Mask) }

// MarshalJSON encodes [Mask] as a JSON string. A Value never round-trips
// through JSON: persist the secret's name instead (see [SecretResultHandler]).
func (v Value) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(Mask)), nil }

// MarshalText returns [Mask], for encoders that use encoding.TextMarshaler.
func (v Value) MarshalText() ([]byte, error) { return []byte(Mask), nil }
