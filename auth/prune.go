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

// minPruneInterval is the shortest time from one batch's start to the next: the prune deletes at
// most 2,500 sessions a second, a million in about seven minutes. On SQLite each session deleted
// rewrites about one page of the device id index wherever it lies, so the prune's deletions, not
// only its share of the writer, are what the disk and the checkpoint see: at 6,000 a second on
// the 2-core machine the WAL passed the checkpoint's restart mark (8,000 frames) every second,
// and each restart, a copy and two syncs through the writer, held every refresh for up to 100 ms.
const minPruneInterval = 40 * time.Millisecond

// maxPrunePause bounds the pause after a batch.
const maxPrunePause = 250 * time.Millisecond

// prunePause is the pause after a batch that took took: twice as long (pruneRest), and at least
// until minPruneInterval since the batch started, but never more than maxPrunePause.
func prunePause(took time.Duration) time.Duration {
	return min(max(pruneRest*took, minPruneInterval-took), maxPrunePause)
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
