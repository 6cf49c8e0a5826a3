package secrets

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/prefect-go/cloudsecrets/client"
)

// Errors that [Resolver.Get] returns, for errors.Is. Errors from Cloud also
// match the sentinels of package client, such as client.ErrUnauthenticated
// and client.ErrTransient.
var (
	// ErrNotFound means no secret of that name exists where Get looked. It is
	// the same value as client.ErrNotFound.
	ErrNotFound = client.ErrNotFound

	// ErrFlowBuilding means Get was called while a flow was being built;
	// secrets are read at run time only.
	ErrFlowBuilding = errors.New("secrets are read at run time only, not while a flow is being built")

	// ErrInvalidName means a secret name is empty, too long or holds control
	// characters.
	ErrInvalidName = errors.New("invalid secret name")
)

// NotFoundError says that a secret was not found, and where Get looked.
type NotFoundError struct {
	Name  string
	Local bool   // true: use_local_secrets is on, so only the context was asked
	URL   string // the Cloud endpoint asked, when not Local
	Err   error  // Cloud's error, when not Local
}

func (e *NotFoundError) Error() string {
	if e.Local {
		return fmt.Sprintf("Local Secret %q was not found.", e.Name)
	}
	return fmt.Sprintf("Secret %q was not found in Prefect Cloud (%s); check that it is set in your tenant.", e.Name, e.URL)
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }
func (e *NotFoundError) Unwrap() error        { return e.Err }

// ValueTypeError says a secret's value is not of the type a typed accessor
// asked for. It names the types, never the value.
type ValueTypeError struct {
	Name string
	Want string
	Got  string
}

func (e *ValueTypeError) Error() string {
	return fmt.Sprintf("secret %q holds %s, not %s", e.Name, e.Got, e.Want)
}

// ValidateName reports, as an error matching [ErrInvalidName], a name that no
// store could hold: empty, longer than [MaxNameLength] or with control
// characters.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the name is empty", ErrInvalidName)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: the name is longer than %d bytes", ErrInvalidName, MaxNameLength)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: the name is not valid UTF-8", ErrInvalidName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q holds a control character", ErrInvalidName, name)
		}
	}
	return nil
}

// MaxNameLength is the longest secret name accepted, in bytes.
const MaxNameLength = 255
