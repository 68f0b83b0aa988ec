package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"shopauth/auth"
)

// Throttle is an auth.Throttle whose budgets live in the database, so that every process sharing
// it counts against the same limits (contract §3: the limits hold for the deployment as a whole).
//
// Begin takes a transaction advisory lock on each key (in one order, so two attempts cannot
// deadlock), counts the key's failures within its window and the attempts in flight, and either
// refuses, admits (inserting a hold per key) or, when admitting could overspend the budget if
// everything in flight failed, waits and tries again, exactly as auth.MemoryThrottle decides.
type Throttle struct {
	d *DB
	// holdTTL is how long a dead process's attempt keeps its place (at the attempt's clock).
	holdTTL time.Duration
	// poll is how often a waiting attempt looks again.
	poll time.Duration
}

// Throttle returns the shared throttle of this database.
func (d *DB) Throttle() auth.Throttle {
	return &Throttle{d: d, holdTTL: time.Minute, poll: 20 * time.Millisecond}
}

type throttleKey struct {
	hash   []byte
	lock   int64
	max    int
	window int64 // milliseconds
}

func throttleKeys(limits []auth.Limit) []throttleKey {
	keys := make([]throttleKey, len(limits))
	for i, l := range limits {
		h := sha256.Sum256([]byte(l.Key))
		keys[i] = throttleKey{hash: h[:], lock: int64(binary.BigEndian.Uint64(h[:8])), max: l.Max,
			window: l.Span().Milliseconds()}
	}
	return keys
}

// Begin implements auth.Throttle.
func (th *Throttle) Begin(ctx context.Context, now time.Time, limits ...auth.Limit) (func(failed bool), error) {
	keys := throttleKeys(limits)
	locks := make([]int64, len(keys))
	hashes := make([][]byte, len(keys))
	windows := make([]int64, len(keys))
	for i, k := range keys {
		locks[i], hashes[i], windows[i] = k.lock, k.hash, k.window
	}
	sort.Slice(locks, func(i, j int) bool { return locks[i] < locks[j] })
	for {
		ids, verdict, err := th.try(ctx, now, keys, locks, hashes, windows)
		switch {
		case err != nil:
			return nil, err
		case verdict == refused:
			return nil, auth.ErrThrottled
		case verdict == admitted:
			var once sync.Once
			return func(failed bool) { once.Do(func() { th.end(ids, hashes, windows, now, failed) }) }, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(th.poll):
		}
	}
}

type verdict int

const (
	admitted verdict = iota
	refused
	wait
)

func (th *Throttle) try(ctx context.Context, now time.Time, keys []throttleKey, locks []int64, hashes [][]byte, windows []int64) ([]int64, verdict, error) {
	ctx, cancel := th.d.deadline(ctx)
	defer cancel()
	var ids []int64
	v := admitted
	err := pgx.BeginFunc(ctx, th.d.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, l := range locks {
			b.Queue(`SELECT pg_advisory_xact_lock($1)`, l)
		}
		b.Queue(`SELECT (SELECT COUNT(*) FROM throttle_failures f WHERE f.key = k.key AND f.at > $3 - k.win),
			(SELECT COUNT(*) FROM throttle_holds h WHERE h.key = k.key AND h.expires_at > $3)
			FROM unnest($1::bytea[], $2::bigint[]) WITH ORDINALITY AS k(key, win, n) ORDER BY k.n`, hashes, windows, ms(now))
		res := tx.SendBatch(ctx, b)
		for range locks {
			if _, err := res.Exec(); err != nil {
				res.Close()
				return err
			}
		}
		rows, err := res.Query()
		if err != nil {
			res.Close()
			return err
		}
		i := 0
		for rows.Next() {
			var failures, holds int
			if err := rows.Scan(&failures, &holds); err != nil {
				rows.Close()
				res.Close()
				return err
			}
			switch per := keys[i].max; {
			case failures >= per:
				v = refused
			case failures+holds >= per && v == admitted:
				v = wait
			}
			i++
		}
		rows.Close()
		if err := res.Close(); err != nil {
			return err
		}
		if v != admitted {
			return nil
		}
		hold, err := tx.Query(ctx, `INSERT INTO throttle_holds (key, expires_at) SELECT unnest($1::bytea[]), $2 RETURNING id`,
			hashes, ms(now.Add(th.holdTTL)))
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(hold, pgx.RowTo[int64])
		return err
	})
	return ids, v, err
}

// end releases the attempt's holds and, if it failed, counts a failure in each budget, in one
// statement. It cannot report an error to anyone: if the database is away, the holds expire.
func (th *Throttle) end(ids []int64, hashes [][]byte, windows []int64, now time.Time, failed bool) {
	ctx, cancel := context.WithTimeout(context.Background(), th.d.timeout)
	defer cancel()
	th.d.pool.Exec(ctx, `WITH released AS (DELETE FROM throttle_holds WHERE id = ANY($1))
		INSERT INTO throttle_failures (key, at, expires_at) SELECT k.key, $3, $3 + k.win
		FROM unnest($2::bytea[], $5::bigint[]) AS k(key, win) WHERE $4`, ids, hashes, ms(now), failed, windows)
}

// Sweep implements auth.Throttle: it forgets failures that have left their window and expired
// holds.
func (th *Throttle) Sweep(ctx context.Context, now time.Time) error {
	ctx, cancel := th.d.deadline(ctx)
	defer cancel()
	if _, err := th.d.pool.Exec(ctx, `DELETE FROM throttle_failures WHERE expires_at <= $1`, ms(now)); err != nil {
		return err
	}
	_, err := th.d.pool.Exec(ctx, `DELETE FROM throttle_holds WHERE expires_at <= $1`, ms(now))
	return err
}
