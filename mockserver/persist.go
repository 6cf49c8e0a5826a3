package mockserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ErrCorruptDataFile is matched, with errors.Is, by the error [New] returns
// when [Options.DataFile] names a file that is damaged, cut short, empty, or
// not one this package wrote. Such a file is never emptied or overwritten.
var ErrCorruptDataFile = errors.New("data file is damaged or not a mock server data file")

// ErrDataFileInUse is matched, with errors.Is, by the error [New] returns
// when another Server, in this process or another, is using the data file.
var ErrDataFileInUse = errors.New("data file is in use by another mock server")

// errDataFileClosed is the cause of a change made after [Server.Close].
var errDataFileClosed = errors.New("the server is closed and saves no more changes")

// DataFileError is a problem with the data file: it names the file and
// says what is wrong, never quoting a secret.
type DataFileError struct {
	Path string
	Err  error
}

func (e *DataFileError) Error() string {
	return fmt.Sprintf("data file %q: %v", e.Path, e.Err)
}

func (e *DataFileError) Unwrap() error { return e.Err }

// corruption is why a data file cannot be read back.
type corruption struct {
	reason string
}

func (c *corruption) Error() string {
	return c.reason + "; refusing to use it rather than lose secrets: restore it, or move it away to start empty"
}

// Is matches [ErrCorruptDataFile].
func (c *corruption) Is(target error) bool { return target == ErrCorruptDataFile }

// The data file's first line is its header: the format, the SHA-256 of the
// data that follows and its length, so that a file cut short or changed is
// recognised. The data is one JSON object, {"tenants": {TENANT: {NAME:
// VALUE}}}.
const (
	dataMagic   = "prefect-mockserver data"
	dataFormat  = 1
	headerLimit = 256 // a longer first line is not a header
)

// dataFile keeps a store's secrets in a file, so that they outlive the
// process. Every save writes the whole store to a temporary file, syncs it
// and renames it over the data file, so that the file always holds one
// complete state. Saves are serialised, and one save covers every change
// made before it began: concurrent changes share a write.
//
// Note: a save costs time in proportion to the whole store, which suits
// the stores of test suites; a journal would suit millions of secrets.
type dataFile struct {
	path   string
	lock   *os.File // held, and locked where the platform allows, until close
	logger *slog.Logger

	mu     sync.Mutex
	saved  uint64 // the store's change count that the file holds
	closed bool
}

// useDataFile makes path the server's data file. An existing file is read
// and replaces whatever the seed put in the store; a missing one is created
// holding the seed. The file stays locked until [Server.Close].
func (s *Server) useDataFile(path string) error {
	lock, err := lockDataFile(path)
	if err != nil {
		return &DataFileError{Path: path, Err: err}
	}

	tenants, found, err := readDataFile(path)
	if err != nil {
		_ = lock.Close()
		return &DataFileError{Path: path, Err: err}
	}
	removeStaleTemps(path)

	f := &dataFile{path: path, lock: lock, logger: s.logger}
	if found {
		s.store.replace(tenants)
	}
	s.store.file = f
	if !found {
		if err := f.save(s.store, 0); err != nil {
			_ = f.close()
			return err
		}
	}
	return nil
}

// Close releases the data file, [Options.DataFile], so that another Server
// may use it. Every later change fails; reads go on working. It also cuts
// short every pending latency fault, which answers 503. Calling it again
// returns nil.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })

	if s.store.file == nil {
		return nil
	}
	return s.store.file.close()
}

// save saves the store in its data file, if it has one, once it holds
// change number change. It returns when the change is on disk.
func (s *store) save(change uint64) error {
	if s.file == nil {
		return nil
	}
	return s.file.save(s, change)
}

// snapshot returns the store's secrets and its change count. The maps are
// new; the values are shared, which is safe because a stored value is
// never changed in place.
func (s *store) snapshot() (map[string]map[string]json.RawMessage, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()

	out := make(map[string]map[string]json.RawMessage, len(s.tenants))
	for tenant, secrets := range s.tenants {
		if len(secrets) == 0 {
			continue
		}
		m := make(map[string]json.RawMessage, len(secrets))
		for name, value := range secrets {
			m[name] = value
		}
		out[tenant] = m
	}
	return out, s.changes
}

// replace makes tenants the store's whole content.
func (s *store) replace(tenants map[string]map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.tenants = tenants
	s.changes++
}

// save writes the store to the file unless the file already holds change
// number change. One caller writes at a time; the others wait, and most
// find their change written by the one before them.
func (f *dataFile) save(s *store, change uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	if f.closed {
		return &DataFileError{Path: f.path, Err: errDataFileClosed}
	}
	if change != 0 && f.saved >= change {
		return nil
	}

	tenants, at := s.snapshot()
	data, err := encodeData(tenants)
	if err == nil {
		err = writeAtomic(f.path, data)
	}
	if err != nil {
		f.logger.LogAttrs(context.Background(), slog.LevelError, "saving the data file failed",
			slog.String("path", f.path), slog.String("error", err.Error()))
		return &DataFileError{Path: f.path, Err: err}
	}

	f.saved = at
	return nil
}

// close stops saving and releases the lock; a second call does nothing.
func (f *dataFile) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()

	if f.closed {
		return nil
	}
	f.closed = true
	return f.lock.Close()
}

// lockDataFile opens and locks path + ".lock", which stays in place between
// runs. The lock dies with the process, however it ends.
func lockDataFile(path string) (*os.File, error) {
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(lock); err != nil {
		_ = lock.Close()
		return nil, err
	}
	return lock, nil
}

// readDataFile reads the data file at path; found is false, with no error,
// when there is no file there yet.
func readDataFile(path string) (tenants map[string]map[string][]byte, found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, describePathError(err)
	}

	tenants, err = decodeData(data)
	if err != nil {
		return nil, false, err
	}
	return tenants, true, nil
}

// encodeData returns the data file's content for tenants. Values are
// written as stored, with < and & kept as they are.
func encodeData(tenants map[string]map[string]json.RawMessage) ([]byte, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(dataBody{Tenants: tenants}); err != nil {
		return nil, errors.New("encoding the secrets failed")
	}

	sum := sha256.Sum256(body.Bytes())
	header := fmt.Sprintf("%s %d sha256=%x bytes=%d\n", dataMagic, dataFormat, sum, body.Len())
	return append([]byte(header), body.Bytes()...), nil
}

// dataBody is the JSON that follows the data file's header.
type dataBody struct {
	Tenants map[string]map[string]json.RawMessage `json:"tenants"`
}

// decodeData checks and decodes a data file's content. Its errors say what
// is wrong and where, never quoting the content.
func decodeData(data []byte) (map[string]map[string][]byte, error) {
	if len(data) == 0 {
		return nil, &corruption{"is empty, which no mock server writes"}
	}

	header, body, ok := bytes.Cut(data, []byte("\n"))
	if !bytes.HasPrefix(header, []byte(dataMagic+" ")) || len(header) > headerLimit {
		return nil, &corruption{"is not a prefect-mockserver data file"}
	}
	if !ok {
		return nil, &corruption{"is cut short inside its header"}
	}

	sum, size, err := parseHeader(string(header))
	if err != nil {
		return nil, err
	}
	switch {
	case len(body) < size:
		return nil, &corruption{fmt.Sprintf("is cut short: its header announces %d bytes of data, but only %d follow", size, len(body))}
	case len(body) > size:
		return nil, &corruption{fmt.Sprintf("has %d unexpected bytes after its data", len(body)-size)}
	}
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, &corruption{"is damaged: its data does not match the checksum in its header"}
	}

	return decodeBody(body)
}

// parseHeader reads "prefect-mockserver data 1 sha256=HEX bytes=N".
func parseHeader(header string) (sum []byte, size int, err error) {
	fields := strings.Fields(strings.TrimPrefix(header, dataMagic))
	if len(fields) != 3 {
		return nil, 0, &corruption{"has a malformed header"}
	}
	if fields[0] != strconv.Itoa(dataFormat) {
		return nil, 0, &corruption{fmt.Sprintf("is in a format this server does not read (want %d)", dataFormat)}
	}

	hexSum, ok1 := strings.CutPrefix(fields[1], "sha256=")
	sizeText, ok2 := strings.CutPrefix(fields[2], "bytes=")
	sum, err1 := hex.DecodeString(hexSum)
	size, err2 := strconv.Atoi(sizeText)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || len(sum) != sha256.Size || size < 0 {
		return nil, 0, &corruption{"has a malformed header"}
	}
	return sum, size, nil
}

// decodeBody decodes and checks the data that follows the header. Its
// checksum matched, so a problem here is a file written by something else.
func decodeBody(body []byte) (map[string]map[string][]byte, error) {
	var db dataBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&db); err != nil || dec.More() || db.Tenants == nil {
		return nil, &corruption{"is damaged: its data is not a set of tenants and secrets"}
	}

	tenants := make(map[string]map[string][]byte, len(db.Tenants))
	for tenant, secrets := range db.Tenants {
		if err := checkTenant(tenant); err != nil {
			return nil, &corruption{"is damaged: " + err.Error()}
		}
		m := make(map[string][]byte, len(secrets))
		for name, value := range secrets {
			if err := checkNameLen(name, math.MaxInt); err != nil {
				return nil, &corruption{fmt.Sprintf("is damaged: in tenant %q, %v", tenant, err)}
			}
			if !json.Valid(value) {
				return nil, &corruption{fmt.Sprintf("is damaged: in tenant %q, a value is not valid JSON", tenant)}
			}
			m[name] = bytes.Clone(value)
		}
		tenants[tenant] = m
	}
	return tenants, nil
}

// writeAtomic replaces path with data: it writes a temporary file beside
// it, syncs it, renames it over path and syncs the directory, so that path
// holds either the old content or the new, whole, after any crash.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()

	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	return err
}

// removeStaleTemps removes the temporary files that saves cut off by a crash
// left beside path. Only the lock holder calls it, so none is in use.
func removeStaleTemps(path string) {
	dir, base := filepath.Dir(path), filepath.Base(path)+".tmp-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), base) && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// describePathError drops the path from an *fs.PathError about the data
// file itself, since every message it ends up in names the file already.
func describePathError(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Errorf("%s: %w", pathErr.Op, pathErr.Err)
	}
	return err
}

// notSaved is the answer to a change that could not be saved in the data
// file. The server's log says why; the client learns only that the change
// may not last, and may retry it.
func notSaved() *gqlerror.Error {
	return resolverError(codeInternal, "the change could not be saved in the data file; it may not last")
}
