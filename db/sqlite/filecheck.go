package sqlite

import (
	"fmt"
	"os"
)

// CheckFile reports an error when the database file is no longer the one opened: deleted (SQLite
// keeps writing into the unlinked file, and everything is lost at the next start) or replaced.
func (d *DB) CheckFile() error {
	fi, err := os.Stat(d.path)
	if err != nil {
		return fmt.Errorf("database file %s is gone: %w", d.path, err)
	}
	if !os.SameFile(fi, d.file) {
		return fmt.Errorf("database file %s was replaced by another file", d.path)
	}
	return nil
}
