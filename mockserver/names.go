package mockserver

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// checkName reports why name cannot name a secret under the default length
// limit, [DefaultMaxNameBytes], or nil if it can.
func checkName(name string) error {
	return checkNameLen(name, DefaultMaxNameBytes)
}

// checkNameLen reports why name cannot name a secret when names may be at
// most maxBytes long, or nil if it can. The error describes the problem
// without quoting the name, which keeps control characters out of messages
// and logs.
func checkNameLen(name string, maxBytes int) error {
	switch {
	case name == "":
		return errors.New("secret name is empty")
	case len(name) > maxBytes:
		return fmt.Errorf("secret name is %d bytes long; at most %d are allowed", len(name), maxBytes)
	case !utf8.ValidString(name):
		return errors.New("secret name is not valid UTF-8")
	}

	for i, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("secret name holds a control character at byte %d", i)
		}
	}
	return nil
}
