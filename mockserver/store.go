package mockserver

import (
	"slices"
	"sync"
)

// store holds every tenant's secrets as compact JSON encodings. It is safe
// for concurrent use, and it copies values on the way in and out so that no
// caller can change a stored value behind its lock.
type store struct {
	mu      sync.RWMutex
	tenants map[string]map[string][]byte
}

func newStore() *store {
	return &store{tenants: make(map[string]map[string][]byte)}
}

// get returns a copy of the value of name in tenant.
func (s *store) get(tenant, name string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()

	v, ok := s.tenants[tenant][name]
	return slices.Clone(v), ok
}

// set stores a copy of value under name in tenant.
func (s *store) set(tenant, name string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()

	secrets := s.tenants[tenant]
	if secrets == nil {
		secrets = make(map[string][]byte)
		s.tenants[tenant] = secrets
	}
	secrets[name] = slices.Clone(value)
}

// remove deletes name from tenant and reports whether it was there.
func (s *store) remove(tenant, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	secrets := s.tenants[tenant]
	if _, ok := secrets[name]; !ok {
		return false
	}
	delete(secrets, name)
	return true
}

// names returns the sorted names of tenant's secrets; never nil.
func (s *store) names(tenant string) []string {
	s.mu.RLock()
	secrets := s.tenants[tenant]
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	s.mu.RUnlock()

	slices.Sort(names)
	return names
}
