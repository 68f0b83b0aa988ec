package auth

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h := NewHasher()
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with the documented parameters", hash)
	}
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"right password", "correct horse", true},
		{"wrong password", "correct horsf", false},
		{"empty password", "", false},
		{"prefix of the password", "correct", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, hash, tt.password)
			if err != nil || ok != tt.ok || rehash {
				t.Errorf("Verify = %v, %v, %v; want %v, false, nil", ok, rehash, err, tt.ok)
			}
		})
	}
}

func TestVerifyForeignHashes(t *testing.T) {
	tests := []struct {
		name       string
		hash       string
		password   string
		ok, rehash bool
		wantErr    bool
	}{
		// The PHP manual's bcrypt examples: PHP writes $2y$, which Go's bcrypt reads.
		{"php $2y$ cost 10", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf", true, true, false},
		{"php $2y$ cost 7", "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", "rasmuslerdorf", true, true, false},
		{"php $2y$ wrong", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorF", false, false, false},
		{"$2a$ prefix", "$2a$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf", true, true, false},
		{"$2b$ prefix", "$2b$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf", true, true, false},
		// The PHP manual's argon2i example: verifies, and is upgraded to argon2id.
		{"php argon2i", "$argon2i$v=19$m=1024,t=2,p=2$YzJBSzV4TUhkMzc3d3laeg$zqU/1IN0/AogfP4cmSJI1vc8lpXRW9/S0sYY2i2jHT0", "rasmuslerdorf", true, true, false},
		{"unknown scheme", "md5$abc", "x", false, false, true},
		{"argon2 with absurd memory", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$8oMeG6W4wS0Kq0b0wJv4m0bq9C8sWc0E2bSxV3y6V0A", "x", false, false, true},
		{"truncated argon2", "$argon2id$v=19$m=19456,t=2", "x", false, false, true},
	}
	h := NewHasher()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), tt.hash, tt.password)
			if (err != nil) != tt.wantErr || ok != tt.ok || rehash != tt.rehash {
				t.Errorf("Verify = %v, %v, %v; want %v, %v, err=%v", ok, rehash, err, tt.ok, tt.rehash, tt.wantErr)
			}
		})
	}
}

func TestDummyHashIsVerifiable(t *testing.T) {
	// The unknown-email path must cost a real argon2id verification, not fail fast on a parse error.
	ok, _, err := NewHasher().Verify(context.Background(), dummyHash, "anything")
	if err != nil || ok {
		t.Fatalf("dummy hash: ok=%v err=%v; want a clean mismatch", ok, err)
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher()
	if got, want := h.Slots(), min(hashMemoryBudget/(argonMemoryKiB*1024), runtime.GOMAXPROCS(0)); got != want || got < 1 {
		t.Fatalf("slots = %d, want %d", got, want)
	}
	// 32 concurrent hashes may hold at most Slots × 19 MiB, under 200 MiB.
	if mem := h.Slots() * argonMemoryKiB * 1024; mem > 200<<20 {
		t.Errorf("concurrent hashing may take %d MiB", mem>>20)
	}
}
