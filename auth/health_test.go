package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"shopauth/internal/testkit"
)

// TestHealthTellsWriteFailures: Ping turns to an error on the first failed write, its own probe's
// or a request's, and back to ok on the next write that succeeds; it probes at most every 5 s while
// writes succeed and every second while they fail.
func TestHealthTellsWriteFailures(t *testing.T) {
	base := newStore(t)
	broken, writes := false, 0 // as on a full disk: while broken, every write transaction fails
	store := InterceptedStore{Store: base, OnUpdate: func(ctx context.Context, fn func(Tx) error) error {
		writes++
		if broken {
			return errors.New("disk I/O error")
		}
		return base.Update(ctx, fn)
	}}
	cfg := DefaultConfig()
	cfg.SigningAlgorithm = ES256
	svc, err := New(context.Background(), store, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	svc.Now = clk.Now
	ctx := context.Background()
	requestWrite := func() { svc.Logout(ctx, &Principal{DeviceID: "x"}) }
	steps := []struct {
		name      string
		advance   time.Duration
		broken    bool
		request   bool // a request writes before the ping
		wantOK    bool
		wantProbe bool
	}{
		{"healthy: the first ping probes a write", 0, false, false, true, true},
		{"a second ping within 5 s writes nothing", 4 * time.Second, false, false, true, false},
		{"the disk fills: the probe 5 s after the last fails", time.Second, true, false, false, true},
		{"while writes fail, a ping within the second does not probe", 500 * time.Millisecond, true, false, false, false},
		{"the disk is fixed: the next probe succeeds, healthy at once", 500 * time.Millisecond, false, false, true, true},
		{"a request's failed write turns it at once", 0, true, true, false, false},
		{"a request's write that succeeds may have written nothing: the probe decides", time.Second, false, true, true, true},
		{"a request's failure between probes", 0, true, true, false, false},
		{"still failing a second later", time.Second, true, false, false, true},
		{"and healthy at the first probe that writes", time.Second, false, false, true, true},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		broken = s.broken
		if s.request {
			requestWrite()
		}
		before := writes
		err := svc.Ping(ctx)
		if (err == nil) != s.wantOK {
			t.Errorf("%s: Ping = %v, want ok %v", s.name, err, s.wantOK)
		}
		if probed := writes > before; probed != s.wantProbe {
			t.Errorf("%s: probed a write %v, want %v", s.name, probed, s.wantProbe)
		}
	}
}
