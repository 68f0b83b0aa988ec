// Package cli holds shopauth's operator commands, one file each (keys, customers, import, audit,
// operators, backup, db, mail): what `shopauth COMMAND` runs besides serve. A command parses its
// flags (flags.go), opens the database as the server does, and goes through auth, so the same
// rules hold for the operator as for a customer.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"shopauth/auth"
	"shopauth/db"
	"shopauth/db/schema"
)

// Run runs the operator command cmd (keys, customers, audit, operators, backup, db, mail) with
// its arguments; main runs serve, help and version itself.
func Run(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
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
	return ErrUsage
}

type command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// runGroup dispatches "keys list" and the like; the group alone, or --help, prints its usage.
func runGroup(ctx context.Context, name, usage string, cmds map[string]command, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "shopauth %s: name a command\nsee shopauth %s --help\n", name, name)
		return ErrUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	}
	if strings.HasPrefix(args[0], "-") { // shopauth keys --db x.db: the flags go after the command
		fmt.Fprintf(stderr, "shopauth %s: name a command before the flags (%s)\nsee shopauth %s --help\n", name, args[0], name)
		return ErrUsage
	}
	run, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "shopauth %s: unknown command %q\nsee shopauth %s --help\n", name, args[0], name)
		return ErrUsage
	}
	return run(ctx, args[1:], stdin, stdout, stderr)
}

// openService opens the database and builds the domain service as the server does, for a command
// that runs beside (or instead of) a server on the same file. use says whether a missing SQLite
// file is refused or created.
func openService(ctx context.Context, path string, use DBUse, cfg auth.Config, stderr io.Writer) (db.Store, *auth.Service, error) {
	create, err := CheckDB(path, use)
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

// withService opens the database as openService does, runs body with the service and closes the
// database after it: the part every command that goes through auth shares.
func withService(ctx context.Context, path string, use DBUse, cfg auth.Config, stderr io.Writer, body func(*auth.Service) error) error {
	d, svc, err := openService(ctx, path, use, cfg, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	return body(svc)
}

// ExitCode is the exit status for a command's error, and writes the error to stderr unless it was
// said already: 0 for none or --help, 2 for a command-line mistake (ErrUsage, whose message is
// out), 1 for anything else.
func ExitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	}
	fmt.Fprintln(stderr, "shopauth:", err)
	return 1
}
