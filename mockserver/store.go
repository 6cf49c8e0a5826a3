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
	changes uint64    // counts changes, so that a save knows which it covers
	file    *dataFile // where changes are saved (persist.go); nil: memory only
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

// set stores a copy of value under name in tenant. With a data file it
// returns once the change is saved, or with the error that kept it from
// being saved; the change is made in memory either way.
func (s *store) set(tenant, name string, value []byte) error {
	s.mu.Lock()
	secrets := s.tenants[tenant]
	if secrets == nil {
		secrets = make(map[string][]byte)
		s.tenants[tenant] = secrets
	}
	secrets[name] = slices.Clone(value)
	s.changes++
	change := s.changes
	s.mu.Unlock()

	return s.save(change)
}

// remove deletes name from tenant and reports whether it was there. With a
// data file it saves the change, like set.
func (s *store) remove(tenant, name string) (bool, error) {
	s.mu.Lock()
	secrets := s.tenants[tenant]
	if _, ok := secrets[name]; !ok {
		s.mu.Unlock()
		return false, nil
	}
	delete(secrets, name)
	s.changes++
	change := s.changes
	s.mu.Unlock()

	return true, s.save(change)
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
