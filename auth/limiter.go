package auth

import (
	"sync"
	"time"
)

// loginLimiter counts failed logins per email+IP and per IP in token buckets that refill over a
// minute. Only failures spend tokens, so a customer who types the password right is never slowed;
// once a bucket is empty every attempt on it is refused until it refills.
type loginLimiter struct {
	mu       sync.Mutex
	perEmail int
	perIP    int
	buckets  map[string]*bucket
}

// bucket is a token bucket holding at most size tokens and refilling size tokens a minute.
type bucket struct {
	tokens float64
	size   float64
	at     time.Time
}

func (b *bucket) fill(now time.Time) {
	b.tokens = min(b.size, b.tokens+now.Sub(b.at).Minutes()*b.size)
	b.at = now
}

func newLoginLimiter(perEmail, perIP int) *loginLimiter {
	return &loginLimiter{perEmail: perEmail, perIP: perIP, buckets: map[string]*bucket{}}
}

func (l *loginLimiter) bucket(key string, n int, now time.Time) *bucket {
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(n), size: float64(n), at: now}
		l.buckets[key] = b
	}
	b.fill(now)
	return b
}

func (l *loginLimiter) keys(email, ip string) (emailKey, ipKey string) {
	return "e\x00" + email + "\x00" + ip, "i\x00" + ip
}

// reserve takes one token from both buckets at once, or none when either is empty, so that
// attempts running in parallel cannot all pass the check before any failure is counted. The
// caller gives the tokens back with release when the attempt turns out not to be a failure.
func (l *loginLimiter) reserve(email, ip string) (release func(), ok bool) {
	ek, ik := l.keys(email, ip)
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	eb, ib := l.bucket(ek, l.perEmail, now), l.bucket(ik, l.perIP, now)
	if eb.tokens < 1 || ib.tokens < 1 {
		return nil, false
	}
	eb.tokens--
	ib.tokens--
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		// The buckets may have been swept meanwhile; then they are full already.
		for _, b := range []*bucket{eb, ib} {
			b.tokens = min(b.size, b.tokens+1)
		}
	}, true
}

// sweep forgets buckets that have refilled: they hold no information.
func (l *loginLimiter) sweep() {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if b.fill(now); b.tokens >= b.size {
			delete(l.buckets, k)
		}
	}
}
