package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"shopauth/internal/testkit"
)

func TestCustomersAdd(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	add := func(password string, args ...string) (int, string, string) {
		return runArgs(t, password, append([]string{"customers", "add", "--db", dbPath}, args...)...)
	}
	code, stdout, stderr := add("correct horse\n", "--email", " Jan@Shop.CZ", "--first-name", "Jan", "--last-name", "Novák", "--telephone", "+420 605 000 123")
	if code != 0 || !regexp.MustCompile(`^added customer [0-9a-f-]{36} jan@shop\.cz\n$`).MatchString(stdout) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, tt := range []struct {
		name, password string
		args           []string
		want           string
	}{
		{"taken email", "correct horse\n", []string{"--email", "jan@shop.cz", "--first-name", "J", "--last-name", "N"}, "email jan@shop.cz is already registered"},
		{"short password", "short\n", []string{"--email", "b@shop.cz", "--first-name", "J", "--last-name", "N"}, "password: Password must be at least 8 characters long"},
		{"no password", "", []string{"--email", "b@shop.cz", "--first-name", "J", "--last-name", "N"}, "password: Please enter password"},
		{"bad email and no name", "correct horse\n", []string{"--email", "nope", "--last-name", "N"}, "email: Please enter valid email; firstName: Please enter first name"},
		{"bad uuid", "correct horse\n", []string{"--email", "c@shop.cz", "--first-name", "J", "--last-name", "N", "--uuid", "123"}, "is not a UUID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := add(tt.password, tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want 1 with %q:\n%s", code, tt.want, stderr)
			}
		})
	}

	_, svc := openTestService(t, dbPath)
	if _, err := svc.Login(context.Background(), "jan@shop.cz", "correct horse"); err != nil {
		t.Errorf("the added customer cannot log in: %v", err)
	}
}

func TestCustomersMistakes(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	testkit.SeedCustomer(t, runArgs, dbPath, "anna@shop.cz")
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		want     string
	}{
		{"show unknown", "", []string{"customers", "show", "nobody@shop.cz"}, 1, "no customer has the email nobody@shop.cz"},
		{"set-password unknown", "new password 1\n", []string{"customers", "set-password", "nobody@shop.cz"}, 1, "no customer has the email nobody@shop.cz"},
		{"revoke unknown", "", []string{"customers", "revoke", "nobody@shop.cz"}, 1, "no customer has the email nobody@shop.cz"},
		{"delete unknown", "", []string{"customers", "delete", "nobody@shop.cz"}, 1, "no customer has the email nobody@shop.cz"},
		{"audit unknown", "", []string{"audit", "--customer", "nobody@shop.cz"}, 1, "no customer has the email nobody@shop.cz"},
		{"set-password nothing on stdin", "", []string{"customers", "set-password", "anna@shop.cz"}, 1, "password: Please enter new password"},
		{"set-password an empty line", "\n", []string{"customers", "set-password", "anna@shop.cz"}, 1, "password: Please enter new password"},
		{"set-password short", "short\n", []string{"customers", "set-password", "anna@shop.cz"}, 1, "password: New password must be at least 8 characters long"},
		{"set-password under the server's minimum", "eleven char\n", []string{"customers", "set-password", "anna@shop.cz", "--min-password-length", "12"}, 1, "at least 12 characters"},
		{"show without email", "", []string{"customers", "show"}, 2, "name one customer's EMAIL\nsee shopauth customers show --help"},
		{"delete two emails", "", []string{"customers", "delete", "a@shop.cz", "b@shop.cz"}, 2, "name one customer's EMAIL"},
		{"revoke empty email", "", []string{"customers", "revoke", " "}, 2, "name one customer's EMAIL"},
		{"set-password with the password as an argument", "", []string{"customers", "set-password", "anna@shop.cz", "hunter22hunter"}, 2,
			"the new password is not an argument (it would stay in the shell history"},
		{"list stray argument", "", []string{"customers", "list", "anna"}, 2, `unexpected argument "anna"`},
		{"audit negative since", "", []string{"audit", "--since", "-1h"}, 2, "want a positive duration"},
		{"audit bad since", "", []string{"audit", "--since", "yesterday"}, 2, `invalid value "yesterday" for flag -since: want a duration such as 24h, 30m or 7d`},
		{"audit bad days", "", []string{"audit", "--since", "1.5d"}, 2, `invalid value "1.5d" for flag -since`},
		{"audit negative days", "", []string{"audit", "--since", "-2d"}, 2, "want a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, tt.stdin, append(tt.args, "--db", dbPath)...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s%s", code, tt.wantCode, tt.want, stdout, stderr)
			}
		})
	}
	// None of it changed anna: her password still works.
	_, svc := openTestService(t, dbPath)
	if _, err := svc.Login(t.Context(), "anna@shop.cz", "correct horse"); err != nil {
		t.Errorf("anna after the mistakes: %v", err)
	}
}

// TestCustomersRevokeNone: `customers revoke` of a customer without a session says so and audits
// nothing; the audit log lists no revoke event for them.
func TestCustomersRevokeNone(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	if code, stdout, stderr := runArgs(t, "correct horse\n", "customers", "add", "--db", dbPath,
		"--email", "jan@shop.cz", "--first-name", "Jan", "--last-name", "Novák"); code != 0 {
		t.Fatalf("add: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := runArgs(t, "", "customers", "revoke", "jan@shop.cz", "--db", dbPath)
	if code != 0 || stdout != "no sessions of jan@shop.cz to end\n" {
		t.Fatalf("revoke: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runArgs(t, "", "audit", "--customer", "jan@shop.cz", "--db", dbPath)
	if code != 0 || strings.Contains(stdout, "revoked") {
		t.Errorf("audit after revoking no session: exit %d\n%s%s", code, stdout, stderr)
	}
}
