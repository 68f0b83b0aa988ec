// Package memo remembers the results of a computation for the few keys a server sees again and
// again (a storefront sends a handful of GraphQL documents), within a bound.
package memo

import "sync"

// Memo remembers the values of up to a bounded number of keys and forgets them all when full: no
// bookkeeping per use, and a client sending new keys can at worst make it compute each one once.
// It is safe for concurrent use.
type Memo[K comparable, V any] struct {
	max int

	mu     sync.RWMutex
	values map[K]V
}

// New returns a Memo of at most max keys.
func New[K comparable, V any](max int) *Memo[K, V] {
	return &Memo[K, V]{max: max, values: map[K]V{}}
}

// Get returns the value remembered for key, or computes it (outside the lock: two callers may
// both compute a new key) and remembers it.
func (m *Memo[K, V]) Get(key K, compute func() V) V {
	m.mu.RLock()
	v, ok := m.values[key]
	m.mu.RUnlock()
	if ok {
		return v
	}
	v = compute()
	m.mu.Lock()
	if len(m.values) >= m.max {
		clear(m.values)
	}
	m.values[key] = v
	m.mu.Unlock()
	return v
}

// Len is how many keys are remembered.
func (m *Memo[K, V]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.values)
}
