package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"shopauth/auth"
	"shopauth/db"
	"shopauth/db/schema"
	"shopauth/db/sqlite"
)

// runCommand runs the operator subcommands (keys, customers, backup).
func runCommand(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch cmd {
	case "keys":
		return runGroup(ctx, "keys", keysUsage, map[string]command{
			"list": runKeysList, "rotate": runKeysRotate, "import": runKeysImport,
		}, args, stdin, stdout, stderr)
	case "customers":
		return runGroup(ctx, "customers", customersUsage, map[string]command{
			"add": runCustomersAdd, "import": runCustomersImport, "list": runCustomersList, "show": runCustomersShow,
			"set-password": runCustomersSetPassword, "revoke": runCustomersRevoke, "delete": runCustomersDelete,
			"impersonate": runCustomersImpersonate,
		}, args, stdin, stdout, stderr)
	case "audit":
		return runAudit(ctx, args, stdin, stdout, stderr)
	case "operators":
		return runOperators(ctx, args, stdin, stdout, stderr)
	case "backup":
		return runBackup(ctx, args, stdout, stderr)
	case "db":
		return runDB(ctx, args, stdin, stdout, stderr)
	case "mail":
		return runMail(ctx, args, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "shopauth: unknown command %q\nsee shopauth help\n", cmd)
	return errUsage
}

type command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

const keysUsage = `Usage:
  shopauth keys list                       the key ring: which key signs, which still verify
  shopauth keys rotate [--signing-alg ALG] a new key, published now, signs in 5.5 minutes (--now: at once)
  shopauth keys import --private-key FILE  a Shopsys private.key signs from now on

A running server picks up rotated and imported keys within 30 s. Older keys stay in the
JWKS and keep verifying until every token they signed has expired. Refresh tokens are signed
with a refresh key (HS256, never published) that keys rotate renews too.
Run shopauth keys COMMAND --help for its flags.
`

const customersUsage = `Usage:
  shopauth customers add --email E --first-name F --last-name L [--telephone T] [--uuid U] < password
  shopauth customers import FILE.csv
  shopauth customers list [--search TEXT] [--json]   email, name, UUID, created, last login, sessions
  shopauth customers show EMAIL [--json]             the same, the live sessions and recent audit events
  shopauth customers set-password EMAIL              a new password (asked twice, or piped in); every session ends
  shopauth customers revoke EMAIL                    every session ends
  shopauth customers delete EMAIL                    erase the customer; their tokens die at once
  shopauth customers impersonate EMAIL --operator NAME   a one-time link logging the console operator in as them

Run shopauth customers COMMAND --help for the details.
`

// runGroup dispatches "keys list" and the like; the group alone, or --help, prints its usage.
func runGroup(ctx context.Context, name, usage string, cmds map[string]command, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "shopauth %s: name a command\nsee shopauth %s --help\n", name, name)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	}
	if strings.HasPrefix(args[0], "-") { // shopauth keys --db x.db: the flags go after the command
		fmt.Fprintf(stderr, "shopauth %s: name a command before the flags (%s)\nsee shopauth %s --help\n", name, args[0], name)
		return errUsage
	}
	run, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "shopauth %s: unknown command %q\nsee shopauth %s --help\n", name, args[0], name)
		return errUsage
	}
	return run(ctx, args[1:], stdin, stdout, stderr)
}

// openService opens the database and builds the domain service as the server does, for a command
// that runs beside (or instead of) a server on the same file. use says whether a missing SQLite
// file is refused or created.
func openService(ctx context.Context, path string, use dbUse, cfg auth.Config, stderr io.Writer) (db.Store, *auth.Service, error) {
	create, err := checkDB(path, use)
	if err != nil {
		return nil, nil, err
	}
	// A command never upgrades the schema (a server of the older release may be running on it).
	d, err := db.Open(ctx, path, schema.Current)
	if err != nil {
		return nil, nil, err
	}
	if create {
		sayCreated(stderr, path)
	}
	svc, err := auth.New(ctx, d, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, svc, nil
}

// noArgs rejects positional arguments a command does not take.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func runKeysList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("keys list", "keys list [--db FILE]\n\nLists the keys, oldest first: the signing keys (in the JWKS while live) and the refresh keys\n(HS256, never published). STATUS says which key signs new tokens, which is next (published,\nsigns from SIGNS FROM), which are live (may still have unexpired tokens) and which came from Shopsys.", stdout, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	d, svc, err := openService(ctx, *dbPath, existingDB, auth.DefaultConfig(), stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tALG\tSIGNS FROM\tSTATUS")
	for _, k := range svc.Keys() {
		var status []string
		if k.Refresh {
			status = append(status, "refresh")
		}
		if k.Signing {
			status = append(status, "signing")
		}
		if k.Pending {
			status = append(status, "next")
		}
		if k.Live {
			status = append(status, "live")
		} else {
			status = append(status, "retired")
		}
		if k.Shopsys {
			status = append(status, "shopsys")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), strings.Join(status, ","))
	}
	return w.Flush()
}

func runKeysRotate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("keys rotate", "keys rotate [--signing-alg RS256|ES256|EdDSA] [--now] [--db FILE]\n\nMakes a new signing key and a new refresh key. The signing key is published in the JWKS at\nonce (a running server reloads the ring within 30 s) and signs once it has been published for\nthe JWKS cache lifetime (5 minutes), so verifiers holding a cached JWKS never meet an unknown\nkid; --now signs with it at once (for a key that leaked). While a key of the algorithm is\nalready pending (published, not yet signing), keys rotate keeps it and adds nothing. Older keys keep verifying until the\ntokens they signed have expired: nobody is logged out.", stdout, stderr)
	cfg := auth.DefaultConfig()
	fs.StringVar(&cfg.SigningAlgorithm, "signing-alg", cfg.SigningAlgorithm, "algorithm of the new key: RS256, ES256 or EdDSA")
	now := fs.Bool("now", false, "sign with the new keys at once (for a key that leaked)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError(fs, "%v", err)
	}
	d, svc, err := openService(ctx, *dbPath, existingDB, cfg, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	start := auth.SignAfterPublishing
	if *now {
		start = auth.SignNow
	}
	r, err := svc.RotateKey(ctx, cfg.SigningAlgorithm, start)
	if err != nil {
		return err
	}
	k := r.Key
	switch {
	case r.AlreadyPending:
		fmt.Fprintf(stdout, "a next key is already pending: %s (%s), signing from %s; no key was added (--now makes one that signs at once)\n",
			k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339))
	case *now:
		fmt.Fprintf(stdout, "new signing key %s (%s) signs now; a running server uses it within 30 s\n", k.ID, k.Algorithm)
	default:
		fmt.Fprintf(stdout, "new signing key %s (%s) is published now and signs from %s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func runKeysImport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("keys import", "keys import --private-key FILE.pem [--db FILE]\n\nImports a Shopsys private.key (RSA, PKCS#1 or PKCS#8 PEM, not encrypted) and signs with it\nfrom now on, so services that trust its public key accept shopauth's tokens unchanged, and\naccess tokens Shopsys issued (they carry no kid) keep verifying until they expire.", stdout, stderr)
	keyFile := fs.String("private-key", "", "PEM `file` of the private key")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *keyFile == "" {
		return usageError(fs, "--private-key is required")
	}
	pemBytes, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	k, err := auth.ParsePrivateKeyPEM(pemBytes, time.Now(), true)
	if err != nil {
		return fmt.Errorf("%s: %w", *keyFile, err)
	}
	d, svc, err := openService(ctx, *dbPath, seedDB, auth.DefaultConfig(), stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, have := range svc.Keys() {
		if have.ID == k.ID {
			return fmt.Errorf("key %s is already in the key ring", k.ID)
		}
	}
	if err := svc.AddKey(ctx, k); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported Shopsys key %s (%s); it signs from now on (a running server uses it within 30 s)\n", k.ID, k.Algorithm)
	return nil
}

func runCustomersAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("customers add", "customers add --email E --first-name F --last-name L [--telephone T] [--db FILE] < password\n\nAdds a customer. The password is the first line of standard input, so it stays out of\nthe shell history and the process list: printf '%s\\n' \"$PASSWORD\" | shopauth customers add ...", stdout, stderr)
	var n auth.NewCustomer
	var tel string
	fs.StringVar(&n.Email, "email", "", "email `address`")
	fs.StringVar(&n.FirstName, "first-name", "", "first `name`")
	fs.StringVar(&n.LastName, "last-name", "", "last `name`")
	fs.StringVar(&tel, "telephone", "", "telephone `number` (optional)")
	fs.StringVar(&n.UUID, "uuid", "", "the customer's `UUID` (default: a new one; give the Shopsys one to keep its tokens valid)")
	cfg := auth.DefaultConfig()
	fs.IntVar(&cfg.MinPasswordLength, "min-password-length", cfg.MinPasswordLength, "minimum password length")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if tel != "" {
		n.Telephone = &tel
	}
	password, err := readPassword(stdin, stderr, "Password for "+n.Email, true)
	if err != nil {
		return err
	}
	n.Password = password
	d, svc, err := openService(ctx, *dbPath, seedDB, cfg, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	added, err := svc.ImportCustomers(ctx, []auth.NewCustomer{n})
	var rowErr *auth.RowError
	if errors.As(err, &rowErr) {
		return errors.New(rowErr.Reason)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added customer %s %s\n", added[0].UUID, added[0].Email)
	return nil
}

// csvColumns are the columns an import file may name, in the spelling the header uses.
var csvColumns = []string{"email", "firstName", "lastName", "telephone", "password", "passwordHash", "uuid"}

// maxReportedRows bounds the problems an import lists, so a wholly wrong file does not flood the terminal.
const maxReportedRows = 20

func runCustomersImport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("customers import", `customers import FILE.csv [--db FILE]

Adds every customer of a CSV file (UTF-8, comma-separated, RFC 4180 quoting) in one
transaction: if any row is wrong nothing is added, and each wrong row is named as "line N"
(the header is line 1). The header names the columns, in any order:

  email, firstName, lastName   required
  telephone                    optional
  passwordHash or password     exactly one of them: a Shopsys bcrypt hash ($2y$, $2a$, $2b$;
                               cost at most 14), kept and upgraded at the customer's next
                               login, or a plain password, hashed now
  uuid                         optional: the Shopsys customer UUID, so that tokens Shopsys
                               issued keep naming the same customer (default: a new one)`, stdout, stderr)
	cfg := auth.DefaultConfig()
	fs.IntVar(&cfg.MinPasswordLength, "min-password-length", cfg.MinPasswordLength, "minimum length of plain passwords")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError(fs, "name one CSV file")
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rows, lines, err := readCustomersCSV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	d, svc, err := openService(ctx, *dbPath, seedDB, cfg, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	added, err := svc.ImportCustomers(ctx, rows)
	if err != nil {
		var msgs []string
		for _, e := range unjoin(err) {
			var rowErr *auth.RowError
			if !errors.As(e, &rowErr) {
				return err
			}
			if len(msgs) == maxReportedRows {
				msgs = append(msgs, "…")
				break
			}
			msg := fmt.Sprintf("line %d: %s", lines[rowErr.Index], rowErr.Reason)
			if rowErr.Earlier > 0 {
				msg += fmt.Sprintf(" (by line %d)", lines[rowErr.Earlier-1])
			}
			msgs = append(msgs, msg)
		}
		return fmt.Errorf("%s: nothing imported:\n%s", files[0], strings.Join(msgs, "\n"))
	}
	noun := "customers"
	if len(added) == 1 {
		noun = "customer"
	}
	fmt.Fprintf(stdout, "imported %d %s\n", len(added), noun)
	return nil
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// readCustomersCSV reads an import file into customers and the line each one starts on.
func readCustomersCSV(r io.Reader) ([]auth.NewCustomer, []int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0 // every row as long as the header
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("line 1: the file is empty; it needs a header row")
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	col := map[string]int{}
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\uFEFF"))
		known := ""
		for _, c := range csvColumns {
			if strings.EqualFold(name, c) {
				known = c
			}
		}
		switch {
		case known == "":
			return nil, nil, fmt.Errorf("line 1: unknown column %q (want %s)", name, strings.Join(csvColumns, ", "))
		case col[known] != 0:
			return nil, nil, fmt.Errorf("line 1: column %s appears twice", known)
		}
		col[known] = i + 1 // 0 means absent
	}
	for _, c := range []string{"email", "firstName", "lastName"} {
		if col[c] == 0 {
			return nil, nil, fmt.Errorf("line 1: the header lacks the column %s", c)
		}
	}
	if (col["password"] == 0) == (col["passwordHash"] == 0) {
		return nil, nil, errors.New("line 1: the header must name exactly one of passwordHash and password")
	}
	cell := func(rec []string, name string) string {
		if i := col[name]; i > 0 {
			return rec[i-1]
		}
		return ""
	}
	var rows []auth.NewCustomer
	var lines []int
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, lines, nil
		}
		if err != nil {
			return nil, nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		n := auth.NewCustomer{
			UUID: strings.TrimSpace(cell(rec, "uuid")), Email: cell(rec, "email"),
			FirstName: cell(rec, "firstName"), LastName: cell(rec, "lastName"),
			Password: cell(rec, "password"), PasswordHash: strings.TrimSpace(cell(rec, "passwordHash")),
		}
		if tel := strings.TrimSpace(cell(rec, "telephone")); tel != "" {
			n.Telephone = &tel
		}
		if col["passwordHash"] != 0 && n.PasswordHash == "" {
			// Otherwise an empty hash would read as "no hash, use the (absent) password".
			n.PasswordHash = "(empty)"
		}
		rows = append(rows, n)
		lines = append(lines, line)
	}
}

// csvError words a CSV syntax error as "line N: …".
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return err
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("backup", `backup FILE [--db FILE]

Writes a consistent copy of the database to FILE (which must not exist), also while the
server runs: one read transaction, so the copy is the database as of one instant. To
restore, stop the server, remove shopauth.db-wal and shopauth.db-shm if present, put the
copy in place of shopauth.db and start the server.`, stdout, stderr)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError(fs, "name one FILE to write")
	}
	if db.IsPostgres(*dbPath) {
		return errors.New("shopauth backup copies a SQLite database; for PostgreSQL use pg_dump (pg_dump --format=custom --file=shopauth.dump \"$URL\"), or shopauth db copy --from URL --to FILE.db for a SQLite copy")
	}
	if _, err := checkDB(*dbPath, existingDB); err != nil {
		return err
	}
	if err := checkFolder(files[0]); err != nil {
		return err
	}
	d, err := sqlite.OpenMode(ctx, *dbPath, schema.AsIs) // a copy of whatever release's schema, unchanged
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
	fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes)\n", d.Path(), files[0], fi.Size())
	return nil
}

// demo makes sure the demo customer exists and prints its credentials and the GraphiQL URL.
func (m *Main) demo(ctx context.Context) error {
	password, err := m.Service.DemoCustomer(ctx)
	if err != nil {
		return fmt.Errorf("create demo customer: %w", err)
	}
	fmt.Fprintf(m.Stdout, "demo customer: %s %s\n", auth.DemoEmail, password)
	fmt.Fprintf(m.Stdout, "GraphiQL: %s/\n", m.URL())
	return nil
}
