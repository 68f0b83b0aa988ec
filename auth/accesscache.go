package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// accessCache remembers access tokens that verified, by the SHA-256 of their bytes, so that a
// storefront presenting the same access token on every request pays for the signature check and
// the claim decoding once, not on every request (they were 60% of an authenticated read).
//
// Only what the token's bytes decide is remembered. What can change is checked again on every
// hit: the time (exp, nbf, iat with the leeway, exactly as verify checks them), and the key ring,
// because replacing the ring's keys empties the cache. The session is still read from the
// database on every request. Tokens without a kid (Shopsys-issued) are not cached.
type accessCache struct {
	mu sync.Mutex
	// Two generations bound the memory: when cur is full it becomes old, and old is dropped.
	cur, old map[[sha256.Size]byte]*accessEntry
	// epoch counts resets, so that a token verified against a ring that has since been replaced
	// is not remembered.
	epoch uint64
}

// accessCacheGeneration is how many tokens a generation holds (about 1 KiB each).
const accessCacheGeneration = 2048

type accessEntry struct {
	v             *verified
	claims        accessClaims
	notBefore     time.Time // zero when the token has no nbf
	issued, until time.Time
}

func (c *accessCache) get(key [sha256.Size]byte) *accessEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.cur[key]; e != nil {
		return e
	}
	e := c.old[key]
	if e != nil {
		c.putLocked(key, e)
	}
	return e
}

// current returns the epoch to pass to put for a token about to be verified.
func (c *accessCache) current() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

func (c *accessCache) put(key [sha256.Size]byte, e *accessEntry, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch == c.epoch {
		c.putLocked(key, e)
	}
}

func (c *accessCache) putLocked(key [sha256.Size]byte, e *accessEntry) {
	if c.cur == nil || len(c.cur) >= accessCacheGeneration {
		c.old, c.cur = c.cur, make(map[[sha256.Size]byte]*accessEntry)
	}
	c.cur[key] = e
}

// reset forgets every token (the key ring changed).
func (c *accessCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur, c.old = nil, nil
	c.epoch++
}

// timely applies verify's time checks to a remembered token.
func (e *accessEntry) timely(now time.Time, leeway time.Duration) bool {
	if !e.notBefore.IsZero() && now.Add(leeway).Before(e.notBefore) {
		return false
	}
	if now.Add(-leeway).After(e.until) || !now.Before(e.until.Add(leeway)) {
		return false
	}
	return !now.Add(leeway).Before(e.issued)
}
