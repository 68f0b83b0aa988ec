package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/db/sqlite"
	"shopauth/db/storetest"
)

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	d, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestOpenCreatesPrivateFileAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	ctx := context.Background()
	d, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database mode = %v, want 0600", perm)
	}
	// Opening again must not re-run migrations (they would fail on existing tables).
	d, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	d.Close()
}

// TestConformance runs the store conformance suite against SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) auth.Store { return openDB(t) })
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	if err := d.Update(ctx, func(tx auth.Tx) error { return tx.SetSetting("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy.db")
	if err := d.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	if err := d.Backup(ctx, out); err == nil {
		t.Error("backup over an existing file succeeded")
	}
	c, err := sqlite.Open(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Setting(ctx, "k")
	if err != nil || string(v) != "v" {
		t.Errorf("restored setting = %q, %v", v, err)
	}
}

// TestRotateAfterClose: a rotation after Close answers an error at once; it does not wait for a
// group commit that will never run.
func TestRotateAfterClose(t *testing.T) {
	d, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	// One rotation first, so that the committer is running when the store closes.
	if _, ok, err := d.RotateSession(context.Background(), auth.Session{DeviceID: "d"}, "u", time.Now()); ok || err != nil {
		t.Fatalf("RotateSession of no session = %v, %v; want false, nil", ok, err)
	}
	d.Close()
	if _, _, err := d.RotateSession(context.Background(), auth.Session{DeviceID: "d"}, "u", time.Now()); err == nil {
		t.Error("RotateSession after Close answered no error")
	}
}

// TestDB runs the conformance cases of db.Open's store and abilities on SQLite files.
func TestDB(t *testing.T) {
	storetest.RunDB(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "shop.db") })
}

// TestCheckpointTruncatesWAL: Checkpoint moves the write-ahead log into the file and empties it.
func TestCheckpointTruncatesWAL(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	err := d.Update(ctx, func(tx auth.Tx) error { return tx.SetSetting("x", make([]byte, 64<<10)) })
	if err != nil {
		t.Fatal(err)
	}
	wal := func() int64 {
		fi, err := os.Stat(d.Path() + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if n := wal(); n == 0 {
		t.Fatal("the write left the WAL empty; nothing to checkpoint")
	}
	if err := d.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if n := wal(); n != 0 {
		t.Errorf("WAL is %d bytes after Checkpoint, want 0", n)
	}
}

// TestCloseTwice: a second Close (a test's cleanup after its own) does nothing.
func TestCloseTwice(t *testing.T) {
	d, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
