package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the live database to path (VACUUM INTO), which must not exist.
// The copy holds the private keys and every password hash, so it is never readable by others, not
// even while it is written: it goes to a 0600 temporary file in the same folder, which takes the
// name only when complete. A failed backup leaves no file behind.
func (d *DB) Backup(ctx context.Context, path string) (err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err == nil {
		return fmt.Errorf("%s already exists", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmpPath)
			os.Remove(tmpPath + "-journal")
		}
	}()
	// A connection of its own: the readers are query-only, and the writer must stay free for requests.
	c, err := sql.Open("sqlite", dsn(d.path, false))
	if err != nil {
		return err
	}
	defer c.Close()
	// VACUUM INTO writes into an existing file when it is empty, keeping its mode.
	if _, err := c.ExecContext(ctx, "VACUUM INTO ?", tmpPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// A link fails if path appeared meanwhile, where a rename would replace it.
	if err := os.Link(tmpPath, abs); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return os.Remove(tmpPath)
}
