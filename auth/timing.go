package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// A failed login is answered no earlier than a floor that covers checking the slowest password
// hash this server holds, so that its timing tells an unknown email, a native account and an
// imported bcrypt one of any cost apart by nothing (a $2y$13$ hash took 611 ms, $2y$10$ 78 ms, an
// unknown email 56 ms). The floor is the larger of what the highest stored bcrypt cost takes
// (measured when the stored costs change) and the slowest check seen in the last ten minutes or
// so, which also covers a machine slower than when it was measured.

// floorWindow is how long an observed check keeps the floor up.
const floorWindow = 10 * time.Minute

// recoveryFloor is how long RequestPasswordRecovery takes at least, known email or not: longer
// than its one write transaction, so the write's cost does not show.
const recoveryFloor = 25 * time.Millisecond

type failureFloor struct {
	mu       sync.Mutex
	costs    []int         // stored bcrypt costs the base was computed for
	base     time.Duration // from the stored bcrypt costs
	started  time.Time     // of the current observation window
	cur, old time.Duration // slowest check of the current and the previous window
}

func (f *failureFloor) observe(now time.Time, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roll(now)
	f.cur = max(f.cur, d)
}

func (f *failureFloor) roll(now time.Time) {
	if now.Sub(f.started) >= floorWindow || now.Before(f.started) {
		f.old, f.cur, f.started = f.cur, 0, now
	}
}

func (f *failureFloor) get(now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roll(now)
	return max(f.base, f.cur, f.old)
}

// maxCalibratedCost bounds the one-off measurement (about 1.2 s); hashes of a higher cost (stored
// before imports refused them) are covered by the observed checks once one has been checked.
const maxCalibratedCost = MaxBcryptCost

// calibrateFloor sets the floor's base from the bcrypt costs stored; it measures only when they
// changed. A store that cannot answer leaves the floor as it was.
func (s *Service) calibrateFloor(ctx context.Context) {
	costs, err := s.store.BcryptCosts(ctx)
	if err != nil {
		s.log.Warn("timing floor: stored bcrypt costs unknown", "err", err)
		return
	}
	slices.Sort(costs)
	f := &s.floor
	f.mu.Lock()
	same := slices.Equal(costs, f.costs)
	f.mu.Unlock()
	if same {
		return
	}
	var base time.Duration
	if len(costs) > 0 {
		// Hashing at the highest stored cost takes what checking such a hash takes. Once per
		// change of the stored costs (at start, and after an import), so the one-off cost is fine.
		// Half again as much, as one measurement on a shared machine varies that much.
		start := time.Now()
		_, _ = bcrypt.GenerateFromPassword([]byte("calibration"), min(costs[len(costs)-1], maxCalibratedCost))
		base = time.Since(start) * 3 / 2
	}
	f.mu.Lock()
	f.costs, f.base = costs, base
	f.mu.Unlock()
}

// answerReserve is kept free before a request's deadline for answering it: a failed login is
// answered invalid-credentials or too-many-login-attempts in time, never cut off as a timeout.
const answerReserve = 250 * time.Millisecond

// errBusy says a password could not be checked before the request had to be answered: every hash
// slot stayed taken. Login answers it as the throttle, whatever the email, so it tells nothing.
var errBusy = errors.New("no hash slot in time")

// checkPassword verifies password against hash, timing the check for the floor. Only the check
// itself is timed, never the wait for a slot: a flood that queues logins must not raise the floor
// of every failure after it. The wait ends in time to answer before ctx's deadline (errBusy).
func (s *Service) checkPassword(ctx context.Context, hash, password string) (ok, rehash bool, err error) {
	wctx, cancel := s.decideBy(ctx)
	defer cancel()
	ok, rehash, took, err := s.hasher.verifyTimed(wctx, s.Now, hash, password)
	if err != nil && wctx.Err() != nil && ctx.Err() == nil {
		return false, false, errBusy
	}
	if err == nil {
		s.floor.observe(s.Now(), took)
	}
	return ok, rehash, err
}

// decideBy returns ctx ending early enough before ctx's deadline to still check a password at
// the floor and answer.
func (s *Service) decideBy(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-s.floor.get(s.Now())-answerReserve))
}

// padFailure waits until the floor has passed since start, or until just before ctx's deadline.
func (s *Service) padFailure(ctx context.Context, start time.Time) {
	now := s.Now()
	d := s.floor.get(now) - now.Sub(start)
	if deadline, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(deadline)-answerReserve)
	}
	if d > 0 {
		s.Sleep(ctx, d)
	}
}

// padTo waits until d has passed since start.
func (s *Service) padTo(ctx context.Context, start time.Time, d time.Duration) {
	if left := d - s.Now().Sub(start); left > 0 {
		s.Sleep(ctx, left)
	}
}

// sleep is the real Service.Sleep: d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
