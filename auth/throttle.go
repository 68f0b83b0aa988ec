package auth

import (
	"container/list"
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"
)

// Limit is one budget an attempt draws on: at most Max failures within any Window under Key.
// Keys are built by this package (see throttleKeys); a store may hash them. One key always comes
// with the same Max and Window.
type Limit struct {
	Key string
	Max int
	// Window is how long a failure counts; zero means a minute.
	Window time.Duration
}

// Span is how long a failure counts against l.
func (l Limit) Span() time.Duration {
	if l.Window <= 0 {
		return throttleWindow
	}
	return l.Window
}

// ErrThrottled is what Throttle.Begin answers when a budget is spent: the caller refuses the
// attempt with too-many-login-attempts.
var ErrThrottled = errors.New("throttled")

// Throttle counts failed password checks (and other attempts that must stay rare) against budgets
// over a sliding window. Only failures count: an attempt that turns out right gives nothing up, so
// a customer who types the password right is never refused, however many devices log in at once.
//
// Begin admits an attempt that draws on every limit, or answers ErrThrottled when one of them has
// had Max failures within its Window. Attempts that could overspend a budget if they all failed
// (more in flight than failures left) wait for the ones ahead to end instead of being refused, so
// parallel guesses never get more checks than the budget and parallel right answers all get
// through. end must be called exactly once with the outcome; a failure is counted at now. A
// throttle shared by several processes (PostgreSQL) makes the limits hold for the deployment.
//
// A spent budget is never forgotten before its window is over, whatever else arrives: a throttle
// with bounded memory refuses attempts that need a new key rather than drop a live one.
//
// Sweep forgets what no longer matters at now (failures older than their window).
type Throttle interface {
	Begin(ctx context.Context, now time.Time, limits ...Limit) (end func(failed bool), err error)
	Sweep(ctx context.Context, now time.Time) error
}

// throttleWindow is how long a failure counts when a Limit does not say.
const throttleWindow = time.Minute

// DefaultThrottleKeys bounds the in-memory throttle: at most this many keys are remembered (about
// 16 MiB at the worst key length), so a stream of unique emails or addresses cannot grow the heap.
const DefaultThrottleKeys = 1 << 15

// MemoryThrottle is the Throttle of a single process: budgets live in a map of at most maxKeys
// entries. A new key takes the place of one that holds nothing (no failure within its window, no
// attempt running); when every key holds something, attempts that need a new key are refused
// until one frees up. So a flood of unique keys can refuse newcomers for a window, but never
// makes the throttle forget a budget someone spent, which evicting it would (36k keys in 32 s
// once did).
type MemoryThrottle struct {
	mu      sync.Mutex
	maxKeys int
	keys    map[string]*list.Element // of *throttleBucket
	lru     list.List                // front: most recently used
	// fullUntil, when the map is full and no key could be dropped, is the earliest moment one of
	// the idle keys can; keys with attempts running lower it when they end. Until then a new key
	// is refused at once instead of searching the whole map again.
	fullUntil time.Time
}

// throttleBucket is one key's state: when its recent failures happened (oldest first, at most its
// limit of them), how long they count and how many admitted attempts are still running.
type throttleBucket struct {
	key      string
	window   time.Duration
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

// recent drops failures that have left the window at now and returns how many are left.
func (b *throttleBucket) recent(now time.Time) int {
	cut := now.Add(-b.window)
	i := 0
	for i < len(b.failures) && !b.failures[i].After(cut) {
		i++
	}
	if i > 0 {
		b.failures = append(b.failures[:0], b.failures[i:]...)
	}
	return len(b.failures)
}

// freeAt is when an idle bucket stops holding anything: its newest failure leaves the window.
func (b *throttleBucket) freeAt() time.Time {
	if len(b.failures) == 0 {
		return time.Time{}
	}
	return b.failures[len(b.failures)-1].Add(b.window)
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
		if e, ok := t.keys[l.Key]; ok {
			b := e.Value.(*throttleBucket)
			b.window = l.Span()
			if b.recent(now) >= l.Max {
				return nil, nil, ErrThrottled
			}
		}
	}
	for _, l := range limits {
		if e, ok := t.keys[l.Key]; ok {
			if b := e.Value.(*throttleBucket); len(b.failures)+b.inflight >= l.Max {
				// If everything in flight failed the budget would be spent: wait for an outcome.
				return b.wake, nil, nil
			}
		}
	}
	buckets := make([]*throttleBucket, len(limits))
	for i, l := range limits {
		b := t.bucket(now, l)
		if b == nil {
			// Every remembered key holds a live budget or a running attempt: the server is
			// flooded, and newcomers wait outside rather than push a spent budget out.
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

// bucket returns l's bucket, making it (and room for it) if needed; nil when no room can be made.
func (t *MemoryThrottle) bucket(now time.Time, l Limit) *throttleBucket {
	if e, ok := t.keys[l.Key]; ok {
		t.lru.MoveToFront(e)
		return e.Value.(*throttleBucket)
	}
	if len(t.keys) >= t.maxKeys && !t.evict(now) {
		return nil
	}
	b := &throttleBucket{key: l.Key, window: l.Span(), wake: make(chan struct{})}
	t.keys[l.Key] = t.lru.PushFront(b)
	return b
}

// evict forgets one key that holds nothing at now, the least recently used first. A key with a
// failure still in its window or an attempt running is never forgotten.
func (t *MemoryThrottle) evict(now time.Time) bool {
	if now.Before(t.fullUntil) {
		return false
	}
	var next time.Time // the earliest moment an idle key frees up
	for e := t.lru.Back(); e != nil; e = e.Prev() {
		b := e.Value.(*throttleBucket)
		if b.inflight > 0 {
			continue // it lowers fullUntil when it ends
		}
		if b.recent(now) == 0 {
			t.lru.Remove(e)
			delete(t.keys, b.key)
			return true
		}
		if at := b.freeAt(); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	t.fullUntil = next
	if next.IsZero() {
		// Every key has an attempt running; the first to end makes room.
		t.fullUntil = now.Add(throttleWindow)
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
			if over := len(b.failures) - limits[i].Max; over > 0 {
				// Only the newest Max failures can ever matter.
				b.failures = append(b.failures[:0], b.failures[over:]...)
			}
		}
		if b.inflight == 0 {
			if free := b.freeAt(); free.Before(t.fullUntil) {
				t.fullUntil = free
			}
		}
		close(b.wake)
		b.wake = make(chan struct{})
	}
}

// Sweep implements Throttle: keys with no failure within their window and nothing running are
// forgotten.
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
	t.fullUntil = time.Time{}
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
