package auth

import (
	"testing"
	"time"
)

// TestPrunePause: the prune pauses twice as long as a batch took (it holds the writer at most a
// third of the time), and never longer than maxPrunePause.
func TestPrunePause(t *testing.T) {
	for _, tc := range []struct {
		took, want time.Duration
	}{
		{0, 0},
		{time.Millisecond, 2 * time.Millisecond},
		{17 * time.Millisecond, 34 * time.Millisecond},
		{maxPrunePause / 2, maxPrunePause},
		{maxPrunePause/2 + time.Millisecond, maxPrunePause},
		{time.Minute, maxPrunePause},
	} {
		if got := prunePause(tc.took); got != tc.want {
			t.Errorf("prunePause(%v) = %v, want %v", tc.took, got, tc.want)
		}
	}
}
