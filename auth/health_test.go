package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"shopauth/internal/testkit"
)

// failingWrites is a store whose write transactions fail while broken is set, as on a full disk.
type failingWrites struct {
	*fakeStore
	broken bool
	writes int
}

func (f *failingWrites) Update(ctx context.Context, fn func(Tx) error) error {
	f.writes++
	if f.broken {
		return errors.New("disk I/O error")
	}
	return f.fakeStore.Update(ctx, fn)
}

// TestHealthTellsWriteFailures (issue 16 item 8): Ping reports a failed write for a minute, and
// writes a probe itself at most every 30 s, so a server nobody writes to still notices.
func TestHealthTellsWriteFailures(t *testing.T) {
	store := &failingWrites{fakeStore: newFakeStore()}
	cfg := DefaultConfig()
	cfg.SigningAlgorithm = ES256
	svc, err := New(context.Background(), store, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	svc.Now = clk.Now
	ctx := context.Background()
	steps := []struct {
		name      string
		advance   time.Duration
		broken    bool
		wantOK    bool
		wantProbe bool
	}{
		{"healthy: the first ping probes a write", 0, false, true, true},
		{"a second ping within 30 s writes nothing", 10 * time.Second, false, true, false},
		{"the disk fills: the next probe fails", 30 * time.Second, true, false, true},
		{"the failure is reported between probes", 10 * time.Second, true, false, false},
		{"the disk is fixed: the old failure still counts for a minute", 25 * time.Second, false, false, true},
		{"a minute after the failure, healthy again", 40 * time.Second, false, true, true},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		store.broken = s.broken
		before := store.writes
		err := svc.Ping(ctx)
		if (err == nil) != s.wantOK {
			t.Errorf("%s: Ping = %v, want ok %v", s.name, err, s.wantOK)
		}
		if probed := store.writes > before; probed != s.wantProbe {
			t.Errorf("%s: probed a write %v, want %v", s.name, probed, s.wantProbe)
		}
	}
	// A request's failed write counts too.
	clk.Advance(time.Hour)
	svc.Ping(ctx)
	store.broken = true
	svc.Logout(ctx, &Principal{DeviceID: "x"})
	store.broken = false
	if err := svc.Ping(ctx); err == nil {
		t.Error("a request's failed write is not reported")
	}
}
