package auth

import (
	"context"
	"time"
)

// pruneBatch is how many expired rows one prune transaction deletes: 50,000 sessions deleted at
// once held the write lock for 1.76 s; in batches every other write waits one batch at most. A
// batch of 500 sessions with random device ids dirtied about a thousand pages and held SQLite's
// writer for 43 ms on the loaded test machine, long enough to put refreshes 170 ms behind at p99;
// each session deleted dirties about one page of the customer index wherever it lies, so a
// batch's time, and a refresh's longest wait for the writer, are proportional to its size.
const pruneBatch = 100

// pruneRest is how many times as long as a batch took the prune pauses after it: the prune holds
// the writer, and the core it deletes on, at most a third of the time. With a pause as long as
// the batch (half the time) a prune of a million sessions on SQLite put refreshes' p99 200 ms
// behind on the loaded 2-core machine: the deletions and the WAL pages they write compete with
// the requests for the CPU.
const pruneRest = 2

// maxPrunePause bounds the pause after a batch.
const maxPrunePause = 250 * time.Millisecond

// prunePause is the pause after a batch that took took.
func prunePause(took time.Duration) time.Duration {
	return min(pruneRest*took, maxPrunePause)
}

// pruneExpired deletes what expired by now in batches, each its own transaction, and returns how
// many sessions went. After each full batch it pauses (prunePause), so that the writes of
// requests go between its batches instead of queueing behind a run of them.
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
		pause := time.NewTimer(prunePause(time.Since(start)))
		select {
		case <-ctx.Done():
			pause.Stop()
		case <-pause.C:
		}
	}
	return total, ctx.Err()
}
