package main

import (
	_ "embed"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"shopauth/cli"
)

// topUsage is what `shopauth help` and `shopauth --help` print: every command, one line each.
const topUsage = `shopauth: customer logins for small shops (Shopsys Frontend API compatible)

Usage: shopauth COMMAND [flags]

Commands:
  serve                     serve GraphQL, GraphiQL and the JWKS (the default when no command is given)
  keys list                 the signing and refresh keys: which one signs, which are still live
  keys rotate               make a new signing key
  keys import               sign with an existing Shopsys private.key
  customers add             add a customer (password on standard input)
  customers import          add customers from a CSV file, all or none
  customers list            list the customers (--search TEXT, --json)
  customers show            one customer, their sessions and recent audit events
  customers set-password    set a customer's password (asked twice, or piped in); ends every session
  customers revoke          end every session of a customer
  customers delete          erase a customer; their tokens stop working at once
  audit                     the audit log, newest first (--customer EMAIL|UUID, --since 7d, --json)
  operators add|list|remove the admin console's operators (serve --admin-addr); add prints an enrolment link
  backup                    write a consistent copy of the database to a file
  db status                 the database's schema version, this binary's, and what is pending
  db migrate                apply pending migrations (serve does too; other commands refuse an older schema)
  db copy                   copy everything between SQLite and PostgreSQL (--from SRC --to DST)
  mail test                 send one message with the mail settings (--to EMAIL); print the server's answer
  version                   print the release (CHANGELOG.md), the commit and the Go version it was built with
  help                      print this list

Every command takes --db (default shopauth.db; a postgres:// URL selects PostgreSQL), before
or after the command, and --help: shopauth serve --help lists the server's flags. Flags can also be set as
SHOPAUTH_<FLAG> environment variables (SHOPAUTH_ACCESS_TTL=30m); a flag on the command line wins.
`

func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return true
	}
	return false
}

//go:embed CHANGELOG.md
var changelog string

// revision, when set at build time (go build -ldflags "-X main.revision=$(git rev-parse HEAD)"),
// names the commit where the build has no VCS information (-buildvcs=false, a tarball).
var revision string

func runVersion(args []string, stdout, stderr io.Writer) error {
	// Every command takes --db (contract §6), so a script may pass it to version too; version
	// never opens the database.
	fs, _ := cli.NewFlagSet("version", "version\n\nPrints the release (CHANGELOG.md's newest entry), the commit it was built from and the Go version.", stdout, stderr)
	if err := cli.ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, buildVersion())
	return nil
}

// buildVersion is what shopauth version prints, from this binary's changelog and build information.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return versionLine(release(changelog), revision, info, runtime.GOOS+"/"+runtime.GOARCH)
}

// release is the version of the changelog's newest entry: the first "## VERSION" heading.
func release(changelog string) string {
	for _, line := range strings.Split(changelog, "\n") {
		if v, ok := strings.CutPrefix(line, "## "); ok && strings.TrimSpace(v) != "" {
			return strings.Fields(v)[0]
		}
	}
	return "(no release)"
}

// versionLine says which shopauth this is: the release, then the commit it was built from (the
// VCS revision and its time from the build information, or the -X main.revision of the build) and
// the Go version.
func versionLine(release, ldRevision string, info *debug.BuildInfo, platform string) string {
	goVersion := runtime.Version()
	var revision, at, module string
	modified := false
	if info != nil {
		goVersion = info.GoVersion
		if v := info.Main.Version; v != "" && v != "(devel)" {
			module = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if revision == "" {
		revision = ldRevision
	}
	var b strings.Builder
	b.WriteString("shopauth " + release + " (")
	switch {
	case revision != "":
		b.WriteString("commit " + revision)
		if at != "" {
			b.WriteString(" " + at)
		}
		if modified {
			b.WriteString(", modified")
		}
	default:
		b.WriteString("commit unknown: built without VCS information")
	}
	if module != "" {
		b.WriteString(", module " + module)
	}
	b.WriteString(") " + goVersion + " " + platform)
	return b.String()
}
