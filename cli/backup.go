package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"shopauth/db"
	"shopauth/db/schema"
)

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("backup", `backup FILE [--db FILE]

Writes a consistent copy of the database to FILE (which must not exist), also while the
server runs: one read transaction, so the copy is the database as of one instant. To
restore, stop the server, remove shopauth.db-wal and shopauth.db-shm if present, put the
copy in place of shopauth.db and start the server.`, stdout, stderr)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return UsageError(fs, "name one FILE to write")
	}
	if db.IsPostgres(*dbPath) {
		return errors.New("shopauth backup copies a SQLite database; for PostgreSQL use pg_dump (pg_dump --format=custom --file=shopauth.dump \"$URL\"), or shopauth db copy --from URL --to FILE.db for a SQLite copy")
	}
	if _, err := CheckDB(*dbPath, ExistingDB); err != nil {
		return err
	}
	if err := checkFolder(files[0]); err != nil {
		return err
	}
	d, err := db.Open(ctx, *dbPath, schema.AsIs) // a copy of whatever release's schema, unchanged
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Backup(ctx, files[0]); err != nil {
		return err
	}
	fi, err := os.Stat(files[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes)\n", AbsPath(*dbPath), files[0], fi.Size())
	return nil
}
