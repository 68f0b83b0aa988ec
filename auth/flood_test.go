package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// A 15-second flood of logins with emails that cannot be accounts once made every failed login
// answer timeout for 20 minutes. These tests hold the hash slots themselves, so that "hashed" and
// "waited for a slot" are facts the test arranges rather than timings it measures.

// holdSlots takes every hash slot of svc until the returned function gives them back.
func holdSlots(svc *Service) (release func()) {
	for range cap(svc.hasher.slots) {
		svc.hasher.slots <- struct{}{}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for range cap(svc.hasher.slots) {
				<-svc.hasher.slots
			}
		})
	}
}

// recordSleeps makes svc's padding waits return at once, recording them.
func recordSleeps(svc *Service) func() []time.Duration {
	var mu sync.Mutex
	var waits []time.Duration
	svc.Sleep = func(_ context.Context, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
	}
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		w := waits
		waits = nil
		return w
	}
}

func setFloor(svc *Service, d time.Duration) {
	svc.floor.mu.Lock()
	defer svc.floor.mu.Unlock()
	svc.floor.base, svc.floor.cur, svc.floor.old = d, 0, 0
}

// TestLoginNonAddressHashesNothing: an email that cannot be an account is answered
// invalid-credentials while every hash slot is taken (so nothing was hashed), padded like any
// failure, and spends the client address's budget: once it is spent, that address is throttled.
func TestLoginNonAddressHashesNothing(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	sleeps := recordSleeps(e.svc)
	setFloor(e.svc, 300*time.Millisecond)
	release := holdSlots(e.svc)
	defer release()
	nonAddresses := []string{"nobody", strings.Repeat("x", 300), "a@" + strings.Repeat("b", 300) + ".cz", "", "two@at@shop.cz"}
	ctx := NewContextWithClient(t.Context(), Client{IP: "192.0.2.7"})
	budget := e.svc.cfg.LoginFailuresPerIP
	for i := range budget {
		email := nonAddresses[i%len(nonAddresses)]
		guard, cancel := context.WithTimeout(ctx, 5*time.Second) // only so that a hashing login cannot hang the test
		_, err := e.svc.Login(guard, email, "whatever")
		hung := guard.Err() != nil
		cancel()
		if hung || ErrorCode(err) != EInvalidCredentials {
			t.Fatalf("login %d with %.20q while every hash slot is taken: %v (waited for a slot: %v), want invalid-credentials without hashing",
				i+1, email, err, hung)
		}
		if w := sleeps(); len(w) != 1 || w[0] != 300*time.Millisecond {
			t.Fatalf("login %d with %.20q padded %v, want one wait of the floor (300ms) like every failure", i+1, email, w)
		}
	}
	for _, email := range []string{"nobody", recoveryEmail} {
		if _, err := e.svc.Login(ctx, email, "whatever"); ErrorCode(err) != ETooManyLoginAttempts {
			t.Errorf("%s after %d non-addresses from the address: %v, want too-many-login-attempts", email, budget, err)
		}
	}
	release()
	other := NewContextWithClient(t.Context(), Client{IP: "192.0.2.8"})
	if _, err := e.svc.Login(other, recoveryEmail, recoveryPassword); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// TestFailureFloorIgnoresSlotWaits: a login that waited 10 s (on the service's clock) for a hash
// slot does not raise the floor; only the check itself is timed.
func TestFailureFloorIgnoresSlotWaits(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	sleeps := recordSleeps(e.svc)
	setFloor(e.svc, 200*time.Millisecond)
	for _, email := range []string{recoveryEmail, "unknown@example.com"} {
		release := holdSlots(e.svc)
		done := make(chan error, 1)
		ctx := NewContextWithClient(t.Context(), Client{IP: "192.0.2.9"})
		go func() {
			_, err := e.svc.Login(ctx, email, "wrong password")
			done <- err
		}()
		waitFor(t, func() bool { return e.svc.hasher.waiting.Load() == 1 })
		e.advance(10 * time.Second) // the flood ahead of it
		release()
		if err := <-done; ErrorCode(err) != EInvalidCredentials {
			t.Fatalf("%s: %v, want invalid-credentials", email, err)
		}
		sleeps()
		if got := e.svc.floor.get(e.clock()); got != 200*time.Millisecond {
			t.Errorf("%s: after a login that waited 10 s for a slot the floor is %v, want 200ms (the check took no time on this clock)", email, got)
		}
		if _, err := e.svc.Login(ctx, email, "wrong again"); ErrorCode(err) != EInvalidCredentials {
			t.Fatalf("%s: %v", email, err)
		}
		if w := sleeps(); len(w) != 1 || w[0] != 200*time.Millisecond {
			t.Errorf("%s: the next failure padded %v, want 200ms", email, w)
		}
	}
}

// TestFailedLoginAnswersBeforeTheDeadline: whatever the floor and however busy the hash slots, a
// failed login is answered invalid-credentials or too-many-login-attempts before its request's
// deadline (the HTTP layer answers timeout at the deadline), the same for known and unknown emails.
func TestFailedLoginAnswersBeforeTheDeadline(t *testing.T) {
	tests := []struct {
		name      string
		floor     time.Duration
		deadline  time.Duration // from now
		slotsHeld bool
		want      string
	}{
		{"a floor far beyond the deadline", time.Hour, 30 * time.Second, false, EInvalidCredentials}, // room for a slow hash under -race
		{"a floor just past the deadline", 10 * time.Second, 10 * time.Second, false, EInvalidCredentials},
		{"every hash slot taken until the deadline", 100 * time.Millisecond, 100*time.Millisecond + answerReserve + 300*time.Millisecond, true, ETooManyLoginAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRecoveryEnv(t)
			e.register(recoveryEmail, "Jan", "Novák")
			sleeps := recordSleeps(e.svc)
			for i, email := range []string{recoveryEmail, "unknown@example.com"} {
				setFloor(e.svc, tt.floor)
				var release func()
				if tt.slotsHeld {
					release = holdSlots(e.svc)
				}
				ctx := NewContextWithClient(t.Context(), Client{IP: fmt.Sprint("192.0.2.", 10+i)})
				ctx, cancel := context.WithTimeout(ctx, tt.deadline)
				deadline, _ := ctx.Deadline()
				_, err := e.svc.Login(ctx, email, "wrong password")
				late := ctx.Err() != nil
				cancel()
				if release != nil {
					release()
				}
				if late || ErrorCode(err) != tt.want {
					t.Fatalf("%s: %v (after the deadline: %v), want %s before it", email, err, late, tt.want)
				}
				for _, w := range sleeps() {
					if left := time.Until(deadline); w > left {
						t.Errorf("%s: asked to wait %v with %v left before the deadline", email, w, left)
					}
				}
			}
		})
	}
}
