package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shopauth/auth"
)

// RunThrottle runs the throttle conformance cases: the behaviour of auth.MemoryThrottle, which a
// shared (database) throttle must match. open returns an empty throttle.
func RunThrottle(t *testing.T, open func(t *testing.T) auth.Throttle) {
	t.Helper()
	runCases(t, throttleCases, open)
}

var throttleCases = []testCase[auth.Throttle]{
	{"Budgets", testThrottleBudgets},
	{"SuccessSpendsNothing", testThrottleSuccessSpendsNothing},
	{"Window", testThrottleWindow},
	{"LongerWindow", testThrottleLongerWindow},
	{"ParallelGuessesStayInBudget", testThrottleParallelGuesses},
	{"ParallelRightAnswersAllPass", testThrottleParallelRightAnswers},
}

// try runs one attempt under limits at now, ending it with failed; it reports whether it was admitted.
func try(t *testing.T, th auth.Throttle, now time.Time, failed bool, limits ...auth.Limit) bool {
	t.Helper()
	end, err := th.Begin(context.Background(), now, limits...)
	if errors.Is(err, auth.ErrThrottled) {
		return false
	}
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	end(failed)
	return true
}

func testThrottleBudgets(t *testing.T, th auth.Throttle) {
	ip := auth.Limit{Key: "ip\x0010.0.0.1", Max: 4}
	email := auth.Limit{Key: "login\x00a@x.cz\x0010.0.0.1", Max: 2}
	other := auth.Limit{Key: "login\x00b@x.cz\x0010.0.0.1", Max: 2}
	steps := []struct {
		name   string
		limits []auth.Limit
		failed bool
		want   bool
	}{
		{"first failure", []auth.Limit{ip, email}, true, true},
		{"second failure", []auth.Limit{ip, email}, true, true},
		{"the email's budget is spent", []auth.Limit{ip, email}, false, false},
		{"another email from the address", []auth.Limit{ip, other}, true, true},
		{"its second failure spends the address", []auth.Limit{ip, other}, true, true},
		{"the address's budget is spent", []auth.Limit{ip, {Key: "login\x00c@x.cz\x0010.0.0.1", Max: 2}}, false, false},
		{"another address is untouched", []auth.Limit{{Key: "ip\x0010.0.0.2", Max: 4}, {Key: "login\x00a@x.cz\x0010.0.0.2", Max: 2}}, false, true},
	}
	for _, s := range steps {
		if got := try(t, th, now, s.failed, s.limits...); got != s.want {
			t.Fatalf("%s: admitted = %v, want %v", s.name, got, s.want)
		}
	}
}

func testThrottleSuccessSpendsNothing(t *testing.T, th auth.Throttle) {
	l := auth.Limit{Key: "login\x00right@x.cz\x00::1", Max: 2}
	for i := range 10 {
		if !try(t, th, now, false, l) {
			t.Fatalf("right attempt %d refused: successes must not spend the budget", i+1)
		}
	}
}

func testThrottleWindow(t *testing.T, th auth.Throttle) {
	l := auth.Limit{Key: "login\x00w@x.cz\x00::1", Max: 2}
	try(t, th, now, true, l)
	try(t, th, now.Add(10*time.Second), true, l)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{59 * time.Second, false},
		{time.Minute, true}, // the first failure is a minute old: one try is back
		{time.Minute + time.Second, false},
		{time.Minute + 10*time.Second, true},
	}
	for _, s := range steps {
		if got := try(t, th, now.Add(s.at), true, l); got != s.want {
			t.Errorf("attempt at +%v: admitted = %v, want %v", s.at, got, s.want)
		}
	}
	if err := th.Sweep(context.Background(), now.Add(3*time.Minute)); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if !try(t, th, now.Add(3*time.Minute), false, l) {
		t.Error("refused after the sweep of an old minute")
	}
}

// testThrottleLongerWindow: a budget of 3 per 15 minutes (recovery mails per customer) counts its
// failures for its whole window, beside a per-minute budget, and a sweep meanwhile keeps them.
func testThrottleLongerWindow(t *testing.T, th auth.Throttle) {
	mails := auth.Limit{Key: "recovery-mail\x00customer", Max: 3, Window: 15 * time.Minute}
	minute := auth.Limit{Key: "recovery\x00a@x.cz\x00::1", Max: 3}
	for i := range 3 {
		if !try(t, th, now.Add(time.Duration(i)*time.Second), true, mails) {
			t.Fatalf("mail %d refused within the budget", i+1)
		}
	}
	for i := range 3 {
		try(t, th, now.Add(time.Duration(i)*time.Second), true, minute)
	}
	if err := th.Sweep(context.Background(), now.Add(10*time.Minute)); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	steps := []struct {
		name  string
		at    time.Duration
		limit auth.Limit
		want  bool
	}{
		{"the minute's budget is back after a minute", 2 * time.Minute, minute, true},
		{"the 15 minutes' budget is spent after ten (and a sweep)", 10 * time.Minute, mails, false},
		{"and a second before the first failure is 15 minutes old", 15*time.Minute - time.Second, mails, false},
		{"one comes back when the first is 15 minutes old", 15 * time.Minute, mails, true},
		{"and only one", 15 * time.Minute, mails, false},
	}
	for _, s := range steps {
		if got := try(t, th, now.Add(s.at), true, s.limit); got != s.want {
			t.Errorf("%s: admitted = %v, want %v", s.name, got, s.want)
		}
	}
}

func parallel(t *testing.T, th auth.Throttle, n int, failed bool, l auth.Limit) int {
	t.Helper()
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			end, err := th.Begin(ctx, now, l)
			if errors.Is(err, auth.ErrThrottled) {
				return
			}
			if err != nil {
				t.Errorf("Begin: %v", err)
				return
			}
			admitted.Add(1)
			time.Sleep(time.Millisecond) // a password check
			end(failed)
		})
	}
	wg.Wait()
	return int(admitted.Load())
}

func testThrottleParallelGuesses(t *testing.T, th auth.Throttle) {
	if got := parallel(t, th, 20, true, auth.Limit{Key: fmt.Sprintf("login\x00guess@x.cz\x00%d", 1), Max: 3}); got != 3 {
		t.Errorf("20 parallel wrong guesses got %d checks, want exactly the budget, 3", got)
	}
}

func testThrottleParallelRightAnswers(t *testing.T, th auth.Throttle) {
	if got := parallel(t, th, 20, false, auth.Limit{Key: "login\x00many@x.cz\x00::1", Max: 2}); got != 20 {
		t.Errorf("20 parallel right logins: %d admitted, want all 20", got)
	}
}
