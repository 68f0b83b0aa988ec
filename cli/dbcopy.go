package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"shopauth/db"
	"shopauth/db/schema"
)

func runDBCopy(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("db copy", `db copy --from SRC --to DST

Copies everything (customers, sessions and their refresh chains, signing and refresh keys,
passkeys, pending recoveries, settings, the audit log) from one database to another: a SQLite
file or a PostgreSQL URL (postgres://… or postgresql://…) on either side. Every live access
token, refresh token and grace answer keeps working on the destination. The source is read as
of one instant (a server may keep running on it; stop it before you switch over, or the
sessions it rotates after the copy are lost). DST is created if it is a missing SQLite file; it
must hold no customers, and its own keys and settings are replaced by the source's.`, stdout, stderr)
	from := fs.String("from", "", "source database: SQLite `file` or PostgreSQL URL (default: --db)")
	to := fs.String("to", "", "destination database: SQLite `file` or PostgreSQL URL")
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	if *from == "" {
		*from = *dbPath
	}
	if *to == "" {
		return UsageError(fs, "name the destination with --to")
	}
	if *from == *to {
		return UsageError(fs, "--from and --to name the same database")
	}
	if _, err := CheckDB(*from, ExistingDB); err != nil {
		return err
	}
	create, err := CheckDB(*to, SeedDB)
	if err != nil {
		return err
	}
	src, err := db.Open(ctx, *from, schema.Current)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, err := db.Open(ctx, *to, schema.Current)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	defer dst.Close()
	if create {
		sayCreated(stderr, *to)
	}
	counts, err := db.Copy(ctx, src, dst)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tROWS")
	for _, c := range counts {
		fmt.Fprintf(w, "%s\t%d\n", c.Table, c.Rows)
	}
	w.Flush()
	fmt.Fprintln(stdout, "copied; point --db at the destination and start the servers")
	return nil
}
