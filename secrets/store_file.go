package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DockerSecretsDir is where Docker (swarm and compose) mounts secrets, one
// file per secret, for use as [FileStore.Dir].
const DockerSecretsDir = "/run/secrets"

// MaxSecretFileBytes is the largest file a [FileStore] reads. Kubernetes
// caps a Secret at 1 MiB; anything larger is refused, not cut short.
const MaxSecretFileBytes = 4 << 20

// FileStore reads a secret from a mounted file, such as a Kubernetes secret
// volume or a Docker secret. The file is Path when set; otherwise the
// secret's name inside Dir, and then the name must be a plain local name
// (no "..", no absolute path). One trailing newline ("\n" or "\r\n") is
// trimmed; the rest comes back as a string, undecoded.
//
// A missing file is an error matching [ErrNotFound]. Errors name the secret
// and the path, never the file's content.
type FileStore struct {
	Path string `json:"path,omitempty"`
	Dir  string `json:"dir,omitempty"`
}

// Kind returns [KindFile].
func (FileStore) Kind() string { return KindFile }

// Validate reports a store with neither Path nor Dir. [WithStore] calls it.
func (s FileStore) Validate() error {
	if s.Path == "" && s.Dir == "" {
		return &ConfigError{Msg: "FileStore needs a Path or a Dir"}
	}
	return nil
}

// Get reads the file.
func (s FileStore) Get(_ context.Context, name string) (any, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}

	path := s.Path
	if path == "" {
		if !filepath.IsLocal(name) {
			return nil, fmt.Errorf("%w: %q cannot name a file inside %q", ErrInvalidName, name, s.Dir)
		}
		path = filepath.Join(s.Dir, name)
	}

	data, err := readLimited(path)
	if err != nil {
		return nil, s.fail(name, path, err)
	}
	text := strings.TrimSuffix(string(data), "\n")
	if len(text) < len(data) {
		text = strings.TrimSuffix(text, "\r")
	}
	return text, nil
}

// errTooLarge is the cause of a file over MaxSecretFileBytes.
var errTooLarge = fmt.Errorf("larger than %d bytes", MaxSecretFileBytes)

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	data, err := io.ReadAll(io.LimitReader(f, MaxSecretFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSecretFileBytes {
		return nil, errTooLarge
	}
	return data, nil
}

// fail describes a read error by its cause alone: the path is said once, by
// the StoreError, and nothing of the content is kept.
func (s FileStore) fail(name, path string, err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err
	}

	e := &StoreError{Name: name, Kind: KindFile, Source: fmt.Sprintf("file %q", path), Err: cause}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.Reason = "does not exist"
		e.Err = fmt.Errorf("%w (%w)", ErrNotFound, cause)
	case errors.Is(err, fs.ErrPermission):
		e.Reason = "cannot be read: permission denied"
	default:
		e.Reason = "cannot be read: " + cause.Error()
	}
	return e
}

// MarshalJSON writes the store's configuration.
func (s FileStore) MarshalJSON() ([]byte, error) {
	type plain FileStore
	return json.Marshal(plain(s))
}
