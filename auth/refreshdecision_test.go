package auth

import (
	"bytes"
	"testing"
	"time"
)

func TestDecideRefresh(t *testing.T) {
	now := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	const owner = "0b7e7a4e-3c1f-4d8e-9a55-2b0b4b6f1c11"
	h := func(s string) []byte { return hashSecret(s) }
	// The chain: a → b → c. The session's newest secret is b (a rotated away 3 s ago).
	stored := Session{
		DeviceID: "d", CustomerID: 7, SecretHash: h("b"), PrevSecretHash: h("a"),
		RotatedAt: now.Add(-3 * time.Second), CreatedAt: now.Add(-time.Hour), LastRefreshedAt: now.Add(-3 * time.Second),
		IssuedAt: now.Add(-3 * time.Second), ExpiresAt: now.Add(time.Hour), KeyID: "old", Signature: "sig-b",
	}
	next := func(secret string) issuedRefresh {
		return issuedRefresh{secretHash: h(secret), issuedAt: now, expires: now.Add(14 * 24 * time.Hour), keyID: "k", signature: "sig-" + secret}
	}
	present := func(secret, successor string) presentedRefresh {
		return presentedRefresh{customerUUID: owner, secretHash: h(secret), next: next(successor)}
	}
	with := func(f func(*Session)) *Session { s := stored; f(&s); return &s }

	tests := []struct {
		name   string
		stored *Session
		owner  string
		p      presentedRefresh
		now    time.Time
		reuse  time.Duration
		action refreshAction
		reason refusal
	}{
		{"newest secret rotates", &stored, owner, present("b", "c"), now, 10 * time.Second, rotateChain, ""},
		{"newest secret rotates with grace off", &stored, owner, present("b", "c"), now, 0, rotateChain, ""},
		{"no session", nil, owner, present("b", "c"), now, 10 * time.Second, refuseRefresh, refusalSessionEnded},
		{"another customer's session", &stored, "ffffffff-3c1f-4d8e-9a55-2b0b4b6f1c11", present("b", "c"), now, 10 * time.Second, refuseRefresh, refusalAnotherCustomer},
		{"expired at the boundary second", &stored, owner, present("b", "c"), stored.ExpiresAt, 10 * time.Second, expireSession, refusalSessionExpired},
		{"one nanosecond before expiry", &stored, owner, present("b", "c"), stored.ExpiresAt.Add(-1), 10 * time.Second, rotateChain, ""},
		{"expired session with a used secret is expiry, not reuse", &stored, owner, present("a", "b"), stored.ExpiresAt, 10 * time.Second, expireSession, refusalSessionExpired},
		{"just rotated, inside the interval: grace", &stored, owner, present("a", "b"), now, 10 * time.Second, answerGrace, ""},
		{"just rotated, last nanosecond of the interval", &stored, owner, present("a", "b"), stored.RotatedAt.Add(10*time.Second - 1), 10 * time.Second, answerGrace, ""},
		{"just rotated, at the end of the interval: reuse", &stored, owner, present("a", "b"), stored.RotatedAt.Add(10 * time.Second), 10 * time.Second, endReusedSession, refusalReused},
		{"just rotated, grace off: reuse", &stored, owner, present("a", "b"), now, 0, endReusedSession, refusalReused},
		{"previous secret whose successor is not the newest: reuse", &stored, owner, present("a", "x"), now, 10 * time.Second, endReusedSession, refusalReused},
		{"an older ancestor: reuse", &stored, owner, present("z", "a"), now, 10 * time.Second, endReusedSession, refusalReused},
		{"never rotated, unknown secret: reuse", with(func(s *Session) { s.PrevSecretHash = nil; s.RotatedAt = time.Time{} }), owner, present("a", "b"), now, 10 * time.Second, endReusedSession, refusalReused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before Session
			if tc.stored != nil {
				before = *tc.stored
			}
			d := decideRefresh(tc.stored, tc.owner, tc.p, tc.now, tc.reuse)
			if d.action != tc.action || d.reason != tc.reason {
				t.Fatalf("decided (%d, %q), want (%d, %q)", d.action, d.reason, tc.action, tc.reason)
			}
			if tc.stored != nil && !bytes.Equal(tc.stored.SecretHash, before.SecretHash) {
				t.Fatal("the stored session was changed in place")
			}
			if d.action != rotateChain {
				return
			}
			s := d.session
			switch {
			case !bytes.Equal(s.SecretHash, tc.p.next.secretHash) || !bytes.Equal(s.PrevSecretHash, tc.stored.SecretHash):
				t.Error("the chain did not move one step")
			case !s.RotatedAt.Equal(tc.now) || !s.LastRefreshedAt.Equal(tc.now):
				t.Error("rotation time not recorded")
			case !s.IssuedAt.Equal(tc.p.next.issuedAt) || !s.ExpiresAt.Equal(tc.p.next.expires):
				t.Error("the successor's iat/exp not recorded")
			case s.KeyID != tc.p.next.keyID || s.Signature != tc.p.next.signature:
				t.Error("the successor's kid/signature not recorded (grace could not rebuild it)")
			case s.DeviceID != tc.stored.DeviceID || s.CustomerID != tc.stored.CustomerID || !s.CreatedAt.Equal(tc.stored.CreatedAt):
				t.Error("the session's identity changed")
			}
		})
	}
}

// TestVerifyRefreshAllocations: checking an HS256 refresh token is an HMAC over the compact form
// and one decode of the payload; the budget catches a slide back to a general JWS parse (which
// cost about 60 allocations).
func TestVerifyRefreshAllocations(t *testing.T) {
	now := time.Now()
	rk, err := GenerateRefreshKey(now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: DefaultConfig(), Now: func() time.Time { return now }}
	s.keys.set([]SigningKey{rk})
	tok, _, _, err := s.signRefresh(s.refreshPayload("6f1f3c36-7d6c-4d53-9f43-6a1b0c9d2e11", "0b7c1a52-3c55-4c1e-9b7e-2f0e8a9c4d33",
		"0123456789abcdef0123456789abcdef01234567", now, now.Add(time.Hour)), now)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.verifyRefresh(tok); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 24 {
		t.Errorf("verifying an HS256 refresh token costs %v allocations, budget 24", allocs)
	}
}
