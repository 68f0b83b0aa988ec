package sqlite

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"shopauth/db/sqlstore"
)

// dialect is how SQLite differs; see sqlstore.Dialect.
func (d *DB) dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Contains:    "instr",
		Prepare:     true,
		GroupCommit: true,
		Unique:      unique,
		Unreachable: unreachable,
		Writable:    d.writable,
		Copy: sqlstore.CopyDialect{
			Columns: `SELECT name FROM pragma_table_info(?)`,
		},
	}
}

// unique reports a unique or primary-key violation and SQLite's message, which names the column
// ("UNIQUE constraint failed: customers.uuid").
func unique(err error) (string, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return se.Error(), true
	}
	return "", false
}
