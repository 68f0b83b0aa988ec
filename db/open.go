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
	"shopauth/db/sqlstore"
)

// Store is what the server and the commands need of either store, beyond auth.Store.
type Store interface {
	auth.Store
	// CountSessions counts the sessions still open at now (the metrics' gauge).
	CountSessions(ctx context.Context, now time.Time) (int, error)
	// Migrated returns the schema versions before and after Open's migrations.
	Migrated() (from, to int)
	// SchemaVersion is the database's schema version (0 for an empty database); Migrations are
	// this binary's for the store.
	SchemaVersion(ctx context.Context) (int, error)
	Migrations() fs.FS
	Close() error
}

// Abilities are what one store can do and the other cannot. A field is nil when the open store
// lacks the ability.
type Abilities struct {
	// Throttle is a throttle whose budgets every process on the database shares (PostgreSQL);
	// without it each process counts for itself (auth.MemoryThrottle).
	Throttle auth.Throttle
	// WatchKeys calls changed whenever any process adds a signing key, until ctx is done, and once
	// after each (re)connection (PostgreSQL's LISTEN/NOTIFY). Without it a server notices another
	// process's key at its periodic reload.
	WatchKeys func(ctx context.Context, changed func())
	// Checkpoint copies SQLite's write-ahead log into the database file and truncates it; the
	// server does it when it stops.
	Checkpoint func(ctx context.Context) error
	// CheckFile reports an error once the SQLite file is no longer the one opened (deleted or
	// replaced), which a running server must not write past.
	CheckFile func() error
	// Backup writes a consistent copy of the SQLite database to a new file (VACUUM INTO).
	Backup func(ctx context.Context, path string) error
}

// DB is an open store and its abilities.
type DB struct {
	Store
	Abilities
	sql *sqlstore.Store // the rows, for Copy
}

// IsPostgres reports whether target is a PostgreSQL URL.
func IsPostgres(target string) bool { return postgres.IsURL(target) }

// Open opens the store target names, doing about pending migrations what mode says: only serve and
// db migrate pass schema.Migrate. A missing SQLite file is created.
func Open(ctx context.Context, target string, mode schema.Mode) (*DB, error) {
	if IsPostgres(target) {
		d, err := postgres.OpenMode(ctx, target, mode)
		if err != nil {
			return nil, err
		}
		return &DB{Store: d, sql: d.Store, Abilities: Abilities{
			Throttle:  d.Throttle(),
			WatchKeys: d.WatchKeys,
		}}, nil
	}
	d, err := sqlite.OpenMode(ctx, target, mode)
	if err != nil {
		return nil, err
	}
	return &DB{Store: d, sql: d.Store, Abilities: Abilities{
		Checkpoint: d.Checkpoint,
		CheckFile:  d.CheckFile,
		Backup:     d.Backup,
	}}, nil
}

// SchemaStatus says where d stands against this binary's migrations.
func SchemaStatus(ctx context.Context, d Store) (schema.Status, error) {
	current, err := d.SchemaVersion(ctx)
	if err != nil {
		return schema.Status{}, err
	}
	return schema.StatusOf(d.Migrations(), current)
}
