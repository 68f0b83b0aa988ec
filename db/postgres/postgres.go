// Package postgres keeps shopauth's data in a PostgreSQL database that any number of shopauth
// processes may share (github.com/jackc/pgx/v5 through its pool). The queries are db/sqlstore's:
// transactions and lists run over database/sql through pgx's stdlib adapter on the same pool, and
// the one-row queries outside a transaction (the rotation, the authenticated read) on pgx itself,
// where the adapter would cost each 50 to 90 allocations. This package opens the pool, says how
// PostgreSQL differs (Dialect), and keeps the native pgx connection where database/sql has no
// word for what is done: the migration lock, LISTEN for new keys and the shared throttle.
//
// What makes several processes safe:
//   - migrations run under a session advisory lock, so processes starting at once apply each once;
//   - a rotation reads its session row with SELECT … FOR UPDATE, so parallel refreshes of one token
//     on any number of processes queue on that row and exactly one rotates;
//   - a setting read inside a transaction takes a transaction advisory lock on its name, so two
//     processes creating the same setting (the chain key on first start) agree on one value;
//   - a transaction that reads the key ring (a rotation, a first start) takes a transaction
//     advisory lock, so two decide one after the other and make one next key, one first key;
//   - pruning takes a transaction advisory try-lock: one process prunes, the others skip;
//   - a key added by any process (or by `shopauth keys`) is announced with NOTIFY, and every
//     server reloads its key ring at once.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"shopauth/db/schema"
	"shopauth/db/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys (one 64-bit space per database; the high bits spell "shopauth").
const (
	lockMigrate int64 = 0x73686f7061757400 + iota
	lockPrune
	lockKeys // a transaction deciding on the key ring (Tx.SigningKeys)
)

// keysChannel is the NOTIFY channel on which a new signing key is announced.
const keysChannel = "shopauth_keys"

// DefaultTimeout bounds each read and each write transaction whose context has no earlier deadline,
// so that a database that stops answering turns into errors, not into requests that hang.
const DefaultTimeout = 5 * time.Second

// DB is an open PostgreSQL store.
type DB struct {
	*sqlstore.Store
	pool    pool    // native, for what database/sql cannot say
	sqlDB   *sql.DB // the same pool's connections, for the store's queries
	target  string  // the URL without its password, for messages
	timeout time.Duration

	schema.Applied // what Open migrated
}

// IsURL reports whether a --db value names a PostgreSQL database rather than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://… or postgresql://…) and migrates it.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenMode(ctx, url, schema.Migrate)
}

// OpenMode connects to the database at url, doing about pending migrations what mode says.
func OpenMode(ctx context.Context, url string, mode schema.Mode) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's message quotes the URL with the password masked.
		return nil, fmt.Errorf("PostgreSQL URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "shopauth"
	}
	// pgxpool defaults to max(4, CPUs) connections; a refresh holds one for a transaction, an
	// authenticated read for one query. A few more than the CPUs keeps them busy while others wait
	// on the network, and leaves PostgreSQL's max_connections (100) room for several processes.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 12
	}
	cfg.HealthCheckPeriod = 5 * time.Second
	d := &DB{target: redact(cfg.ConnConfig), timeout: DefaultTimeout}
	d.pool.Pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL %s: %w", d.target, err)
	}
	d.sqlDB = stdlib.OpenDBFromPool(d.pool.Pool)
	d.Store, _ = sqlstore.New(ctx, d.dialect(), d.sqlDB, d.sqlDB, false) // nothing to prepare: pgx caches statements per connection
	if mode == schema.AsIs {
		return d, nil
	}
	if err := d.migrate(ctx, mode); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// String names the database (user, host, port, name; never the password).
func (d *DB) String() string { return d.target }

// Close closes every connection.
func (d *DB) Close() error {
	d.Store.Close()
	err := d.sqlDB.Close()
	d.pool.Close()
	return err
}

// deadline bounds ctx by the store's timeout unless it already ends sooner.
func (d *DB) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.timeout)
}

// SchemaVersion is the database's schema version (0 for an empty database).
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var exists bool
	if err := d.pool.QueryRow(ctx, "SELECT to_regclass('shopauth_schema') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("PostgreSQL %s: read schema version: %w", d.target, err)
	}
	if !exists {
		return 0, nil
	}
	var current int
	if err := d.pool.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM shopauth_schema").Scan(&current); err != nil {
		return 0, fmt.Errorf("PostgreSQL %s: read schema version: %w", d.target, err)
	}
	return current, nil
}

// Migrations are this binary's migrations for the store.
func (d *DB) Migrations() fs.FS { return migrations }

// migrate applies the embedded migrations newer than the stored version that mode allows, each in
// its own transaction, while holding an advisory lock so that processes starting together take turns.
func (d *DB) migrate(ctx context.Context, mode schema.Mode) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("PostgreSQL %s: %w", d.target, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockMigrate); err != nil {
		return fmt.Errorf("PostgreSQL %s: lock for migrations: %w", d.target, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockMigrate)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS shopauth_schema (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("PostgreSQL %s: %w", d.target, err)
	}
	var current int
	if err := conn.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM shopauth_schema").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	d.Applied = schema.Applied{From: current, To: current}
	pending, err := schema.Plan(migrations, current, mode)
	if err != nil {
		return err
	}
	for _, m := range pending {
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO shopauth_schema (version) VALUES ($1)", m.Version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		d.Applied.To = m.Version
	}
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
