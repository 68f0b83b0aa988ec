package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2id parameters for new hashes: OWASP's minimum (m=19 MiB, t=2, p=1), about 70 ms on one
// core of the 2-core reference machine. Change them here only; older hashes keep verifying with the
// parameters written in them and are rehashed at the next successful login.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// hashMemoryBudget bounds the memory that concurrent password hashes may take at once: with 19 MiB
// per hash, 8 run together (152 MiB) and the rest wait, so a login flood cannot exhaust a 1 GiB box.
const hashMemoryBudget = 160 << 20

// Hasher hashes and verifies passwords, bounding how many hashes run at once.
type Hasher struct {
	slots   chan struct{}
	waiting atomic.Int64 // callers waiting for a slot
}

// NewHasher returns a hasher that runs at most min(budget/argonMemory, GOMAXPROCS) hashes at once.
func NewHasher() *Hasher {
	// More hashes at once than CPUs buys no throughput (argon2id with p=1 is one core's work),
	// only memory and garbage: take the smaller of the memory budget and the CPU count.
	n := min(hashMemoryBudget/(argonMemoryKiB*1024), runtime.GOMAXPROCS(0))
	if n < 1 {
		n = 1
	}
	return &Hasher{slots: make(chan struct{}, n)}
}

// Slots is how many hashes may run at once.
func (h *Hasher) Slots() int { return cap(h.slots) }

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns a PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	h.release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is verified when an email is unknown, so that both failures cost the same time.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2hvcGF1dGgtZHVtbXktc2FsdA$8oMeG6W4wS0Kq0b0wJv4m0bq9C8sWc0E2bSxV3y6V0A"

var errUnknownHash = errors.New("unknown password hash format")

// Verify reports whether password matches hash. It understands argon2id and argon2i PHC strings
// and bcrypt ($2y$, $2a$, $2b$). needsRehash is true when the hash is not of the current policy.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (ok, needsRehash bool, err error) {
	ok, needsRehash, _, err = h.verifyTimed(ctx, time.Now, hash, password)
	return ok, needsRehash, err
}

// verifyTimed is Verify that also says how long the check itself took on clock, once it had a
// slot: the time spent waiting for one says how busy the server is, not how slow the hash is.
func (h *Hasher) verifyTimed(ctx context.Context, clock func() time.Time, hash, password string) (ok, needsRehash bool, took time.Duration, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, 0, err
	}
	defer h.release()
	start := clock()
	ok, needsRehash, err = verify(hash, password)
	return ok, needsRehash, clock().Sub(start), err
}

func verify(hash, password string) (ok, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(hash, "$2y$"), strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"):
		// PHP truncates bcrypt input at 72 bytes; Go refuses longer input. Truncate, as PHP did when it hashed.
		pw := []byte(password)
		if len(pw) > 72 {
			pw = pw[:72]
		}
		err := bcrypt.CompareHashAndPassword([]byte(hash), pw)
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, false, nil
		}
		if err != nil {
			return false, false, err
		}
		return true, true, nil
	case strings.HasPrefix(hash, "$argon2id$"), strings.HasPrefix(hash, "$argon2i$"):
		p, err := parseArgon(hash)
		if err != nil {
			return false, false, err
		}
		var key []byte
		if p.id {
			key = argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
		} else {
			key = argon2.Key([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
		}
		ok := subtle.ConstantTimeCompare(key, p.key) == 1
		current := p.id && p.memory == argonMemoryKiB && p.time == argonTime && p.threads == argonThreads
		return ok, ok && !current, nil
	}
	return false, false, errUnknownHash
}

type argonParams struct {
	id           bool
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseArgon reads $argon2id$v=19$m=M,t=T,p=P$salt$key, refusing parameters that would let a
// planted hash exhaust memory or CPU.
func parseArgon(s string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, errUnknownHash
	}
	p.id = parts[1] == "argon2id"
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, errUnknownHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return p, errUnknownHash
	}
	if p.memory < 8 || p.memory > 256*1024 || p.time < 1 || p.time > 16 || threads < 1 || threads > 16 {
		return p, errUnknownHash
	}
	p.threads = uint8(threads)
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, errUnknownHash
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, errUnknownHash
	}
	return p, nil
}

// MaxBcryptCost is the highest bcrypt cost an import accepts. Checking a hash takes 2^cost rounds:
// cost 14 about 1.2 s, 18 about 15 s and 31 days, each holding a hashing slot, so two wrong logins
// on one such customer would make every other login wait; Shopsys hashes at 10 to 13.
const MaxBcryptCost = 14

// bcryptCostProblem says why an otherwise valid bcrypt hash cannot be imported ("" if it can).
func bcryptCostProblem(hash string) string {
	if !strings.HasPrefix(hash, "$2") {
		return ""
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err == nil && cost > MaxBcryptCost {
		return fmt.Sprintf("bcrypt cost %d is above the limit of %d (rehash at a lower cost)", cost, MaxBcryptCost)
	}
	return ""
}

// IsPasswordHash reports whether s is a hash Verify understands (for imports).
func IsPasswordHash(s string) bool {
	switch {
	case strings.HasPrefix(s, "$2y$"), strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"):
		_, err := bcrypt.Cost([]byte(s))
		return err == nil && len(s) == 60
	case strings.HasPrefix(s, "$argon2id$"), strings.HasPrefix(s, "$argon2i$"):
		_, err := parseArgon(s)
		return err == nil
	}
	return false
}
