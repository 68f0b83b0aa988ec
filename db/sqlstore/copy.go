package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Row copying for `shopauth db copy` (package db drives it). The columns are the same in both
// dialects, so rows move as they are, apart from booleans (SQLite's are integers 0 and 1) and
// PostgreSQL's identity sequences.

// CopyDialect is what copying rows needs to know of the database.
type CopyDialect struct {
	// Columns lists a table's columns in order, given its name.
	Columns string
	// Booleans lists a table's BOOLEAN columns, given its name ("": there are none; booleans are
	// stored as the integers 0 and 1).
	Booleans string
	// Snapshot is the isolation level at which one read transaction sees the database as of one
	// instant.
	Snapshot sql.IsolationLevel
	// Lock keeps customers from appearing between the check that there are none and the commit
	// ("": the write transaction already excludes every other writer).
	Lock string
	// Overriding lets an insert give an identity column its value (PostgreSQL: OVERRIDING SYSTEM VALUE).
	Overriding string
	// Copied moves a table's id sequence past the ids copied into it. nil: nothing to move.
	Copied func(ctx context.Context, tx *sql.Tx, table string) error
}

// ErrHasCustomers refuses a copy into a database that already holds customers.
var ErrHasCustomers = errors.New("the destination already holds customers")

// Columns lists a table's columns in order.
func (s *Store) Columns(ctx context.Context, table string) ([]string, error) {
	var cols []string
	err := s.readRows(ctx, func(scan func(...any) error) error {
		var c string
		err := scan(&c)
		cols = append(cols, c)
		return err
	}, s.d.Copy.Columns, table)
	return cols, err
}

// ReadRows calls fn with every row of each table (its cols), all read in one transaction, so the
// copy is the database as of one instant even while servers write.
func (s *Store) ReadRows(ctx context.Context, tables []string, cols [][]string, fn func(table int, row []any) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{Isolation: s.d.Copy.Snapshot, ReadOnly: true})
	if err != nil {
		return s.d.Unreachable(err)
	}
	defer tx.Rollback()
	for i, table := range tables {
		rows, err := tx.QueryContext(ctx, `SELECT `+strings.Join(cols[i], ", ")+` FROM `+table)
		if err == nil {
			err = each(rows, func(scan func(...any) error) error {
				row := make([]any, len(cols[i]))
				ptrs := make([]any, len(cols[i]))
				for j := range row {
					ptrs[j] = &row[j]
				}
				if err := scan(ptrs...); err != nil {
					return err
				}
				return fn(i, row)
			})
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
	}
	return nil
}

// WriteRows fills the tables in one write transaction: it refuses a database that holds customers,
// empties the tables (a fresh database has its own keys and settings, which the copy replaces),
// calls fill with a function that inserts one row, and moves each identity past the copied ids.
func (s *Store) WriteRows(ctx context.Context, tables []string, cols [][]string, fill func(insert func(table int, row []any) error) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.d.Unreachable(err)
	}
	defer tx.Rollback()
	if s.d.Copy.Lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.Copy.Lock); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w (%d)", ErrHasCustomers, n)
	}
	for i := len(tables) - 1; i >= 0; i-- {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+tables[i]); err != nil {
			return err
		}
	}
	inserts := make([]*sql.Stmt, len(tables))
	boolean := make([][]bool, len(tables))
	for i, table := range tables {
		if boolean[i], err = s.booleans(ctx, tx, table, cols[i]); err != nil {
			return err
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols[i])), ", ")
		q := `INSERT INTO ` + table + ` (` + strings.Join(cols[i], ", ") + `)` + s.d.Copy.Overriding + ` VALUES (` + marks + `)`
		if inserts[i], err = tx.PrepareContext(ctx, s.sql(q)); err != nil {
			return err
		}
		defer inserts[i].Close()
	}
	err = fill(func(table int, row []any) error {
		for j, v := range row {
			switch v := v.(type) {
			case int64:
				if boolean[table][j] {
					row[j] = v != 0
				}
			case bool:
				if !boolean[table][j] {
					row[j] = 0
					if v {
						row[j] = 1
					}
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
	if s.d.Copy.Copied != nil {
		for i, table := range tables {
			if !slices.Contains(cols[i], "id") {
				continue
			}
			if err := s.d.Copy.Copied(ctx, tx, table); err != nil {
				return fmt.Errorf("identity of %s: %w", table, err)
			}
		}
	}
	return tx.Commit()
}

// booleans marks which of cols are BOOLEAN columns of table.
func (s *Store) booleans(ctx context.Context, tx *sql.Tx, table string, cols []string) ([]bool, error) {
	marks := make([]bool, len(cols))
	if s.d.Copy.Booleans == "" {
		return marks, nil
	}
	rows, err := tx.QueryContext(ctx, s.sql(s.d.Copy.Booleans), table)
	if err != nil {
		return nil, err
	}
	err = each(rows, func(scan func(...any) error) error {
		var c string
		if err := scan(&c); err != nil {
			return err
		}
		for j, col := range cols {
			if col == c {
				marks[j] = true
			}
		}
		return nil
	})
	return marks, err
}
