package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"shopauth/auth"
)

// TestBackgroundCheckpoint: commits leave the WAL to the background checkpoint (the writer has
// wal_autocheckpoint 0), which copies all of it when nothing else runs, and the next write starts
// the WAL over, also when it has passed walRestartFrames (checkpointed through the writer too).
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The test checkpoints by hand: the background loop would copy the WAL under it.
	d.ckpt.stopOnce.Do(func() { close(d.ckpt.stop) })
	<-d.ckpt.done
	var auto int
	if err := d.writer.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d, %v; want 0", auto, err)
	}
	write := func(from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			err := d.Update(ctx, func(tx auth.Tx) error {
				c := auth.Customer{UUID: fmt.Sprintf("u-%d", i), Email: fmt.Sprintf("c%d@shop.cz", i), FirstName: "J", LastName: "N", PasswordHash: "x"}
				return tx.CreateCustomer(&c)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	write(0, 50)
	frames, copied, err := d.checkpointOnce(ctx)
	if err != nil || frames == 0 || copied != frames {
		t.Fatalf("checkpoint = %d frames, %d copied, %v; want every frame copied", frames, copied, err)
	}

	d.ckpt.restartFrames = 20
	write(50, 50)
	big, _, err := d.checkpointOnce(ctx)
	if err != nil || big <= d.ckpt.restartFrames {
		t.Fatalf("WAL of %d frames, %v; want more than %d for this test", big, err, d.ckpt.restartFrames)
	}
	write(100, 1)
	frames, _, err = d.checkpointOnce(ctx)
	if err != nil || frames >= big {
		t.Fatalf("after the writer's checkpoint the WAL has %d frames (%v), not started over from %d", frames, err, big)
	}
}
