package auth

import (
	"testing"
	"time"
)

// TestPrunePause: the prune pauses twice as long as a batch took (it holds the writer at most a
// third of the time), at least until minPruneInterval since the batch started (at most one batch
// every 40 ms), and never longer than maxPrunePause.
func TestPrunePause(t *testing.T) {
	for _, tc := range []struct {
		name       string
		took, want time.Duration
	}{
		{"instant batch waits the whole interval", 0, minPruneInterval},
		{"fast batch waits out the interval", time.Millisecond, minPruneInterval - time.Millisecond},
		{"the interval and twice the batch meet", minPruneInterval / 3, minPruneInterval - minPruneInterval/3},
		{"slower batch rests twice its time", 17 * time.Millisecond, 34 * time.Millisecond},
		{"batch longer than the interval", minPruneInterval + time.Millisecond, 2*minPruneInterval + 2*time.Millisecond},
		{"bounded at half the cap", maxPrunePause / 2, maxPrunePause},
		{"bounded just past half the cap", maxPrunePause/2 + time.Millisecond, maxPrunePause},
		{"bounded after a stalled batch", time.Minute, maxPrunePause},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := prunePause(tc.took); got != tc.want {
				t.Errorf("prunePause(%v) = %v, want %v", tc.took, got, tc.want)
			}
		})
	}
}
