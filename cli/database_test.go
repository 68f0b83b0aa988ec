package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shopauth/internal/testkit"
)

// TestMissingDatabase: only the commands that seed a shop create a missing SQLite file (and say
// so); every other one refuses it, naming the path and creating nothing.
func TestMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	pemFile := filepath.Join(dir, "private.key")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), 0o600)
	csvFile := filepath.Join(dir, "customers.csv")
	os.WriteFile(csvFile, []byte("email,firstName,lastName,password\nanna@shop.cz,Anna,S,correct horse\n"), 0o600)

	tests := []struct {
		name  string
		stdin string
		args  []string // --db DB is appended
		seeds bool
	}{
		{"keys list", "", []string{"keys", "list"}, false},
		{"keys rotate", "", []string{"keys", "rotate"}, false},
		{"customers list", "", []string{"customers", "list"}, false},
		{"customers show", "", []string{"customers", "show", "a@shop.cz"}, false},
		{"customers set-password", "correct horse\n", []string{"customers", "set-password", "a@shop.cz"}, false},
		{"customers revoke", "", []string{"customers", "revoke", "a@shop.cz"}, false},
		{"customers delete", "", []string{"customers", "delete", "a@shop.cz"}, false},
		{"audit", "", []string{"audit"}, false},
		{"backup", "", []string{"backup", filepath.Join(dir, "out.db")}, false},
		{"customers add", "correct horse\n", []string{"customers", "add", "--email", "a@shop.cz", "--first-name", "A", "--last-name", "B"}, true},
		{"customers import", "", []string{"customers", "import", csvFile}, true},
		{"keys import", "", []string{"keys", "import", "--private-key", pemFile}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "typo.db")
			code, stdout, stderr := runArgs(t, tt.stdin, append(tt.args, "--db", dbPath)...)
			_, statErr := os.Stat(dbPath)
			if tt.seeds {
				if code != 0 || statErr != nil || !strings.Contains(stderr, "created a new database "+dbPath) {
					t.Errorf("exit %d, file %v; want 0, the file, and a word about creating it\n%s%s", code, statErr, stdout, stderr)
				}
				// The second time the database is there: nothing to say about creating it.
				if code, _, stderr := runArgs(t, tt.stdin, append(tt.args, "--db", dbPath)...); strings.Contains(stderr, "created") {
					t.Errorf("second run (exit %d) says it created the database:\n%s", code, stderr)
				}
				return
			}
			if code != 1 || !strings.Contains(stderr, "database "+dbPath+" does not exist") {
				t.Errorf("exit %d, want 1 naming %s\n%s%s", code, dbPath, stdout, stderr)
			}
			if entries, _ := os.ReadDir(filepath.Dir(dbPath)); len(entries) != 0 {
				t.Errorf("a refused command left %v behind", entries)
			}
		})
	}
}

// TestDBCopyMissingDatabase: db copy refuses a source that does not exist (creating neither file)
// and creates a missing SQLite destination, saying so.
func TestDBCopyMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	code, _, stderr := runArgs(t, "", "db", "copy", "--from", src, "--to", dst)
	if code != 1 || !strings.Contains(stderr, "database "+src+" does not exist") {
		t.Errorf("missing source: exit %d, want 1 naming it\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused copy left %v behind", entries)
	}
	testkit.SeedCustomer(t, runArgs, src, "anna@shop.cz")
	code, _, stderr = runArgs(t, "", "db", "copy", "--from", src, "--to", dst)
	if code != 0 || !strings.Contains(stderr, "created a new database "+dst) {
		t.Errorf("missing destination: exit %d, want 0 and a word about creating it\n%s", code, stderr)
	}
}

func TestRedactDB(t *testing.T) {
	tests := []struct{ in, want string }{
		{"shopauth.db", "shopauth.db"},
		{"/var/lib/shopauth/shopauth.db", "/var/lib/shopauth/shopauth.db"},
		{"postgres://shopauth:s3cret@db.local:5432/shop?sslmode=disable", "postgres://shopauth:xxxxx@db.local:5432/shop?sslmode=disable"},
		{"postgresql://shopauth@db.local/shop", "postgresql://shopauth@db.local/shop"},
		{"postgres://db.local/shop?user=a&password=s3cret", "postgres://db.local/shop?password=xxxxx&user=a"},
	}
	for _, tt := range tests {
		if got := RedactDB(tt.in); got != tt.want {
			t.Errorf("RedactDB(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
