package auth

import (
	"context"
	"time"
)

// pruneBatch is how many expired rows one prune transaction deletes: 50,000 sessions deleted at
// once held the write lock for 1.76 s; in batches every other write waits one batch at most. A
// batch of 500 sessions with random device ids dirtied about a thousand pages and held SQLite's
// writer for 43 ms on the loaded test machine, long enough to put refreshes 170 ms behind at p99.
const pruneBatch = 200

// maxPrunePause bounds the pause after a batch.
const maxPrunePause = 250 * time.Millisecond

// pruneExpired deletes what expired by now in batches, each its own transaction, and returns how
// many sessions went. After each full batch it pauses as long as the batch took, so that the
// prune holds the writer at most half the time and the writes of requests go between its batches
// instead of queueing behind a run of them.
func (s *Service) pruneExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for ctx.Err() == nil {
		var n int
		start := time.Now()
		err := s.store.Update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.DeleteExpired(now, now.Add(-s.cfg.AuditRetention), pruneBatch)
			return err
		})
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
		pause := time.NewTimer(min(time.Since(start), maxPrunePause))
		select {
		case <-ctx.Done():
			pause.Stop()
		case <-pause.C:
		}
	}
	return total, ctx.Err()
}
