package storetest_test

import (
	"testing"

	"shopauth/auth"
	"shopauth/db/storetest"
)

// The in-memory throttle is the reference the shared ones are held to.
func TestMemoryThrottleConformance(t *testing.T) {
	storetest.RunThrottle(t, func(*testing.T) auth.Throttle { return auth.NewMemoryThrottle(100) })
}
