package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Row copying for `shopauth db copy` (package db drives it; the columns are the same in both
// dialects, so rows move as they are, apart from booleans and identity sequences).

// ErrHasCustomers refuses a copy into a database that already holds customers.
var ErrHasCustomers = errors.New("the destination already holds customers")

// Columns lists a table's columns in order.
func (d *DB) Columns(ctx context.Context, table string) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ReadRows calls fn with every row of each table (its cols), all read in one REPEATABLE READ
// transaction, so the copy is the database as of one instant even while servers write.
func (d *DB) ReadRows(ctx context.Context, tables []string, cols [][]string, fn func(table int, row []any) error) error {
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for i, table := range tables {
		rows, err := tx.Query(ctx, `SELECT `+strings.Join(cols[i], ", ")+` FROM `+table)
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for rows.Next() {
			row, err := rows.Values()
			if err == nil {
				err = fn(i, row)
			}
			if err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
	}
	return nil
}

// WriteRows fills the tables in one transaction: it refuses a database that holds customers,
// empties the tables (a fresh database has its own keys and settings, which the copy replaces),
// calls fill with a function that inserts one row, and moves each identity past the copied ids.
func (d *DB) WriteRows(ctx context.Context, tables []string, cols [][]string, fill func(insert func(table int, row []any) error) error) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// No customer may appear between the check and the commit (a server registering on it).
	if _, err := tx.Exec(ctx, `LOCK TABLE customers IN EXCLUSIVE MODE`); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w (%d)", ErrHasCustomers, n)
	}
	for i := len(tables) - 1; i >= 0; i-- {
		if _, err := tx.Exec(ctx, `DELETE FROM `+tables[i]); err != nil {
			return err
		}
	}
	// SQLite's INTEGER 0/1 goes into BOOLEAN columns as a bool.
	boolean := make([][]bool, len(tables))
	inserts := make([]string, len(tables))
	for i, table := range tables {
		boolean[i] = make([]bool, len(cols[i]))
		var types []string
		rows, err := tx.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, table)
		if err != nil {
			return err
		}
		kinds := map[string]string{}
		for rows.Next() {
			var c, k string
			if err := rows.Scan(&c, &k); err != nil {
				rows.Close()
				return err
			}
			kinds[c] = k
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for j, c := range cols[i] {
			boolean[i][j] = kinds[c] == "boolean"
			types = append(types, "$"+strconv.Itoa(j+1))
		}
		inserts[i] = `INSERT INTO ` + table + ` (` + strings.Join(cols[i], ", ") + `) OVERRIDING SYSTEM VALUE VALUES (` + strings.Join(types, ", ") + `)`
	}
	err = fill(func(table int, row []any) error {
		for j, v := range row {
			if i, ok := v.(int64); ok && boolean[table][j] {
				row[j] = i != 0
			}
		}
		if _, err := tx.Exec(ctx, inserts[table], row...); err != nil {
			return fmt.Errorf("insert into %s: %w", tables[table], err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, table := range tables {
		if !slices.Contains(cols[i], "id") {
			continue
		}
		var seq *string
		if err := tx.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, 'id')`, table).Scan(&seq); err != nil {
			return fmt.Errorf("identity of %s: %w", table, err)
		}
		if seq == nil {
			continue // an id that is not an identity (signing_keys)
		}
		if _, err := tx.Exec(ctx, `SELECT setval($1, COALESCE((SELECT MAX(id) FROM `+table+`), 0) + 1, false)`, *seq); err != nil {
			return fmt.Errorf("identity of %s: %w", table, err)
		}
	}
	return tx.Commit(ctx)
}
