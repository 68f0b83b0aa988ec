// Package testkit holds the helpers that tests in several shopauth packages share: a clock the test
// moves, a log buffer that a background goroutine and the test may use at once, and an unverified
// decoder for the tokens the server issues.
//
// It imports no shopauth package, so that auth's internal tests can use it without an import cycle.
package testkit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is a time source that stands still until the test moves it, so expiry and grace can be tested
// at the boundary second without sleeping. Its zero value reads the zero time. It is safe for
// concurrent use, as the service reads it from request goroutines while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads t, unchanged (a monotonic reading included), until moved.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time; it has the shape of auth.Service.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock d forward (backward if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// LogBuffer is a log destination that a background goroutine (a mail being sent) may write while the
// test reads it. Its zero value is an empty buffer ready to use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// DecodeJWT returns a compact JWS's header and claims, without verifying the signature. Numbers are
// json.Number, so that large integers such as exp survive exactly. It fails the test unless the token
// has three base64url parts of which the first two are each one JSON object.
func DecodeJWT(t testing.TB, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	for i, part := range []struct {
		name string
		dst  *map[string]any
	}{{"header", &header}, {"claims", &claims}} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token %s: %v", part.name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(part.dst); err != nil {
			t.Fatalf("token %s: %v", part.name, err)
		}
		if *part.dst == nil {
			t.Fatalf("token %s is %s, want a JSON object", part.name, b)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("token %s has more than one JSON object: %s", part.name, b)
		}
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		t.Fatalf("token signature: %v", err)
	}
	return header, claims
}
