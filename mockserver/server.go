package mockserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
)

// DefaultTenant is the tenant that [Options.Seed] fills, and the one every
// request acts on when [Options.Tokens] is empty.
const DefaultTenant = "default"

// Options configures a [Server].
type Options struct {
	// Tokens maps API token -> tenant name. Empty map = open mode: every request,
	// with or without any Authorization header, acts on DefaultTenant.
	Tokens map[string]string

	// AdminToken, when set, is the only token the admin endpoints
	// (/_mock/faults and /_mock/stats) accept, so that a tenant's API token
	// cannot change the fault plan or read the counts; it does not unlock
	// GraphQL, and must differ from every API token. When empty, the admin
	// endpoints take any API token, or none in open mode.
	AdminToken string

	// Seed holds secrets (name -> JSON value) stored for DefaultTenant at start.
	Seed map[string]json.RawMessage

	// MaxBodyBytes limits a request body; 0 means 1 MiB. Larger bodies get HTTP 413.
	MaxBodyBytes int64

	// MaxNameBytes, MaxValueBytes, MaxDepth, MaxComplexity and MaxQueryTokens
	// bound a secret's name and value and a query's nesting, complexity and
	// length (limit.go); 0 takes the matching Default constant, such as
	// [DefaultMaxValueBytes]. Going over one is a GraphQL error that says
	// which limit and by how much.
	MaxNameBytes   int
	MaxValueBytes  int
	MaxDepth       int
	MaxComplexity  int
	MaxQueryTokens int

	// DataFile, when set, keeps the secrets in this file too (persist.go):
	// every change is on disk before it is answered. An existing file is
	// read at start and Seed is then ignored; a missing one is created. A
	// damaged file is refused with [ErrCorruptDataFile]. The file is locked
	// until [Server.Close].
	DataFile string

	// Faults is the fault plan the server starts with (fault.go); the zero
	// value injects none. [Server.SetFaults] and POST /_mock/faults change it.
	Faults Faults

	// Logger receives one line per request (method, path, status, duration, tenant,
	// GraphQL operation name) — never variables, values, headers or tokens. nil = silent.
	Logger *slog.Logger
}

// Server is an in-memory Prefect Cloud secrets API. It is safe for
// concurrent use; create one with [New].
type Server struct {
	store   *store
	tokens  []tokenEntry
	maxBody int64
	limits  limits
	logger  *slog.Logger
	handler http.Handler

	adminToken *[sha256.Size]byte // digest of Options.AdminToken; nil for none

	faults   *injector
	counters counters // requests, faults and connections, for Stats

	closing   chan struct{} // closed by Close, to cut latency faults short
	closeOnce sync.Once
}

// New returns a Server configured by opts, or an error if a token, tenant,
// seed name or seed value is unusable. Its errors never include a token or a
// secret value.
func New(opts Options) (*Server, error) {
	tokens, err := newTokens(opts.Tokens)
	if err != nil {
		return nil, err
	}

	adminToken, err := newAdminToken(opts.AdminToken, opts.Tokens)
	if err != nil {
		return nil, err
	}

	if opts.MaxBodyBytes < 0 {
		return nil, errors.New("MaxBodyBytes is negative")
	}
	maxBody := opts.MaxBodyBytes
	if maxBody == 0 {
		maxBody = defaultMaxBodyBytes
	}

	lim, err := newLimits(opts)
	if err != nil {
		return nil, err
	}

	faults, err := newInjector(opts.Faults)
	if err != nil {
		return nil, err
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	s := &Server{
		store:   newStore(),
		tokens:  tokens,
		maxBody: maxBody,
		limits:  lim,
		logger:  logger,
		faults:  faults,

		adminToken: adminToken,
		closing:    make(chan struct{}),
	}
	if err := s.seed(opts.Seed); err != nil {
		return nil, err
	}
	if opts.DataFile != "" {
		if err := s.useDataFile(opts.DataFile); err != nil {
			return nil, err
		}
	}
	s.handler = s.newHandler()
	return s, nil
}

// newAdminToken checks and digests the admin token; nil for none. Its
// errors never include a token.
func newAdminToken(token string, apiTokens map[string]string) (*[sha256.Size]byte, error) {
	if token == "" {
		return nil, nil
	}
	if err := checkToken(token); err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	if _, ok := apiTokens[token]; ok {
		return nil, errors.New("admin token is also an API token; give the admin endpoints a token of their own")
	}
	digest := sha256.Sum256([]byte(token))
	return &digest, nil
}

// seed stores the seed secrets in DefaultTenant, in name order so that the
// first bad name reported is always the same one.
func (s *Server) seed(secrets map[string]json.RawMessage) error {
	for _, name := range slices.Sorted(maps.Keys(secrets)) {
		if err := s.limits.checkName(name); err != nil {
			return fmt.Errorf("seed secret %q: %w", name, err)
		}
		value, err := compactValue(secrets[name])
		if err == nil {
			err = s.limits.checkValue(value)
		}
		if err != nil {
			return fmt.Errorf("seed secret %q: %w", name, err)
		}
		if err := s.store.set(DefaultTenant, name, value); err != nil {
			return err
		}
	}
	return nil
}

// Handler returns the whole HTTP API: GraphQL on POST /, /graphql and
// /graphql/alpha, and GET /healthz. Every call returns the same handler.
func (s *Server) Handler() http.Handler {
	return s.handler
}

// SetSecret stores value under name in tenant, replacing any earlier value,
// for setting up a test. A nil or empty value stores JSON null.
//
// SetSecret panics if name is not a valid secret name or value is not valid
// JSON: both are mistakes in the calling test, and the method has no error
// to return. With a data file it also panics if the change cannot be saved.
func (s *Server) SetSecret(tenant, name string, value json.RawMessage) {
	if err := s.limits.checkName(name); err != nil {
		panic("mockserver: SetSecret: " + err.Error())
	}
	compact, err := compactValue(value)
	if err != nil {
		panic(fmt.Sprintf("mockserver: SetSecret %q: %v", name, err))
	}
	if err := s.store.set(tenant, name, compact); err != nil {
		panic(fmt.Sprintf("mockserver: SetSecret %q: %v", name, err))
	}
}

// Secret returns the value stored under name in tenant, and whether there is
// one. A secret set to null is found and its value is the JSON null.
func (s *Server) Secret(tenant, name string) (json.RawMessage, bool) {
	value, ok := s.store.get(tenant, name)
	return json.RawMessage(value), ok
}

// SecretNames returns the names of tenant's secrets, sorted; an empty, non-nil
// slice when there are none.
func (s *Server) SecretNames(tenant string) []string {
	return s.store.names(tenant)
}

// compactValue returns the compact encoding of a JSON value; nil and empty
// become null. Its error never quotes the value.
func compactValue(value json.RawMessage) ([]byte, error) {
	if len(bytes.TrimSpace(value)) == 0 {
		return []byte("null"), nil
	}

	var buf bytes.Buffer
	if err := json.Compact(&buf, value); err != nil {
		return nil, errors.New("value is not valid JSON")
	}
	return buf.Bytes(), nil
}
