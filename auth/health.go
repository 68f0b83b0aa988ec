package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Health tells the truth about writes: /healthz once answered ok while every write failed (a full
// disk, files made immutable), because it only read. So Ping also writes a tiny setting now and
// then, and answers with the outcome of the last write: an error from the first failed write (its
// own or a request's) until a write of its own succeeds. Only its own write clears a failure: a
// request's transaction that succeeds may have written nothing, which a full disk allows.
const (
	healthWriteEvery    = 5 * time.Second // while writes succeed
	healthRetryEvery    = time.Second     // while the last write failed
	healthWriteSetting  = "health_written_at"
	healthWriteDeadline = 2 * time.Second
)

type writeHealth struct {
	mu        sync.Mutex
	probedAt  time.Time
	failedAt  time.Time // of the failed write not yet followed by a probe that succeeded
	lastError error
	failures  uint64 // ever seen, so that a probe clears only the failures from before it
}

func (h *writeHealth) failed(now time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failedAt, h.lastError = now, err
	h.failures++
}

// watchedStore is the service's store with every failed write transaction remembered.
type watchedStore struct {
	Store
	s *Service
}

func (w watchedStore) Update(ctx context.Context, fn func(Tx) error) error {
	err := w.Store.Update(ctx, fn)
	var domain *Error
	if err != nil && !errors.As(err, &domain) && ctx.Err() == nil {
		w.s.health.failed(w.s.Now(), err)
	}
	return err
}

// Ping reports whether storage answers reads and took the last write.
func (s *Service) Ping(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	now := s.Now()
	h := &s.health
	h.mu.Lock()
	every := healthWriteEvery
	if h.lastError != nil {
		every = healthRetryEvery
	}
	due := now.Sub(h.probedAt) >= every || now.Before(h.probedAt)
	if due {
		h.probedAt = now
	}
	seen := h.failures
	h.mu.Unlock()
	if due {
		wctx, cancel := context.WithTimeout(ctx, healthWriteDeadline)
		err := s.store.Update(wctx, func(tx Tx) error {
			return tx.SetSetting(healthWriteSetting, []byte(strconv.FormatInt(now.Unix(), 10)))
		})
		cancel()
		h.mu.Lock()
		if err == nil && h.failures == seen {
			// Written, and nothing failed meanwhile: healthy again.
			h.failedAt, h.lastError = time.Time{}, nil
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lastError != nil {
		return fmt.Errorf("a write failed %v ago: %w", now.Sub(h.failedAt).Round(time.Second), h.lastError)
	}
	return nil
}
