package testkit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fatalRecorder stands in for the test given to DecodeJWT, so that a malformed token's failure can be
// observed instead of failing this test. Fatal stops the calling goroutine, as testing.T's does.
type fatalRecorder struct {
	testing.TB // nil: any method DecodeJWT is not expected to call panics
	msg        string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// decodeJWT runs DecodeJWT on a goroutine of its own and reports the failure message, if any.
func decodeJWT(token string) (header, claims map[string]any, failure string) {
	r := &fatalRecorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		header, claims = DecodeJWT(r, token)
	}()
	<-done
	return header, claims, r.msg
}

func TestDecodeJWT(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	header := enc(`{"alg":"RS256","kid":"k1","typ":"JWT"}`)
	claims := enc(`{"sub":"42","exp":1767225600,"big":9007199254740993,"scope":["a","b"]}`)
	sig := enc("signature bytes")

	tests := []struct {
		name        string
		token       string
		wantHeader  map[string]any
		wantClaims  map[string]any
		wantFailure string // a substring of the failure message; empty for a token that decodes
	}{
		{
			name:       "signed",
			token:      header + "." + claims + "." + sig,
			wantHeader: map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"},
			wantClaims: map[string]any{"sub": "42", "exp": json.Number("1767225600"),
				"big": json.Number("9007199254740993"), "scope": []any{"a", "b"}},
		},
		{
			name:       "empty signature",
			token:      enc(`{"alg":"none"}`) + "." + enc(`{}`) + ".",
			wantHeader: map[string]any{"alg": "none"},
			wantClaims: map[string]any{},
		},
		{name: "empty", token: "", wantFailure: "1 parts"},
		{name: "two parts", token: header + "." + claims, wantFailure: "2 parts"},
		{name: "four parts", token: header + "." + claims + "." + sig + ".x", wantFailure: "4 parts"},
		{name: "header not base64url", token: "e30=." + claims + "." + sig, wantFailure: "token header"},
		{name: "claims not base64url", token: header + ".a+b/." + sig, wantFailure: "token claims"},
		{name: "signature not base64url", token: header + "." + claims + ".a+b/", wantFailure: "token signature"},
		{name: "claims not JSON", token: header + "." + enc("sub=42") + "." + sig, wantFailure: "token claims"},
		{name: "claims an array", token: header + "." + enc(`["sub"]`) + "." + sig, wantFailure: "token claims"},
		{name: "claims null", token: header + "." + enc("null") + "." + sig, wantFailure: "want a JSON object"},
		{name: "header with trailing data", token: enc(`{"alg":"RS256"}{}`) + "." + claims + "." + sig, wantFailure: "more than one"},
		{name: "claims with a stray brace", token: header + "." + enc(`{"sub":"42"}}`) + "." + sig, wantFailure: "more than one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, c, failure := decodeJWT(tc.token)
			if tc.wantFailure != "" {
				if !strings.Contains(failure, tc.wantFailure) {
					t.Fatalf("failure = %q, want one containing %q", failure, tc.wantFailure)
				}
				return
			}
			if failure != "" {
				t.Fatalf("failed: %s", failure)
			}
			if !reflect.DeepEqual(h, tc.wantHeader) {
				t.Errorf("header = %#v, want %#v", h, tc.wantHeader)
			}
			if !reflect.DeepEqual(c, tc.wantClaims) {
				t.Errorf("claims = %#v, want %#v", c, tc.wantClaims)
			}
		})
	}
}

// TestConcurrentUse moves a clock and writes a log from many goroutines while others read both; run
// it with -race.
func TestConcurrentUse(t *testing.T) {
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := NewClock(start)
	var logs LogBuffer
	const writers, steps = 8, 100

	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range steps {
				clock.Advance(time.Second)
				fmt.Fprintln(&logs, "line")
			}
		})
		wg.Go(func() {
			for range steps {
				if now := clock.Now(); now.Before(start) {
					t.Errorf("Now() = %v, before the start %v", now, start)
				}
				_ = logs.String()
			}
		})
	}
	wg.Wait()

	if got, want := clock.Now(), start.Add(writers*steps*time.Second); !got.Equal(want) {
		t.Errorf("after %d advances of 1 s, Now() = %v, want %v", writers*steps, got, want)
	}
	if got, want := strings.Count(logs.String(), "line\n"), writers*steps; got != want {
		t.Errorf("log has %d lines, want %d", got, want)
	}
	later := start.Add(48 * time.Hour)
	clock.Set(later)
	if got := clock.Now(); !got.Equal(later) {
		t.Errorf("after Set(%v), Now() = %v", later, got)
	}
	clock.Advance(-time.Hour)
	if got, want := clock.Now(), later.Add(-time.Hour); !got.Equal(want) {
		t.Errorf("after Advance(-1h), Now() = %v, want %v", got, want)
	}
}
