package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"shopauth/db/sqlstore"
)

// pgCode is the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// unique reports a unique violation and the constraint's name.
func unique(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName, true
	}
	return "", false
}

// retryable: PostgreSQL chose this transaction as the victim of a deadlock or a serialization
// conflict; running it again is what the server asks for.
func retryable(err error) bool {
	c := pgCode(err)
	return c == "40P01" || c == "40001"
}

// dialect is how PostgreSQL differs; see sqlstore.Dialect.
func (d *DB) dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Numbered:       true,
		RowLocks:       true,
		ReturningJoins: true,
		Contains:       "strpos",
		Timeout:        d.timeout,
		Unique:         unique,
		Unreachable:    unreachable,
		Retryable:      retryable,
		Lock:           lock,
		QueryRow: func(ctx context.Context, query string, args ...any) sqlstore.Row {
			return d.pool.QueryRow(ctx, query, args...)
		},
		KeyAdded: func(ctx context.Context, tx *sql.Tx, id string) error {
			_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, keysChannel, id)
			return err
		},
		Copy: sqlstore.CopyDialect{
			Columns: `SELECT column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
			Booleans: `SELECT column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = ? AND data_type = 'boolean'`,
			Snapshot:   sql.LevelRepeatableRead,
			Lock:       `LOCK TABLE customers IN EXCLUSIVE MODE`,
			Overriding: ` OVERRIDING SYSTEM VALUE`,
			Copied:     moveIdentity,
		},
	}
}

// lock takes a transaction advisory lock: the key ring's and pruning's have fixed keys, a
// setting's is the hash of its name.
func lock(ctx context.Context, tx *sql.Tx, name string, try bool) (bool, error) {
	fn := "pg_advisory_xact_lock"
	if try {
		fn = "pg_try_advisory_xact_lock"
	}
	var q string
	var arg any
	switch {
	case name == "keys":
		q, arg = `SELECT `+fn+`($1)`, lockKeys
	case name == "prune":
		q, arg = `SELECT `+fn+`($1)`, lockPrune
	case strings.HasPrefix(name, "setting."):
		q, arg = `SELECT `+fn+`(hashtextextended('shopauth.setting.' || $1, 0))`, strings.TrimPrefix(name, "setting.")
	default:
		return false, fmt.Errorf("no advisory lock named %q", name)
	}
	if !try {
		_, err := tx.ExecContext(ctx, q, arg)
		return err == nil, err
	}
	var got bool
	err := tx.QueryRowContext(ctx, q, arg).Scan(&got)
	return got, err
}

// moveIdentity moves the sequence of table's id identity (if it has one) past the ids copied.
func moveIdentity(ctx context.Context, tx *sql.Tx, table string) error {
	var seq *string
	if err := tx.QueryRowContext(ctx, `SELECT pg_get_serial_sequence($1, 'id')`, table).Scan(&seq); err != nil {
		return err
	}
	if seq == nil {
		return nil // an id that is not an identity (signing_keys)
	}
	_, err := tx.ExecContext(ctx, `SELECT setval($1, COALESCE((SELECT MAX(id) FROM `+table+`), 0) + 1, false)`, *seq)
	return err
}
