package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/db"
	"shopauth/db/schema"
)

// RunDB runs the cases of what db.Open returns beyond auth.Store: the session count, db copy
// and the abilities the store has (a case about an ability the store lacks is skipped). target
// names a new, empty database of the store's kind (a SQLite path, a PostgreSQL URL) each call.
func RunDB(t *testing.T, target func(t *testing.T) string) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, target func(t *testing.T) string)
	}{
		{"CountSessions", testCountSessions},
		{"Copy", testCopy},
		{"Checkpoint", testCheckpoint},
		{"WatchKeys", testWatchKeys},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, target) })
	}
}

// openDB opens (and migrates) the database target names, closing it when the test ends.
func openDB(t *testing.T, target string) *db.DB {
	t.Helper()
	d, err := db.Open(ctx(), target, schema.Migrate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func testCountSessions(t *testing.T, target func(t *testing.T) string) {
	d := openDB(t, target(t))
	c := addCustomer(t, d, "count@shop.cz")
	for i, exp := range []time.Time{now.Add(time.Hour), now.Add(time.Minute), now, now.Add(-time.Hour)} {
		s := newSession(string(rune('a'+i)), c.ID, "secret", exp)
		mustUpdate(t, d, func(tx auth.Tx) error { return tx.CreateSession(s) })
	}
	n, err := d.CountSessions(ctx(), now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("CountSessions = %d, want 2 (a session expiring exactly now is closed)", n)
	}
}

// testCopy: db.Copy carries customers, sessions, keys and settings into an empty database of the
// same kind, replacing its own key, and refuses a destination that holds customers.
func testCopy(t *testing.T, target func(t *testing.T) string) {
	src, dst := openDB(t, target(t)), openDB(t, target(t))
	c := addCustomer(t, src, "copied@shop.cz")
	sess := newSession("copied-device", c.ID, "secret", now.Add(time.Hour))
	key, err := auth.GenerateKey("EdDSA", now)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, src, func(tx auth.Tx) error {
		if err := tx.CreateSession(sess); err != nil {
			return err
		}
		if err := tx.AddSigningKey(key); err != nil {
			return err
		}
		return tx.SetSetting("issuer", []byte("https://shop.test"))
	})
	own, err := auth.GenerateKey("ES256", now)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, dst, func(tx auth.Tx) error { return tx.AddSigningKey(own) })

	counts, err := db.Copy(ctx(), src, dst)
	if err != nil {
		t.Fatal(err)
	}
	copied := map[string]int{}
	for _, tc := range counts {
		copied[tc.Table] = tc.Rows
	}
	if copied["customers"] != 1 || copied["sessions"] != 1 || copied["signing_keys"] != 1 || copied["settings"] != 1 {
		t.Errorf("copied %v, want one customer, session, key and setting", counts)
	}
	s, got, err := dst.SessionCustomer(ctx(), sess.DeviceID)
	if err != nil {
		t.Fatalf("the copied session: %v", err)
	}
	if got.UUID != c.UUID || got.ID != c.ID || got.Email != c.Email || !s.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("copied customer %+v, session expiring %v; want %+v, %v", got, s.ExpiresAt, c, sess.ExpiresAt)
	}
	keys, err := dst.SigningKeys(ctx())
	if err != nil || len(keys) != 1 || keys[0].ID != key.ID {
		t.Errorf("destination keys after the copy: %v (%v), want only the source's %s", keys, err, key.ID)
	}
	// The destination's ids go on after the copied ones.
	next := addCustomer(t, dst, "after-copy@shop.cz")
	if next.ID <= c.ID {
		t.Errorf("a customer added after the copy got id %d, not past the copied %d", next.ID, c.ID)
	}

	if _, err := db.Copy(ctx(), src, dst); !errors.Is(err, db.ErrHasCustomers) {
		t.Errorf("a copy into a database with customers: %v, want ErrHasCustomers", err)
	}
	if list, err := dst.Customers(ctx(), now); err != nil || len(list) != 2 {
		t.Errorf("the refused copy changed the destination: %d customers (%v), want 2", len(list), err)
	}
}

// testCheckpoint: a checkpoint (SQLite's WAL into the file) keeps every committed write, also with
// another connection open on the database.
func testCheckpoint(t *testing.T, target func(t *testing.T) string) {
	path := target(t)
	d := openDB(t, path)
	if d.Checkpoint == nil {
		t.Skip("the store has no write-ahead log to checkpoint")
	}
	c := addCustomer(t, d, "checkpoint@shop.cz")
	other := openDB(t, path)
	if _, err := other.CustomerByUUID(ctx(), c.UUID); err != nil {
		t.Fatal(err)
	}
	if err := d.Checkpoint(ctx()); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	d.Close()
	other.Close()
	again := openDB(t, path)
	if got, err := again.CustomerByUUID(ctx(), c.UUID); err != nil || got.Email != c.Email {
		t.Errorf("after the checkpoint: %+v, %v; want %s", got, err, c.Email)
	}
}

// testWatchKeys: a key added through another connection (another process) is announced to the
// watcher, which also hears of it once when it starts listening; it returns when ctx is done.
func testWatchKeys(t *testing.T, target func(t *testing.T) string) {
	url := target(t)
	d := openDB(t, url)
	if d.WatchKeys == nil {
		t.Skip("the store announces no keys; servers reload them periodically")
	}
	other := openDB(t, url)
	changed := make(chan struct{}, 16)
	watchCtx, stop := context.WithCancel(ctx())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.WatchKeys(watchCtx, func() { changed <- struct{}{} })
	}()
	wait := func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(30 * time.Second): // a bound on a hang, not a measurement
			t.Fatalf("no call of changed %s", what)
		}
	}
	wait("when the watcher started listening")
	key, err := auth.GenerateKey("EdDSA", now)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, other, func(tx auth.Tx) error { return tx.AddSigningKey(key) })
	wait("after another connection added a key")
	stop()
	<-done
}
