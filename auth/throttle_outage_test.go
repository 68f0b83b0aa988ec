package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"shopauth/auth"
)

// unreachableThrottle is a shared throttle whose database is away.
type unreachableThrottle struct{}

func (unreachableThrottle) Begin(context.Context, time.Time, ...auth.Limit) (func(bool), error) {
	return nil, errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")
}
func (unreachableThrottle) Sweep(context.Context, time.Time) error { return nil }

// A throttle that cannot answer refuses the attempt (no unchecked guesses) with an internal error,
// not with too-many-login-attempts, which would blame a client that did nothing wrong.
func TestUnreachableThrottleRefusesAsInternal(t *testing.T) {
	e := newEnv(t)
	e.register("jan@shop.cz")
	e.svc.Throttle = unreachableThrottle{}
	_, err := e.svc.Login(context.Background(), "jan@shop.cz", testPassword)
	if auth.ErrorCode(err) != auth.EInternal || auth.ErrorMessage(err) != auth.MsgInternal {
		t.Fatalf("login with the throttle unreachable: %v, want %s / %q", err, auth.EInternal, auth.MsgInternal)
	}
}
