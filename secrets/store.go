package secrets

import (
	"context"
	"fmt"
)

// Store is where a [Task] fetches its secret: the Go counterpart of
// subclassing Prefect's Secret task and overriding run. A Task wraps any
// Store and keeps the same [SecretResultHandler], so the value never reaches
// a result store whichever Store produced it.
//
// Get returns the named secret's value. A missing secret should be an error
// matching [ErrNotFound], so that a [Runner] does not retry it. Errors must
// name the secret, never its value.
//
// Kind names the implementation in one lower-case word ("prefect", "env",
// "file", or your own); it is written when a Task is marshalled to JSON. A
// Store that also implements json.Marshaler has that JSON written as its
// configuration, and a [TaskDecoder] given a constructor for the kind makes
// it again.
type Store interface {
	Get(ctx context.Context, name string) (any, error)
	Kind() string
}

// Kinds of the stores this package ships.
const (
	KindPrefect = "prefect"
	KindEnv     = "env"
	KindFile    = "file"
)

// PrefectStore fetches secrets the way Prefect's Secret.get does, through a
// [Resolver]: the run's context first, then, depending on
// use_local_secrets, a not-found error or Prefect Cloud. It is the store of
// a [Task] made without [WithStore].
type PrefectStore struct {
	// Resolver answers the look-ups. When nil, [Default] is used: the
	// configuration read once from the environment, as Prefect's global
	// config is. It is never written to JSON.
	Resolver *Resolver `json:"-"`
}

// Kind returns [KindPrefect].
func (PrefectStore) Kind() string { return KindPrefect }

// Get returns [Resolver.Get] of the store's Resolver, or of [Default] when
// it has none.
func (s PrefectStore) Get(ctx context.Context, name string) (any, error) {
	r := s.Resolver
	if r == nil {
		var err error
		if r, err = Default(); err != nil {
			return nil, err
		}
	}
	return r.Get(ctx, name)
}

// String names the store; it never shows the Resolver's configuration.
func (s PrefectStore) String() string {
	if s.Resolver == nil {
		return "secrets.PrefectStore{default resolver}"
	}
	return "secrets.PrefectStore{resolver}"
}

// Format makes every verb print [PrefectStore.String].
func (s PrefectStore) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// StoreError is a failure of an [EnvStore] or a [FileStore]. It names the
// secret and where the store looked (a variable or a path), never a value.
// It matches [ErrNotFound] with errors.Is when the secret is not there.
type StoreError struct {
	Name   string // the secret
	Kind   string // the store's kind, e.g. "env"
	Source string // where it looked, e.g. `environment variable "DB_PASSWORD"`
	Reason string // what went wrong, without the value
	Err    error  // the cause, such as ErrNotFound or a file system error
}

// Error names the secret, where the store looked and what went wrong.
func (e *StoreError) Error() string {
	return fmt.Sprintf("secret %q: %s %s", e.Name, e.Source, e.Reason)
}

// Unwrap returns the cause.
func (e *StoreError) Unwrap() error { return e.Err }
