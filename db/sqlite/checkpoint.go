package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// The WAL is copied into the database file in the background, not by a commit. SQLite's own
// automatic checkpoint runs inside the commit that lets the WAL pass 1000 pages: that commit (on
// a loaded server, a group of refreshes) waits while about 4 MB are copied and both files are
// synced. Here the writer has wal_autocheckpoint(0) and a connection of its own checkpoints
// PASSIVE every checkpointInterval: it waits for neither the writer nor the readers, so commits go
// on meanwhile. A WAL that a stream of commits keeps from ever being copied to its end (so it never
// starts over) is checkpointed once through the writer when it passes walRestartFrames, and the
// next write transaction starts it over.

const checkpointInterval = 200 * time.Millisecond

// walRestartFrames is about 32 MB of WAL.
const walRestartFrames = 8000

// checkpointer is the background checkpoint: its connection and its goroutine.
type checkpointer struct {
	conn     *sql.DB
	stop     chan struct{}
	stopOnce sync.Once // Close may be called more than once
	done     chan struct{}

	restartFrames int // walRestartFrames; smaller in a test
}

func (d *DB) startCheckpointer() error {
	c, err := sql.Open("sqlite", dsn(d.path, false))
	if err != nil {
		return err
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxLifetime(0)
	c.SetConnMaxIdleTime(0)
	d.ckpt = &checkpointer{conn: c, stop: make(chan struct{}), done: make(chan struct{}), restartFrames: walRestartFrames}
	go d.checkpointLoop()
	return nil
}

func (d *DB) checkpointLoop() {
	defer close(d.ckpt.done)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-d.ckpt.stop:
			return
		case <-t.C:
			d.checkpointOnce(context.Background())
		}
	}
}

// checkpointOnce copies what it can of the WAL without waiting, and through the writer when the
// WAL has grown past walRestartFrames. It answers the WAL's frames and how many are copied.
func (d *DB) checkpointOnce(ctx context.Context) (frames, copied int, err error) {
	if d.CheckFile() != nil {
		return 0, 0, nil // the file is gone or replaced: the writes are refused, nothing to copy
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var busy int
	if err := d.ckpt.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, err
	}
	if frames > d.ckpt.restartFrames {
		err = d.writer.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	}
	return frames, copied, err
}

func (d *DB) stopCheckpointer() error {
	if d.ckpt == nil {
		return nil
	}
	d.ckpt.stopOnce.Do(func() { close(d.ckpt.stop) })
	<-d.ckpt.done
	return d.ckpt.conn.Close()
}
