package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"slices"
)

// LoadSeedFile reads a JSON object of secret names to JSON values, for
// [Options.Seed]. Its errors name the file, and for a syntax error the line
// and column; they never quote a value.
func LoadSeedFile(path string) (map[string]json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return nil, fmt.Errorf("seed file %q: %w", path, err)
	}

	secrets, err := parseSeed(data)
	if err != nil {
		return nil, fmt.Errorf("seed file %q: %w", path, err)
	}
	return secrets, nil
}

// parseSeed decodes a seed file's contents and checks every name.
func parseSeed(data []byte) (map[string]json.RawMessage, error) {
	var secrets map[string]json.RawMessage
	err := json.Unmarshal(data, &secrets)

	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := lineColumn(data, syntax.Offset)
		return nil, fmt.Errorf("line %d, column %d: %s", line, col, syntax.Error())
	case errors.As(err, &typ):
		return nil, fmt.Errorf("must hold a JSON object of secret names to values, not %s", typ.Value)
	case err != nil:
		return nil, errors.New("is not a JSON object of secret names to values")
	case secrets == nil:
		return nil, errors.New("must hold a JSON object of secret names to values, not null")
	}

	// A name's length is checked by New, which knows the server's limit.
	for _, name := range slices.Sorted(maps.Keys(secrets)) {
		if err := checkNameLen(name, math.MaxInt); err != nil {
			return nil, fmt.Errorf("secret %q: %w", name, err)
		}
	}
	return secrets, nil
}

// lineColumn returns the 1-based line and column of the byte at which a JSON
// decoder that had read offset bytes of data stopped.
func lineColumn(data []byte, offset int64) (line, col int) {
	pos := int(min(max(offset-1, 0), int64(len(data))))
	before := data[:pos]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = pos - bytes.LastIndexByte(before, '\n')
	return line, col
}
