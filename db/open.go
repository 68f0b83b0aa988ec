// Package db opens the store a --db value names: a PostgreSQL database for a postgres:// or
// postgresql:// URL (db/postgres), a SQLite file for anything else (db/sqlite).
package db

import (
	"context"
	"io/fs"
	"time"

	"shopauth/auth"
	"shopauth/db/postgres"
	"shopauth/db/schema"
	"shopauth/db/sqlite"
)

// Store is what the server and the commands need of either store, beyond auth.Store.
type Store interface {
	auth.Store
	CountSessions(ctx context.Context, now time.Time) (int, error)
	CountCustomers(ctx context.Context) (int, error)
	AuditEvents(ctx context.Context, limit int) ([]auth.AuditEvent, error)
	// Migrated returns the schema versions before and after Open's migrations.
	Migrated() (from, to int)
	// SchemaVersion is the database's schema version (0 for an empty database); Migrations are
	// this binary's for the store.
	SchemaVersion(ctx context.Context) (int, error)
	Migrations() fs.FS
	Close() error
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// IsPostgres reports whether target is a PostgreSQL URL.
func IsPostgres(target string) bool { return postgres.IsURL(target) }

// Open opens the store target names, doing about pending migrations what mode says: only serve and
// db migrate pass schema.Migrate. A missing SQLite file is created.
func Open(ctx context.Context, target string, mode schema.Mode) (Store, error) {
	if IsPostgres(target) {
		d, err := postgres.OpenMode(ctx, target, mode)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	d, err := sqlite.OpenMode(ctx, target, mode)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// SchemaStatus says where d stands against this binary's migrations.
func SchemaStatus(ctx context.Context, d Store) (schema.Status, error) {
	current, err := d.SchemaVersion(ctx)
	if err != nil {
		return schema.Status{}, err
	}
	return schema.StatusOf(d.Migrations(), current)
}
