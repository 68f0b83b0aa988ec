package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shopauth/auth"
	"shopauth/db"
)

// openTestService opens a database the way the commands do, for checking what they left.
func openTestService(t *testing.T, path string) (db.Store, *auth.Service) {
	t.Helper()
	d, svc, err := openService(context.Background(), path, ExistingDB, auth.DefaultConfig(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, svc
}

func TestCommandsHelpAndMistakes(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	t.Setenv("SHOPAUTH_DB", dbPath)
	tests := []struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		{[]string{"keys", "--help"}, 0, "shopauth keys rotate"},
		{[]string{"keys", "list", "--help"}, 0, "Usage: shopauth keys list"},
		{[]string{"keys", "rotate", "-h"}, 0, "-signing-alg"},
		{[]string{"keys", "import", "--help"}, 0, "-private-key"},
		{[]string{"customers", "--help"}, 0, "customers import FILE.csv"},
		{[]string{"customers", "add", "--help"}, 0, "standard input"},
		{[]string{"customers", "import", "--help"}, 0, "passwordHash or password"},
		{[]string{"backup", "--help"}, 0, "consistent copy"},
		{[]string{"db", "--help"}, 0, "shopauth db migrate"},
		{[]string{"db", "status", "--help"}, 0, "Changes nothing"},
		{[]string{"db", "migrate", "--help"}, 0, "Servers of an older release cannot use the database afterwards"},
		{[]string{"mail", "--help"}, 0, "shopauth mail test --to EMAIL"},
		{[]string{"mail", "test", "--help"}, 0, "-smtp-url"},
		{[]string{"mail"}, 2, "shopauth mail: name a command"},
		{[]string{"db", "status", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"keys"}, 2, "shopauth keys: name a command\nsee shopauth keys --help\n"},
		{[]string{"keys", "--db", "x.db"}, 2, "shopauth keys: name a command before the flags (--db)\nsee shopauth keys --help\n"},
		{[]string{"keys", "burn"}, 2, "unknown command \"burn\"\nsee shopauth keys --help"},
		{[]string{"keys", "list", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"keys", "list", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"keys", "rotate", "--signing-alg", "HS256"}, 2, `"HS256"`},
		{[]string{"keys", "import"}, 2, "--private-key is required"},
		{[]string{"customers"}, 2, "see shopauth customers --help"},
		{[]string{"customers", "add", "--email"}, 2, "flag needs an argument"},
		{[]string{"customers", "import"}, 2, "shopauth customers import: name one CSV file\nsee shopauth customers import --help\n"},
		{[]string{"customers", "import", "a.csv", "b.csv"}, 2, "name one CSV file"},
		{[]string{"backup"}, 2, "name one FILE"},
		{[]string{"backup", "x.db", "--bogus"}, 2, "flag provided but not defined: -bogus\nsee shopauth backup --help\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stderr+stdout, tt.wantStderr) {
				t.Errorf("output lacks %q:\n%s%s", tt.wantStderr, stdout, stderr)
			}
			if code == 2 && (strings.Contains(stderr, "Usage:") || strings.Count(stderr, "\n") > 2) {
				t.Errorf("a mistake printed more than the message and a hint:\n%s", stderr)
			}
		})
	}
	if _, err := os.Stat(dbPath); err == nil {
		t.Error("help or a usage mistake created the database")
	}
}

// run is main's run for the commands of this package: the exit status, and what the command wrote.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return ExitCode(Run(ctx, args[0], args[1:], stdin, stdout, stderr), stderr)
}

func runArgs(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}
