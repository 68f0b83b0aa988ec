package auth

import (
	"container/list"
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"
)

// Limit is one budget an attempt draws on: at most PerMinute failures in any minute under Key.
// Keys are built by this package (see throttleKeys); a store may hash them.
type Limit struct {
	Key       string
	PerMinute int
}

// ErrThrottled is what Throttle.Begin answers when a budget is spent: the caller refuses the
// attempt with too-many-login-attempts.
var ErrThrottled = errors.New("throttled")

// Throttle counts failed password checks (and other attempts that must stay rare) against budgets
// per minute. Only failures count: an attempt that turns out right gives nothing up, so a customer
// who types the password right is never refused, however many devices log in at once.
//
// Begin admits an attempt that draws on every limit, or answers ErrThrottled when one of them has
// had PerMinute failures in the last minute. Attempts that could overspend a budget if they all
// failed (more in flight than failures left) wait for the ones ahead to end instead of being
// refused, so parallel guesses never get more checks than the budget and parallel right answers
// all get through. end must be called exactly once with the outcome; a failure is counted at now.
// A throttle shared by several processes (PostgreSQL) makes the limits hold for the deployment.
//
// Sweep forgets what no longer matters at now (failures older than a minute).
type Throttle interface {
	Begin(ctx context.Context, now time.Time, limits ...Limit) (end func(failed bool), err error)
	Sweep(ctx context.Context, now time.Time) error
}

// throttleWindow is how long a failure counts.
const throttleWindow = time.Minute

// DefaultThrottleKeys bounds the in-memory throttle: at most this many keys are remembered (about
// 16 MiB at the worst key length), so a stream of unique emails or addresses cannot grow the heap.
const DefaultThrottleKeys = 1 << 15

// MemoryThrottle is the Throttle of a single process: budgets live in a map of at most maxKeys
// entries, the least recently used idle one making room for a new one.
type MemoryThrottle struct {
	mu      sync.Mutex
	maxKeys int
	keys    map[string]*list.Element // of *throttleBucket
	lru     list.List                // front: most recently used
}

// throttleBucket is one key's state: when its recent failures happened (oldest first, at most its
// limit of them) and how many admitted attempts are still running.
type throttleBucket struct {
	key      string
	failures []time.Time
	inflight int
	// wake is closed (and replaced) whenever an attempt under this key ends.
	wake chan struct{}
}

// NewMemoryThrottle returns an in-memory throttle remembering at most maxKeys keys.
func NewMemoryThrottle(maxKeys int) *MemoryThrottle {
	if maxKeys < 1 {
		maxKeys = DefaultThrottleKeys
	}
	return &MemoryThrottle{maxKeys: maxKeys, keys: map[string]*list.Element{}}
}

// Len is how many keys the throttle remembers.
func (t *MemoryThrottle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

// recent drops failures older than the window at now and returns how many are left.
func (b *throttleBucket) recent(now time.Time) int {
	cut := now.Add(-throttleWindow)
	i := 0
	for i < len(b.failures) && !b.failures[i].After(cut) {
		i++
	}
	if i > 0 {
		b.failures = append(b.failures[:0], b.failures[i:]...)
	}
	return len(b.failures)
}

// Begin implements Throttle.
func (t *MemoryThrottle) Begin(ctx context.Context, now time.Time, limits ...Limit) (func(failed bool), error) {
	for {
		wait, end, err := t.try(now, limits)
		if wait == nil {
			return end, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// try admits the attempt, refuses it, or returns a channel to wait on before trying again. Nothing
// is created for an attempt that is refused or has to wait, so a spent address costs no memory.
func (t *MemoryThrottle) try(now time.Time, limits []Limit) (wait <-chan struct{}, end func(bool), err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range limits {
		if e, ok := t.keys[l.Key]; ok && e.Value.(*throttleBucket).recent(now) >= l.PerMinute {
			return nil, nil, ErrThrottled
		}
	}
	for _, l := range limits {
		if e, ok := t.keys[l.Key]; ok {
			if b := e.Value.(*throttleBucket); len(b.failures)+b.inflight >= l.PerMinute {
				// If everything in flight failed the budget would be spent: wait for an outcome.
				return b.wake, nil, nil
			}
		}
	}
	buckets := make([]*throttleBucket, len(limits))
	for i, l := range limits {
		b := t.bucket(l.Key)
		if b == nil {
			// Every remembered key has an attempt running: the server is flooded.
			for _, made := range buckets[:i] {
				made.inflight--
			}
			return nil, nil, ErrThrottled
		}
		b.inflight++
		buckets[i] = b
	}
	var once sync.Once
	return nil, func(failed bool) {
		once.Do(func() { t.end(buckets, limits, now, failed) })
	}, nil
}

// bucket returns key's bucket, making it (and room for it) if needed; nil when no room can be made.
func (t *MemoryThrottle) bucket(key string) *throttleBucket {
	if e, ok := t.keys[key]; ok {
		t.lru.MoveToFront(e)
		return e.Value.(*throttleBucket)
	}
	if len(t.keys) >= t.maxKeys && !t.evict() {
		return nil
	}
	b := &throttleBucket{key: key, wake: make(chan struct{})}
	t.keys[key] = t.lru.PushFront(b)
	return b
}

// evict forgets the least recently used key that has no attempt running.
func (t *MemoryThrottle) evict() bool {
	for e := t.lru.Back(); e != nil; e = e.Prev() {
		if b := e.Value.(*throttleBucket); b.inflight == 0 {
			t.lru.Remove(e)
			delete(t.keys, b.key)
			return true
		}
	}
	return false
}

func (t *MemoryThrottle) end(buckets []*throttleBucket, limits []Limit, at time.Time, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, b := range buckets {
		b.inflight--
		if failed {
			b.failures = append(b.failures, at)
			if over := len(b.failures) - limits[i].PerMinute; over > 0 {
				// Only the newest PerMinute failures can ever matter.
				b.failures = append(b.failures[:0], b.failures[over:]...)
			}
		}
		close(b.wake)
		b.wake = make(chan struct{})
	}
}

// Sweep implements Throttle: keys with no recent failure and nothing running are forgotten.
func (t *MemoryThrottle) Sweep(_ context.Context, now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for e := t.lru.Front(); e != nil; {
		next := e.Next()
		if b := e.Value.(*throttleBucket); b.inflight == 0 && b.recent(now) == 0 {
			t.lru.Remove(e)
			delete(t.keys, b.key)
		}
		e = next
	}
	return nil
}

// addressKey is the part of a throttle key that names the client's address. An IPv6 client is
// counted by its /64, which one subscriber usually holds whole, so that rotating through it buys
// no fresh budgets.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
