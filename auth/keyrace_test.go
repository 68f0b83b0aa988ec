package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/db/sqlite"
)

// pendingKeys counts the stored keys still to start signing at now: signing keys and refresh keys.
func pendingKeys(t *testing.T, s interface {
	SigningKeys(context.Context) ([]auth.SigningKey, error)
}, now time.Time) (signing, refresh int) {
	t.Helper()
	keys, err := s.SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		switch {
		case !k.CreatedAt.After(now):
		case k.Algorithm == auth.HS256:
			refresh++
		default:
			signing++
		}
	}
	return signing, refresh
}

// TestRotateAtOnceLeavesOneNextKey: two `keys rotate` run at once (two processes on one database)
// leave one next signing key and one next refresh key; the one that came second says it kept the
// pending key. A third rotation later, while the key is still pending, adds nothing either; --now
// still makes a key that signs at once.
func TestRotateAtOnceLeavesOneNextKey(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	d2, err := sqlite.Open(ctx, e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	svc2, err := auth.New(ctx, d2, e.cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	svc2.Now = e.clock
	now := e.clock()

	rots := make([]auth.Rotation, 2)
	var wg sync.WaitGroup
	for i, svc := range []*auth.Service{e.svc, svc2} {
		wg.Go(func() {
			r, err := svc.RotateKey(ctx, auth.RS256, auth.SignAfterPublishing)
			if err != nil {
				t.Errorf("rotation %d: %v", i, err)
			}
			rots[i] = r
		})
	}
	wg.Wait()
	if signing, refresh := pendingKeys(t, e.db, now); signing != 1 || refresh != 1 {
		t.Fatalf("after two rotations at once: %d next signing keys, %d next refresh keys; want 1 and 1", signing, refresh)
	}
	if rots[0].Key.ID != rots[1].Key.ID || rots[0].AlreadyPending == rots[1].AlreadyPending {
		t.Fatalf("rotations = %+v / %+v, want the same key, one of them AlreadyPending", rots[0], rots[1])
	}

	e.advance(time.Minute) // the refresh key has started; the signing key is still pending
	again, err := svc2.RotateKey(ctx, auth.RS256, auth.SignAfterPublishing)
	if err != nil || !again.AlreadyPending || again.Key.ID != rots[0].Key.ID {
		t.Fatalf("rotation while %s is pending = %+v, %v; want it kept", rots[0].Key.ID, again, err)
	}
	if signing, refresh := pendingKeys(t, e.db, e.clock()); signing != 1 || refresh != 0 {
		t.Fatalf("after a third rotation: %d next signing keys, %d next refresh keys; want 1 and 0", signing, refresh)
	}

	leaked, err := e.svc.RotateKey(ctx, auth.RS256, auth.SignNow)
	if err != nil || leaked.AlreadyPending || leaked.Key.ID == rots[0].Key.ID {
		t.Fatalf("rotate --now while a key is pending = %+v, %v; want a new key", leaked, err)
	}
	if got := e.svc.SignerForTest().ID; got != leaked.Key.ID {
		t.Fatalf("after rotate --now %s signs, want %s", got, leaked.Key.ID)
	}
}
