package auth

import "testing"

// fail makes one attempt that turns out a failure: its token stays spent.
func fail(l *loginLimiter, email, ip string) bool {
	_, ok := l.reserve(email, ip)
	return ok
}

// allowed probes whether an attempt may start now, spending nothing.
func allowed(l *loginLimiter, email, ip string) bool {
	release, ok := l.reserve(email, ip)
	if ok {
		release()
	}
	return ok
}

func TestLoginLimiter(t *testing.T) {
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
			l := newLoginLimiter(tt.perEmail, tt.perIP)
			for _, e := range tt.failures {
				if !fail(l, e, "10.0.0.1") {
					t.Fatalf("attempt for %s refused before its budget was spent", e)
				}
			}
			if got := allowed(l, tt.email, tt.ip); got != tt.wantAllowed {
				t.Errorf("allowed(%s, %s) = %v, want %v", tt.email, tt.ip, got, tt.wantAllowed)
			}
		})
	}
}

func TestLoginLimiterAllowedSpendsNothing(t *testing.T) {
	// Only failures count: a customer who logs in right a hundred times is never refused.
	l := newLoginLimiter(5, 100)
	for range 200 {
		if !allowed(l, "a@x.cz", "10.0.0.1") {
			t.Fatal("successful logins were throttled")
		}
	}
}

func TestLoginLimiterSweepForgetsFullBuckets(t *testing.T) {
	l := newLoginLimiter(5, 100)
	allowed(l, "a@x.cz", "10.0.0.1") // creates both buckets, full
	fail(l, "b@x.cz", "10.0.0.2")
	l.sweep()
	if _, ok := l.buckets["e\x00a@x.cz\x0010.0.0.1"]; ok {
		t.Error("a full bucket was kept")
	}
	if _, ok := l.buckets["e\x00b@x.cz\x0010.0.0.2"]; !ok {
		t.Error("a bucket with a recent failure was forgotten")
	}
}

func TestReserveCountsParallelAttempts(t *testing.T) {
	l := newLoginLimiter(5, 100)
	// Ten attempts in flight at once: only five may start, whatever their outcome.
	started := 0
	for i := 0; i < 10; i++ {
		if _, ok := l.reserve("jan@shop.cz", "10.0.0.1"); ok {
			started++
		}
	}
	if started != 5 {
		t.Fatalf("%d parallel attempts started, want 5", started)
	}
	// A right password gives its token back: the customer is not slowed.
	l2 := newLoginLimiter(5, 100)
	for i := 0; i < 20; i++ {
		release, ok := l2.reserve("eva@shop.cz", "10.0.0.2")
		if !ok {
			t.Fatalf("successful attempt %d was throttled", i)
		}
		release()
	}
}
