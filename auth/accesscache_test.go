package auth

import (
	"crypto/sha256"
	"testing"
	"time"
)

// The access cache must answer exactly as a fresh verification would.
func TestAccessCacheRechecksTimeAndKeys(t *testing.T) {
	k, err := GenerateKey(ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	s := &Service{cfg: DefaultConfig(), Now: func() time.Time { return now }}
	s.keys.set([]SigningKey{k})
	tok, err := s.signAccess(&benchCustomer, benchDevice, now, LoginInfo{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	verifies := func() bool { _, _, err := s.verifyAccess(tok); return err == nil }

	if !verifies() || !verifies() {
		t.Fatal("a fresh token does not verify")
	}
	if e := s.keys.access.get(sha256Of(tok)); e == nil {
		t.Fatal("a verified token was not remembered")
	}
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"one second before exp", now.Add(s.cfg.AccessTTL - time.Second), true},
		{"at exp", now.Add(s.cfg.AccessTTL), false},
		{"after exp", now.Add(s.cfg.AccessTTL + time.Hour), false},
		{"before iat", now.Add(-time.Second), false},
		{"at iat", now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func(saved time.Time) { now = saved }(now)
			now = tt.at
			cached := verifies()
			s.keys.access.reset()
			fresh := verifies()
			if cached != tt.want || fresh != tt.want {
				t.Errorf("cached %v, fresh %v, want %v", cached, fresh, tt.want)
			}
		})
	}

	t.Run("key gone from the ring", func(t *testing.T) {
		if !verifies() {
			t.Fatal("does not verify before the ring changes")
		}
		other, err := GenerateKey(EdDSA, now)
		if err != nil {
			t.Fatal(err)
		}
		s.keys.set([]SigningKey{other})
		if verifies() {
			t.Error("a remembered token still verifies after its key left the ring")
		}
	})

	t.Run("a token verified against a replaced ring is not remembered", func(t *testing.T) {
		s.keys.set([]SigningKey{k})
		epoch := s.keys.access.current()
		s.keys.access.reset()
		s.keys.access.put(sha256Of(tok), &accessEntry{until: now.Add(time.Hour)}, epoch)
		if s.keys.access.get(sha256Of(tok)) != nil {
			t.Error("an entry of an old epoch was stored")
		}
	})
}

func TestAccessCacheIsBounded(t *testing.T) {
	var c accessCache
	for i := range 5 * accessCacheGeneration {
		c.put(sha256Of(string(rune(i))+"token"), &accessEntry{}, c.current())
	}
	if n := len(c.cur) + len(c.old); n > 2*accessCacheGeneration {
		t.Errorf("cache holds %d tokens, want at most %d", n, 2*accessCacheGeneration)
	}
}

func sha256Of(s string) [32]byte {
	return sha256.Sum256([]byte(s))
}

// A remembered token costs a hash and a map lookup: the allocation budget of the read path.
func TestAccessCacheAllocations(t *testing.T) {
	k, err := GenerateKey(EdDSA, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: DefaultConfig(), Now: time.Now}
	s.keys.set([]SigningKey{k})
	tok, err := s.signAccess(&benchCustomer, benchDevice, time.Now(), LoginInfo{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.verifyAccess(tok); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := s.verifyAccess(tok); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 3 {
		t.Errorf("a remembered access token costs %v allocations, budget 3", allocs)
	}
}
