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
// then, and reports a failed write (its own or a request's) for a while after it happened.
const (
	healthWriteEvery    = 30 * time.Second
	writeFailureMemory  = time.Minute
	healthWriteSetting  = "health_written_at"
	healthWriteDeadline = 2 * time.Second
)

type writeHealth struct {
	mu        sync.Mutex
	probedAt  time.Time
	failedAt  time.Time
	lastError error
}

func (h *writeHealth) failed(now time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failedAt, h.lastError = now, err
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

// Ping reports whether storage answers reads and took the last writes.
func (s *Service) Ping(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	now := s.Now()
	h := &s.health
	h.mu.Lock()
	due := now.Sub(h.probedAt) >= healthWriteEvery || now.Before(h.probedAt)
	if due {
		h.probedAt = now
	}
	h.mu.Unlock()
	if due {
		wctx, cancel := context.WithTimeout(ctx, healthWriteDeadline)
		_ = s.store.Update(wctx, func(tx Tx) error {
			return tx.SetSetting(healthWriteSetting, []byte(strconv.FormatInt(now.Unix(), 10)))
		})
		cancel()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failedAt.IsZero() && now.Sub(h.failedAt) < writeFailureMemory {
		return fmt.Errorf("a write failed %v ago: %w", now.Sub(h.failedAt).Round(time.Second), h.lastError)
	}
	return nil
}
