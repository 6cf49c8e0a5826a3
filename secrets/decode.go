package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// decodeString is Prefect's rule for string values: a string that parses as
// JSON comes back decoded, any other string as it is.
func decodeString(s string) any {
	if !mayBeJSON(s) {
		return s
	}
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return s
	}
	return v
}

// mayBeJSON is a cheap first look that spares most plain strings a parse.
func mayBeJSON(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n")
	if s == "" {
		return false
	}
	switch c := s[0]; {
	case c == '{', c == '[', c == '"', c == '-', c >= '0' && c <= '9':
		return true
	case c == 't', c == 'f', c == 'n':
		// Only the literals themselves, with trailing white space, are JSON.
		switch strings.TrimRight(s, " \t\r\n") {
		case "true", "false", "null":
			return true
		}
	}
	return false
}

// decodeJSON decodes one JSON value into plain Go values: maps, slices,
// strings, bools, nil, and numbers as int64 when they are whole and fit,
// float64 otherwise, so that 42 stays 42; a whole number too big for int64
// (or a number too big for float64) stays a json.Number, every digit kept.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return plainNumbers(v), nil
}

// isWhole reports whether a JSON number is written without fraction or exponent.
func isWhole(n string) bool {
	return !strings.ContainsAny(n, ".eE")
}

func plainNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if isWhole(string(t)) {
			return t // too big for int64: kept exact, as Python's json.loads does
		}
		f, err := t.Float64()
		if err != nil || math.IsInf(f, 0) {
			return t
		}
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = plainNumbers(e)
		}
	}
	return v
}

// describe names a value's JSON type for errors, never the value.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("a %T", v)
}
