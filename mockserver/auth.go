package mockserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// tokenEntry is one configured API token, kept only as its SHA-256 digest so
// that every comparison takes the same time whatever the token's length.
type tokenEntry struct {
	digest [sha256.Size]byte
	tenant string
}

// newTokens checks and digests the configured tokens. Its errors never
// include a token.
func newTokens(tokens map[string]string) ([]tokenEntry, error) {
	entries := make([]tokenEntry, 0, len(tokens))
	for token, tenant := range tokens {
		if err := checkToken(token); err != nil {
			return nil, fmt.Errorf("token for tenant %q: %w", tenant, err)
		}
		if err := checkTenant(tenant); err != nil {
			return nil, fmt.Errorf("a token's tenant: %w", err)
		}
		entries = append(entries, tokenEntry{digest: sha256.Sum256([]byte(token)), tenant: tenant})
	}
	return entries, nil
}

// checkToken reports why token cannot be sent as "Bearer TOKEN".
func checkToken(token string) error {
	if token == "" {
		return errors.New("token is empty")
	}
	if strings.ContainsFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return errors.New("token holds a space or control character")
	}
	return nil
}

// checkTenant reports why tenant cannot name a tenant.
func checkTenant(tenant string) error {
	if tenant == "" {
		return errors.New("tenant name is empty")
	}
	if strings.ContainsFunc(tenant, unicode.IsControl) {
		return errors.New("tenant name holds a control character")
	}
	return nil
}

// authenticate returns the tenant a request acts on. In open mode (no tokens)
// that is always DefaultTenant. Its error's text is the message to answer
// with: msgUnauthenticated or msgMalformedAuth.
func (s *Server) authenticate(r *http.Request) (string, error) {
	if len(s.tokens) == 0 {
		return DefaultTenant, nil
	}

	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", errors.New(msgUnauthenticated)
	}
	if len(values) > 1 {
		return "", errors.New(msgMalformedAuth)
	}

	token, ok := bearerToken(values[0])
	if !ok {
		return "", errors.New(msgMalformedAuth)
	}

	tenant, ok := s.lookupToken(token)
	if !ok {
		return "", errors.New(msgUnauthenticated)
	}
	return tenant, nil
}

// bearerToken takes the token out of an Authorization value of the form
// "Bearer TOKEN"; the scheme is matched without regard to case.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}

	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsFunc(token, unicode.IsSpace) {
		return "", false
	}
	return token, true
}

// lookupToken finds the tenant of token. It compares the token's digest with
// every configured digest, in constant time and without stopping at a match.
func (s *Server) lookupToken(token string) (string, bool) {
	digest := sha256.Sum256([]byte(token))
	match := -1
	for i := range s.tokens {
		eq := subtle.ConstantTimeCompare(digest[:], s.tokens[i].digest[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}

	if match < 0 {
		return "", false
	}
	return s.tokens[match].tenant, true
}

// tenantKey is the context key of the authenticated tenant.
type tenantKey struct{}

func withTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

// tenantFrom returns the tenant that authenticate put into ctx.
func tenantFrom(ctx context.Context) (string, bool) {
	tenant, ok := ctx.Value(tenantKey{}).(string)
	return tenant, ok
}

// authenticateAdmin checks a request to an admin endpoint. With an admin
// token configured, it must carry exactly that token; without one, any
// token authenticate takes will do. Its error's text is the message to
// answer with.
func (s *Server) authenticateAdmin(r *http.Request) error {
	if s.adminToken == nil {
		_, err := s.authenticate(r)
		return err
	}

	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return errors.New(msgUnauthenticated)
	}
	token, ok := bearerToken(values[0])
	if len(values) > 1 || !ok {
		return errors.New(msgMalformedAuth)
	}

	digest := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(digest[:], s.adminToken[:]) != 1 {
		return errors.New(msgUnauthenticated)
	}
	return nil
}
