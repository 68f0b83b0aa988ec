package auth

import (
	"testing"
	"time"
)

// TestFailureFloorFollowsObservedChecks: the floor is the larger of the calibrated base and the
// slowest check of the current or the previous ten-minute window.
func TestFailureFloorFollowsObservedChecks(t *testing.T) {
	var f failureFloor
	f.base = 100 * time.Millisecond
	steps := []struct {
		at      time.Duration
		observe time.Duration
		want    time.Duration
	}{
		{0, 0, 100 * time.Millisecond},
		{time.Second, 700 * time.Millisecond, 700 * time.Millisecond}, // a slow hash was checked
		{5 * time.Minute, 50 * time.Millisecond, 700 * time.Millisecond},
		{11 * time.Minute, 0, 700 * time.Millisecond}, // the previous window still counts
		{22 * time.Minute, 0, 100 * time.Millisecond}, // two windows later it does not
		{22*time.Minute + time.Second, 300 * time.Millisecond, 300 * time.Millisecond},
	}
	for _, s := range steps {
		now := t0.Add(s.at)
		if s.observe > 0 {
			f.observe(now, s.observe)
		}
		if got := f.get(now); got != s.want {
			t.Errorf("at +%v: floor %v, want %v", s.at, got, s.want)
		}
	}
}
