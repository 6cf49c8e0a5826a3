package mockserver

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes is the longest secret name the server accepts.
const maxNameBytes = 255

// checkName reports why name cannot name a secret, or nil if it can. The
// error describes the problem without quoting the name, which keeps control
// characters out of messages and logs.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("secret name is empty")
	case len(name) > maxNameBytes:
		return fmt.Errorf("secret name is %d bytes long; at most %d are allowed", len(name), maxNameBytes)
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
