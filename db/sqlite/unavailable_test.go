package sqlite_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"shopauth/auth"
)

// TestWritesRefusedOnceTheFileIsGone: a write into a database file deleted (or replaced) under
// the running store is refused as auth.ErrUnavailable instead of going into the unlinked file.
func TestWritesRefusedOnceTheFileIsGone(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	noop := func(auth.Tx) error { return nil }
	if err := d.Update(ctx, noop); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(d.Path() + suffix)
	}
	if err := d.Update(ctx, noop); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Update = %v, want ErrUnavailable", err)
	}
	if _, _, err := d.RotateSession(ctx, auth.Session{DeviceID: "d"}, "u", time.Now()); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("RotateSession = %v, want ErrUnavailable", err)
	}
}
