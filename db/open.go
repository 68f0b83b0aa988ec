// Package db opens the store a --db value names: a PostgreSQL database for a postgres:// or
// postgresql:// URL (db/postgres), a SQLite file for anything else (db/sqlite).
package db

import (
	"context"
	"time"

	"shopauth/auth"
	"shopauth/db/postgres"
	"shopauth/db/sqlite"
)

// Store is what the server and the commands need of either store, beyond auth.Store.
type Store interface {
	auth.Store
	CountSessions(ctx context.Context, now time.Time) (int, error)
	CountCustomers(ctx context.Context) (int, error)
	AuditEvents(ctx context.Context, limit int) ([]auth.AuditEvent, error)
	Close() error
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// IsPostgres reports whether target is a PostgreSQL URL.
func IsPostgres(target string) bool { return postgres.IsURL(target) }

// Open opens and migrates the store target names. A missing SQLite file is created.
func Open(ctx context.Context, target string) (Store, error) {
	if IsPostgres(target) {
		d, err := postgres.Open(ctx, target)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	d, err := sqlite.Open(ctx, target)
	if err != nil {
		return nil, err
	}
	return d, nil
}
