// Package sqlite keeps shopauth's data in one SQLite file (modernc.org/sqlite, no cgo): one writer
// connection whose transactions begin IMMEDIATE, a small read-only pool beside it, and numbered
// migrations embedded in the binary. The queries are db/sqlstore's; this package opens the
// connections, says how SQLite differs (Dialect), and backs up and checkpoints the file.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"shopauth/db/schema"
	"shopauth/db/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open database: a writer and a reader pool over the same file.
type DB struct {
	*sqlstore.Store
	path   string
	file   os.FileInfo // as opened, to notice the file deleted or replaced
	writer *sql.DB
	reader *sql.DB
	ckpt   *checkpointer // checkpoint.go

	schema.Applied // what Open migrated
}

// Synchronous is the SQLite synchronous level. In WAL mode NORMAL never loses a committed
// transaction when the process crashes (kill -9); only a power cut or kernel crash can lose the
// last commits. FULL also survives those, at the cost of an fsync per commit.
const Synchronous = "NORMAL"

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+Synchronous+")")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "wal_autocheckpoint(0)") // checkpoint.go copies the WAL in the background
	}
	q.Set("_txlock", "immediate")
	q.Set("_dqs", "0")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating with mode 0600 if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenMode(ctx, path, schema.Migrate)
}

// OpenMode opens (creating with mode 0600 if needed) the database at path, doing about pending
// migrations what mode says.
func OpenMode(ctx context.Context, path string, mode schema.Mode) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	d := &DB{path: abs, file: fi, writer: w}
	if err := d.migrate(ctx, mode); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	d.reader = r
	// With AsIs the schema may be another release's: nothing is prepared at open.
	if d.Store, err = sqlstore.New(ctx, d.dialect(), w, r, mode != schema.AsIs); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	if err := d.startCheckpointer(); err != nil {
		d.Store.Close()
		r.Close()
		w.Close()
		return nil, err
	}
	return d, nil
}

// Checkpoint copies the WAL into the main file and truncates it. The server does this when it
// stops; a command run beside a live server must not, as it would wait on the server's readers
// while holding off its writers.
func (d *DB) Checkpoint(ctx context.Context) error {
	_, err := d.writer.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// Close stops the background checkpoint and closes the pools. (SQLite checkpoints by itself when
// the last connection to the file closes.)
func (d *DB) Close() error {
	err := d.stopCheckpointer()
	d.Store.Close()
	return errors.Join(err, d.reader.Close(), d.writer.Close())
}

// Path is the database file's absolute path.
func (d *DB) Path() string { return d.path }

// SchemaVersion is the database's schema version (PRAGMA user_version; 0 for an empty database).
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var current int
	if err := d.writer.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return current, nil
}

// Migrations are this binary's migrations for the store.
func (d *DB) Migrations() fs.FS { return migrations }

// migrate applies the embedded migrations newer than PRAGMA user_version that mode allows, each in
// its own transaction.
func (d *DB) migrate(ctx context.Context, mode schema.Mode) error {
	current, err := d.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	d.Applied = schema.Applied{From: current, To: current}
	pending, err := schema.Plan(migrations, current, mode)
	if err != nil {
		return err
	}
	for _, m := range pending {
		tx, err := d.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		d.Applied.To = m.Version
	}
	return nil
}
