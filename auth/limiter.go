package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// loginLimiter counts failed logins per email+IP and per IP in token buckets that refill over a
// minute. Only failures spend tokens, so a customer who types the password right is never slowed;
// once a bucket is empty every attempt on it is refused until it refills.
type loginLimiter struct {
	mu       sync.Mutex
	perEmail int
	perIP    int
	buckets  map[string]*rate.Limiter
}

func newLoginLimiter(perEmail, perIP int) *loginLimiter {
	return &loginLimiter{perEmail: perEmail, perIP: perIP, buckets: map[string]*rate.Limiter{}}
}

func (l *loginLimiter) bucket(key string, n int) *rate.Limiter {
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Limit(float64(n)/60), n)
		l.buckets[key] = b
	}
	return b
}

func (l *loginLimiter) keys(email, ip string) (emailKey, ipKey string) {
	return "e\x00" + email + "\x00" + ip, "i\x00" + ip
}

// allowed reports whether another attempt may be made now.
func (l *loginLimiter) allowed(email, ip string) bool {
	ek, ik := l.keys(email, ip)
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bucket(ek, l.perEmail).TokensAt(now) >= 1 && l.bucket(ik, l.perIP).TokensAt(now) >= 1
}

// failed spends one token of each bucket.
func (l *loginLimiter) failed(email, ip string) {
	ek, ik := l.keys(email, ip)
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(ek, l.perEmail).AllowN(now, 1)
	l.bucket(ik, l.perIP).AllowN(now, 1)
}

// sweep forgets buckets that have refilled: they hold no information.
func (l *loginLimiter) sweep() {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.buckets, k)
		}
	}
}
