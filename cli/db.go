package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"shopauth/db"
	"shopauth/db/schema"
)

// Only serve and db migrate change the schema. Every other command refuses a database older than
// the binary (schema.Outdated): after a rollback, a read by the newer binary would otherwise upgrade
// the database under the running older server, which then could not start again.

const dbUsage = `Usage:
  shopauth db status                     the database's schema version, this binary's, what is pending
  shopauth db migrate                    apply the pending migrations (as shopauth serve does at start)
  shopauth db copy --from SRC --to DST   copy everything between SQLite and PostgreSQL

Run shopauth db COMMAND --help for the details.
`

func runDB(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runGroup(ctx, "db", dbUsage, map[string]command{
		"copy": runDBCopy, "migrate": runDBMigrate, "status": runDBStatus,
	}, args, stdin, stdout, stderr)
}

// openForSchema parses a db status|migrate command line and opens the existing database in mode.
func openForSchema(ctx context.Context, args []string, name, usage string, mode schema.Mode, stdout, stderr io.Writer) (db.Store, string, error) {
	fs, dbPath := NewFlagSet(name, usage, stdout, stderr)
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return nil, "", err
	}
	if _, err := CheckDB(*dbPath, ExistingDB); err != nil {
		return nil, "", err
	}
	d, err := db.Open(ctx, *dbPath, mode)
	return d, *dbPath, err
}

func runDBMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	d, _, err := openForSchema(ctx, args, "db migrate", `db migrate [--db FILE]

Applies the migrations this binary has and the database has not, each in its own transaction, as
shopauth serve does at start. Servers of an older release cannot use the database afterwards:
stop them first (shopauth db status says what is pending).`, schema.Migrate, stdout, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	from, to := d.Migrated()
	if from == to {
		fmt.Fprintf(stdout, "the database is at schema %d, this binary's: nothing to migrate\n", to)
		return nil
	}
	fmt.Fprintln(stdout, MigratedMessage(from, to))
	return nil
}

func runDBStatus(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	d, dbPath, err := openForSchema(ctx, args, "db status", `db status [--db FILE]

Prints the database's schema version, this binary's, and the migrations that shopauth db migrate
(or shopauth serve) would apply. Changes nothing.`, schema.AsIs, stdout, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	st, err := db.SchemaStatus(ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database: %s\n", RedactDB(dbPath))
	fmt.Fprintf(stdout, "schema version: %d\n", st.Current)
	fmt.Fprintf(stdout, "this binary's schema version: %d\n", st.Latest)
	switch {
	case st.Current > st.Latest:
		fmt.Fprintln(stdout, "pending: none; the database is newer than this binary: use a newer shopauth")
	case len(st.Pending) == 0:
		fmt.Fprintln(stdout, "pending: none")
	case st.Current == 0:
		fmt.Fprintf(stdout, "pending: %s (an empty database: the first command sets it up)\n", strings.Join(st.Pending, ", "))
	default:
		fmt.Fprintf(stdout, "pending: %s (shopauth db migrate applies them)\n", strings.Join(st.Pending, ", "))
	}
	return nil
}
