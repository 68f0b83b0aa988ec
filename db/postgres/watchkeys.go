package postgres

import (
	"context"
	"time"
)

// WatchKeys calls changed whenever a signing key is added to the database, by this process or any
// other (LISTEN on the channel AddSigningKey notifies), until ctx is done. After (re)connecting it
// calls changed once, since a key may have come while nobody listened. The server's 30-second
// reload stays as the fallback.
func (d *DB) WatchKeys(ctx context.Context, changed func()) {
	for ctx.Err() == nil {
		d.listenKeys(ctx, changed)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second): // the database is away: try again
		}
	}
}

func (d *DB) listenKeys(ctx context.Context, changed func()) {
	pc, err := d.pool.Acquire(ctx)
	if err != nil {
		return
	}
	// The listening connection leaves the pool for good: it must not serve queries meanwhile.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+keysChannel); err != nil {
		return
	}
	changed()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		changed()
	}
}
