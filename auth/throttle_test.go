package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// attempt runs one attempt under the login limits of email from ip and ends it with the outcome;
// it reports whether the attempt was admitted.
func attempt(th Throttle, cfg Config, now time.Time, email, ip string, failed bool) bool {
	end, err := th.Begin(context.Background(), now, loginLimits(cfg, email, ip)...)
	if err != nil {
		return false
	}
	end(failed)
	return true
}

func TestMemoryThrottleBudgets(t *testing.T) {
	tests := []struct {
		name        string
		perEmail    int
		perIP       int
		failures    []string // emails failing from ip 10.0.0.1, in order
		email, ip   string
		wantAllowed bool
	}{
		{"fresh email", 5, 100, nil, "a@x.cz", "10.0.0.1", true},
		{"four failures leave one try", 5, 100, []string{"a@x.cz", "a@x.cz", "a@x.cz", "a@x.cz"}, "a@x.cz", "10.0.0.1", true},
		{"five failures lock the email from that IP", 5, 100, []string{"a@x.cz", "a@x.cz", "a@x.cz", "a@x.cz", "a@x.cz"}, "a@x.cz", "10.0.0.1", false},
		{"the same email from another IP is not locked", 5, 100, []string{"a@x.cz", "a@x.cz", "a@x.cz", "a@x.cz", "a@x.cz"}, "a@x.cz", "10.0.0.2", true},
		{"another email from the IP is not locked", 5, 100, []string{"a@x.cz", "a@x.cz", "a@x.cz", "a@x.cz", "a@x.cz"}, "b@x.cz", "10.0.0.1", true},
		{"the IP budget spans emails", 5, 3, []string{"a@x.cz", "b@x.cz", "c@x.cz"}, "d@x.cz", "10.0.0.1", false},
		{"the IP budget is per IP", 5, 3, []string{"a@x.cz", "b@x.cz", "c@x.cz"}, "d@x.cz", "10.0.0.2", true},
		{"a configured per-email limit", 2, 100, []string{"a@x.cz", "a@x.cz"}, "a@x.cz", "10.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{LoginFailuresPerEmail: tt.perEmail, LoginFailuresPerIP: tt.perIP}
			th := NewMemoryThrottle(100)
			for _, e := range tt.failures {
				if !attempt(th, cfg, t0, e, "10.0.0.1", true) {
					t.Fatalf("attempt for %s refused before its budget was spent", e)
				}
			}
			if got := attempt(th, cfg, t0, tt.email, tt.ip, false); got != tt.wantAllowed {
				t.Errorf("attempt(%s, %s) admitted = %v, want %v", tt.email, tt.ip, got, tt.wantAllowed)
			}
		})
	}
}

func TestMemoryThrottleSuccessSpendsNothing(t *testing.T) {
	cfg := DefaultConfig()
	th := NewMemoryThrottle(100)
	for i := range 200 {
		if !attempt(th, cfg, t0, "a@x.cz", "10.0.0.1", false) {
			t.Fatalf("successful attempt %d was throttled", i)
		}
	}
}

// TestMemoryThrottleWindow: a failure counts for one minute, on the clock the caller passes.
func TestMemoryThrottleWindow(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		at   time.Duration
		want bool
	}{
		{0, false},
		{59 * time.Second, false}, // five failures within the minute
		{60*time.Second - time.Nanosecond, false}, // the first is not yet a minute old
		{60 * time.Second, true},                  // the first has left the window
		{10 * time.Minute, true},                  // long after
		{-time.Hour, false},                       // a clock set back: the failures still count
	}
	for _, tt := range tests {
		th := NewMemoryThrottle(100)
		for i := range 5 {
			attempt(th, cfg, t0.Add(time.Duration(i)*time.Millisecond), "a@x.cz", "10.0.0.1", true)
		}
		if got := attempt(th, cfg, t0.Add(tt.at), "a@x.cz", "10.0.0.1", false); got != tt.want {
			t.Errorf("at +%v: admitted %v, want %v", tt.at, got, tt.want)
		}
	}
}

// TestMemoryThrottleParallel: attempts in flight at once are admitted only as far as their
// failures could be afforded; the rest wait for an outcome instead of being refused.
func TestMemoryThrottleParallel(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		emails       int  // distinct emails, one address
		failed       bool // every attempt's outcome
		wantAdmitted int
	}{
		{"20 wrong guesses of one email get 5 checks", 20, 1, true, 5},
		{"12 right logins of one customer all run", 12, 1, false, 12},
		{"30 customers from one address all run", 30, 30, false, 30},
		{"30 wrong guesses over 30 emails: the address allows 100", 30, 30, true, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			th := NewMemoryThrottle(1000)
			var wg sync.WaitGroup
			var mu sync.Mutex
			admitted, refused := 0, 0
			start := make(chan struct{})
			for i := range tt.n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					end, err := th.Begin(context.Background(), t0, loginLimits(cfg, fmt.Sprintf("c%d@x.cz", i%tt.emails), "10.0.0.1")...)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						if !errors.Is(err, ErrThrottled) {
							t.Errorf("Begin: %v", err)
						}
						refused++
						return
					}
					admitted++
					end(tt.failed)
				}()
			}
			close(start)
			wg.Wait()
			if admitted != tt.wantAdmitted || admitted+refused != tt.n {
				t.Errorf("admitted %d, refused %d; want %d admitted of %d", admitted, refused, tt.wantAdmitted, tt.n)
			}
		})
	}
}

func TestMemoryThrottleWaitEndsWithContext(t *testing.T) {
	th := NewMemoryThrottle(10)
	l := Limit{Key: "k", Max: 1}
	end, err := th.Begin(context.Background(), t0, l)
	if err != nil {
		t.Fatal(err)
	}
	defer end(false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := th.Begin(ctx, t0, l); !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiting attempt whose request ended: %v, want context.Canceled", err)
	}
}

// TestMemoryThrottleBounded: a stream of unique emails and addresses never makes the throttle
// remember more than its bound, and an address whose budget is spent makes no key at all.
func TestMemoryThrottleBounded(t *testing.T) {
	cfg := DefaultConfig()
	const bound = 1000
	th := NewMemoryThrottle(bound)
	for i := range 50 * bound {
		attempt(th, cfg, t0, fmt.Sprintf("u%d@x.cz", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), true)
		if n := th.Len(); n > bound {
			t.Fatalf("after %d unique attempts the throttle holds %d keys, bound %d", i+1, n, bound)
		}
	}

	th = NewMemoryThrottle(bound)
	cfg.LoginFailuresPerIP = 3
	for i := range 3 {
		attempt(th, cfg, t0, fmt.Sprintf("u%d@x.cz", i), "10.0.0.1", true)
	}
	before := th.Len()
	for i := range 100 {
		if attempt(th, cfg, t0, fmt.Sprintf("new%d@x.cz", i), "10.0.0.1", true) {
			t.Fatal("an attempt from a spent address was admitted")
		}
	}
	if th.Len() != before {
		t.Fatalf("refused attempts from a spent address made %d keys", th.Len()-before)
	}

	// An IPv6 client is one budget per /64.
	th = NewMemoryThrottle(bound)
	for i := range 3 {
		attempt(th, cfg, t0, "a@x.cz", fmt.Sprintf("2001:db8::%x", i+1), true)
	}
	if attempt(th, cfg, t0, "b@x.cz", "2001:db8::ffff:1", false) {
		t.Error("another address in the same /64 got a fresh budget")
	}
	if !attempt(th, cfg, t0, "b@x.cz", "2001:db8:0:1::1", false) {
		t.Error("the next /64 was refused")
	}
}

// TestMemoryThrottleNeverForgetsSpentBudget: however many other keys arrive, a budget spent within
// its window stays spent (36k unique keys in 32 s once pushed one out of the LRU); the bound holds
// by refusing newcomers while every key holds a live budget, and only while it does.
func TestMemoryThrottleNeverForgetsSpentBudget(t *testing.T) {
	cfg := DefaultConfig()
	victim := func(th Throttle, at time.Duration) bool {
		return attempt(th, cfg, t0.Add(at), "victim@x.cz", "192.0.2.1", false)
	}
	mails := Limit{Key: "recovery-mail\x00victim", Max: 3, Window: 15 * time.Minute}
	tests := []struct {
		name       string
		maxKeys    int
		flood      int
		floodFails bool
		at         time.Duration // when the flood and the check happen
		wantVictim bool          // the victim's attempt at `at`, after the flood
		wantMails  bool          // a fourth mail at `at`, after the flood
		wantFlood  int           // flood attempts admitted
	}{
		// The victim holds 3 keys (its address, its email, its mails); the rest is the flood's.
		{"36k failing keys within the minute (default size)", DefaultThrottleKeys, 36_000, true, 30 * time.Second, false, false, DefaultThrottleKeys - 3},
		{"keys that hold nothing make room for each other", 100, 5_000, false, 30 * time.Second, false, false, 5_000},
		{"after the victim's minute, the 15-minute budget still holds", 100, 5_000, false, 2 * time.Minute, true, false, 5_000},
		{"after 15 minutes everything is back", 100, 5_000, false, 16 * time.Minute, true, true, 5_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewMemoryThrottle(tt.maxKeys)
			for range cfg.LoginFailuresPerEmail {
				attempt(th, cfg, t0, "victim@x.cz", "192.0.2.1", true) // 2 keys: the address and the email
			}
			for range 3 {
				end, err := th.Begin(context.Background(), t0, mails)
				if err != nil {
					t.Fatal(err)
				}
				end(true)
			}
			if victim(th, time.Second) {
				t.Fatal("the victim's budget was not spent to begin with")
			}
			admitted := 0
			for i := range tt.flood {
				// One key per attempt: the address's own budget is never spent.
				l := Limit{Key: fmt.Sprintf("ip\x00flood%d", i), Max: 100}
				end, err := th.Begin(context.Background(), t0.Add(tt.at), l)
				if err == nil {
					admitted++
					end(tt.floodFails)
				}
				if n := th.Len(); n > tt.maxKeys {
					t.Fatalf("%d keys remembered, bound %d", n, tt.maxKeys)
				}
			}
			if admitted != tt.wantFlood {
				t.Errorf("flood: %d admitted, want %d", admitted, tt.wantFlood)
			}
			if got := victim(th, tt.at); got != tt.wantVictim {
				t.Errorf("the victim's login after the flood admitted = %v, want %v", got, tt.wantVictim)
			}
			end, err := th.Begin(context.Background(), t0.Add(tt.at), mails)
			if got := err == nil; got != tt.wantMails {
				t.Errorf("a fourth recovery mail after the flood admitted = %v, want %v", got, tt.wantMails)
			}
			if end != nil {
				end(false)
			}
		})
	}

	t.Run("a full throttle frees up when its keys' windows end", func(t *testing.T) {
		th := NewMemoryThrottle(10)
		for i := range 10 {
			end, err := th.Begin(context.Background(), t0, Limit{Key: fmt.Sprint("a", i), Max: 5})
			if err != nil {
				t.Fatal(err)
			}
			end(true)
		}
		newcomer := Limit{Key: "newcomer", Max: 5}
		if _, err := th.Begin(context.Background(), t0.Add(59*time.Second), newcomer); !errors.Is(err, ErrThrottled) {
			t.Fatalf("a newcomer while every key holds a live failure: %v, want ErrThrottled", err)
		}
		end, err := th.Begin(context.Background(), t0.Add(time.Minute), newcomer)
		if err != nil {
			t.Fatalf("a newcomer once the failures are a minute old: %v", err)
		}
		end(false)
	})

	t.Run("an attempt that ends without failing makes room at once", func(t *testing.T) {
		th := NewMemoryThrottle(2)
		end1, _ := th.Begin(context.Background(), t0, Limit{Key: "a", Max: 5})
		end2, _ := th.Begin(context.Background(), t0, Limit{Key: "b", Max: 5})
		if _, err := th.Begin(context.Background(), t0, Limit{Key: "c", Max: 5}); !errors.Is(err, ErrThrottled) {
			t.Fatalf("a newcomer while both keys have attempts running: %v, want ErrThrottled", err)
		}
		end1(false)
		end2(true)
		end, err := th.Begin(context.Background(), t0, Limit{Key: "c", Max: 5})
		if err != nil {
			t.Fatalf("a newcomer after an attempt ended well: %v", err)
		}
		end(false)
	})
}

func TestMemoryThrottleSweep(t *testing.T) {
	cfg := DefaultConfig()
	th := NewMemoryThrottle(100)
	attempt(th, cfg, t0, "a@x.cz", "10.0.0.1", false) // makes keys with no failure
	attempt(th, cfg, t0, "b@x.cz", "10.0.0.2", true)
	if err := th.Sweep(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	if th.Len() != 2 {
		t.Fatalf("after a sweep at once %d keys, want the 2 of the failure", th.Len())
	}
	th.Sweep(context.Background(), t0.Add(throttleWindow+time.Second))
	if th.Len() != 0 {
		t.Fatalf("a minute later %d keys are kept, want 0", th.Len())
	}
}

// BenchmarkThrottleUniqueKeys streams attempts with unique 255-character emails from unique
// addresses through the default throttle and reports the heap it holds afterwards (flat: bounded
// by DefaultThrottleKeys, not by b.N).
func BenchmarkThrottleUniqueKeys(b *testing.B) {
	cfg := DefaultConfig()
	th := NewMemoryThrottle(DefaultThrottleKeys)
	pad := make([]byte, 240)
	for i := range pad {
		pad[i] = 'x'
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := range b.N {
		email := fmt.Sprintf("%s%010d@x.cz", pad, i)
		attempt(th, cfg, t0, email, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), true)
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(th.Len()), "keys")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MiB")
}
