package testkit

import "testing"

// RunArgs runs a command line as a package's tests do (main's run, or cli's commands alone) and
// returns the exit status and what it printed.
type RunArgs func(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string)

// SeedCustomer creates the database at path (if missing) with one customer whose password is
// "correct horse", through `customers add` as an operator seeding a shop would. The caller passes
// its own run, as testkit imports no shopauth package.
func SeedCustomer(t *testing.T, run RunArgs, path, email string) {
	t.Helper()
	code, _, stderr := run(t, "correct horse\n", "customers", "add", "--db", path,
		"--email", email, "--first-name", "Seed", "--last-name", "Customer")
	if code != 0 {
		t.Fatalf("customers add %s: exit %d\n%s", email, code, stderr)
	}
}
