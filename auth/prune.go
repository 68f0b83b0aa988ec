package auth

import (
	"context"
	"time"
)

// pruneBatch is how many expired rows one prune transaction deletes: 50,000 sessions deleted at
// once held the write lock for 1.76 s; in batches every other write waits one batch at most.
const pruneBatch = 500

// pruneExpired deletes what expired by now in batches, each its own transaction, and returns how
// many sessions went.
func (s *Service) pruneExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for ctx.Err() == nil {
		var n int
		err := s.store.Update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.DeleteExpired(now, now.Add(-s.cfg.AuditRetention), pruneBatch)
			return err
		})
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}
