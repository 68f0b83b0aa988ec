package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Row copying for `shopauth db copy` (package db drives it; the columns are the same in both
// dialects, so rows move as they are).

// Columns lists a table's columns in order.
func (d *DB) Columns(ctx context.Context, table string) ([]string, error) {
	rows, err := d.reader.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// ReadRows calls fn with every row of each table (its cols), all read in one transaction, so the
// copy is the database as of one instant even while a server writes.
func (d *DB) ReadRows(ctx context.Context, tables []string, cols [][]string, fn func(table int, row []any) error) error {
	conn, err := d.reader.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, table := range tables {
		if err := readTable(ctx, tx, i, table, cols[i], fn); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
	}
	return nil
}

func readTable(ctx context.Context, tx *sql.Tx, i int, table string, cols []string, fn func(int, []any) error) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for j := range row {
			ptrs[j] = &row[j]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(i, row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// WriteRows fills the tables in one write transaction: it refuses a database that holds customers,
// empties the tables (a fresh database has its own keys and settings, which the copy replaces),
// and calls fill with a function that inserts one row.
func (d *DB) WriteRows(ctx context.Context, tables []string, cols [][]string, fill func(insert func(table int, row []any) error) error) error {
	tx, err := d.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w (%d)", ErrHasCustomers, n)
	}
	inserts := make([]*sql.Stmt, len(tables))
	for i := len(tables) - 1; i >= 0; i-- {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+tables[i]); err != nil {
			return err
		}
	}
	for i, table := range tables {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols[i])), ", ")
		if inserts[i], err = tx.PrepareContext(ctx, `INSERT INTO `+table+` (`+strings.Join(cols[i], ", ")+`) VALUES (`+marks+`)`); err != nil {
			return err
		}
		defer inserts[i].Close()
	}
	err = fill(func(table int, row []any) error {
		for j, v := range row {
			if b, ok := v.(bool); ok { // PostgreSQL's BOOLEAN is SQLite's INTEGER 0/1
				row[j] = 0
				if b {
					row[j] = 1
				}
			}
		}
		if _, err := inserts[table].ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("insert into %s: %w", tables[table], err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Commit()
}

// ErrHasCustomers refuses a copy into a database that already holds customers.
var ErrHasCustomers = errors.New("the destination already holds customers")
