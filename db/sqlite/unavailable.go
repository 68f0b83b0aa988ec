package sqlite

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"shopauth/auth"
)

// unreachable marks err auth.ErrUnavailable when it says the database file cannot be used: it
// cannot be opened, is read-only, fails with I/O errors, or its disk is full. The server answers
// such a failure with 503 and Retry-After instead of an internal error.
func unreachable(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL:
			return auth.Unavailable(err)
		}
	}
	return err
}

// writable refuses a write while the file is no longer the database opened (deleted or replaced):
// SQLite would go on writing into the unlinked file, and the write would be lost at the next start.
func (d *DB) writable() error { return auth.Unavailable(d.CheckFile()) }
