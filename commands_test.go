package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"shopauth/auth"
	"shopauth/db"
	"shopauth/internal/testkit"
)

// openTestService opens a database the way the commands do, for checking what they left.
func openTestService(t *testing.T, path string) (db.Store, *auth.Service) {
	t.Helper()
	d, svc, err := openService(context.Background(), path, existingDB, auth.DefaultConfig(), io.Discard)
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
		{[]string{"help"}, 0, ""},
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
		{[]string{"--db", "x.db", "keys"}, 2, "shopauth keys: name a command before the flags (--db)\nsee shopauth keys --help\n"},
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
		{[]string{"version", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"version", "--help"}, 0, "Usage: shopauth version"},
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

func TestCustomersImport(t *testing.T) {
	shopsysHash := func(password string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return "$2y$" + string(h[4:]) // PHP's password_hash spelling
	}
	hashA, hashB := shopsysHash("shopsys password a"), shopsysHash("shopsys password b")
	// withCost spells a hash at another cost (not one that verifies: an import never checks it).
	withCost := func(hash, cost string) string { return hash[:4] + cost + hash[6:] }
	const shopsysUUID = "3f1c9a6e-5b2d-4e8f-a1c7-9d0e2b4f6a81"

	tests := []struct {
		name      string
		csv       string
		wantCode  int
		wantOut   []string // in stdout (0) or stderr (1)
		wantNot   []string // in neither
		wantCount int      // customers in the database afterwards (one exists before)
	}{
		{
			name: "bcrypt hashes, any column order, uuid kept, quoting, BOM",
			csv: "\uFEFFuuid,passwordHash,email,lastName,firstName,telephone\n" +
				shopsysUUID + "," + hashA + ",Anna@Shop.cz,\"Svobodová, ml.\",Anna,+420 605 000 001\n" +
				"," + hashB + ",bert@shop.cz,Dvořák,Bert,\n",
			wantCode: 0, wantOut: []string{"imported 2 customers"}, wantCount: 3,
		},
		{
			name:     "plain passwords",
			csv:      "email,firstName,lastName,telephone,password\ncyril@shop.cz,Cyril,Černý,,correct horse\ndana@shop.cz,Dana,Malá,123,battery staple\n",
			wantCode: 0, wantOut: []string{"imported 2 customers"}, wantCount: 3,
		},
		{
			name:     "one row: one customer, singular",
			csv:      "email,firstName,lastName,password\neva@shop.cz,Eva,Malá,correct horse\n",
			wantCode: 0, wantOut: []string{"imported 1 customer\n"}, wantCount: 2,
		},
		{name: "header only", csv: "email,firstName,lastName,password\n", wantCode: 0, wantOut: []string{"imported 0 customers"}, wantCount: 1},
		{
			name: "every bad row named, nothing imported",
			csv: "email,firstName,lastName,telephone,password\n" +
				"ok@shop.cz,Ok,Fine,,correct horse\n" + // line 2: fine, but must not be imported
				"not-an-email,X,Y,,correct horse\n" + // line 3
				"ok@shop.cz,Dup,Licate,,correct horse\n" + // line 4: duplicate within the file
				"existing@shop.cz,In,Db,,correct horse\n" + // line 5: duplicate with the database
				"\"multi\nline@shop.cz\",,Y,,short\n" + // lines 6-7
				"z@shop.cz,Z," + strings.Repeat("x", 101) + ",,correct horse\n", // line 8
			wantCode: 1,
			wantOut: []string{
				"nothing imported",
				"line 3: email: Please enter valid email",
				"line 4: email ok@shop.cz is already registered (by line 2)",
				"line 5: email existing@shop.cz is already registered",
				"line 6: email: Please enter valid email; firstName: Please enter first name; password: Password must be at least 8 characters long",
				"line 8: lastName: Last name cannot be longer than 100 characters",
			},
			wantCount: 1,
		},
		{
			name:     "a hash that is not one",
			csv:      "email,firstName,lastName,passwordHash\na@shop.cz,A,B," + hashA + "\nb@shop.cz,A,B,md5:abc\nc@shop.cz,A,B,\n",
			wantCode: 1, wantOut: []string{"line 3: passwordHash: not a bcrypt", "line 4: passwordHash: not a bcrypt"}, wantCount: 1,
		},
		{
			name: "a bcrypt cost above 14, named by its line",
			csv: "email,firstName,lastName,passwordHash\n" +
				"a@shop.cz,A,B," + withCost(hashA, "14") + "\n" + // line 2: the highest cost accepted
				"b@shop.cz,A,B," + withCost(hashA, "18") + "\n" + // line 3
				"c@shop.cz,A,B," + withCost(hashB, "31") + "\n", // line 4
			wantCode: 1,
			wantOut: []string{
				"nothing imported",
				"line 3: passwordHash: bcrypt cost 18 is above the limit of 14",
				"line 4: passwordHash: bcrypt cost 31 is above the limit of 14",
			},
			wantNot:   []string{"line 2"},
			wantCount: 1,
		},
		{
			name:     "a uuid taken in the database",
			csv:      "email,firstName,lastName,password,uuid\nnew@shop.cz,A,B,correct horse,EXISTING\n",
			wantCode: 1, wantOut: []string{"line 2: uuid ", "is already in use"}, wantCount: 1,
		},
		{name: "both password columns", csv: "email,firstName,lastName,password,passwordHash\n", wantCode: 1,
			wantOut: []string{"line 1: the header must name exactly one of passwordHash and password"}, wantCount: 1},
		{name: "no password column", csv: "email,firstName,lastName\n", wantCode: 1, wantOut: []string{"line 1: the header must name exactly one"}, wantCount: 1},
		{name: "missing column", csv: "email,firstName,password\n", wantCode: 1, wantOut: []string{"line 1: the header lacks the column lastName"}, wantCount: 1},
		{name: "unknown column", csv: "email,firstName,lastName,password,street\n", wantCode: 1, wantOut: []string{`line 1: unknown column "street"`}, wantCount: 1},
		{name: "empty file", csv: "", wantCode: 1, wantOut: []string{"line 1: the file is empty"}, wantCount: 1},
		{name: "short row", csv: "email,firstName,lastName,password\na@shop.cz,A,B,correct horse\nb@shop.cz,B\n", wantCode: 1,
			wantOut: []string{"line 3: wrong number of fields"}, wantCount: 1},
		{name: "bad quoting", csv: "email,firstName,lastName,password\na@shop.cz,A,B,correct horse\nb@shop.cz,\"B,C,d\n", wantCode: 1,
			wantOut: []string{"line 3"}, wantCount: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "shop.db")
			code, _, stderr := runArgs(t, "correct horse\n", "customers", "add", "--db", dbPath,
				"--email", "existing@shop.cz", "--first-name", "Ex", "--last-name", "Isting")
			if code != 0 {
				t.Fatal(stderr)
			}
			d, _ := openTestService(t, dbPath)
			existing, err := d.CustomerByEmail(context.Background(), "existing@shop.cz")
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "customers.csv")
			os.WriteFile(file, []byte(strings.ReplaceAll(tt.csv, "EXISTING", existing.UUID)), 0o600)

			code, stdout, stderr := runArgs(t, "", "customers", "import", file, "--db", dbPath) // flags after the file too
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.wantCode, stdout, stderr)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(stdout+stderr, want) {
					t.Errorf("output lacks %q:\n%s%s", want, stdout, stderr)
				}
			}
			for _, not := range tt.wantNot {
				if strings.Contains(stdout+stderr, not) {
					t.Errorf("output has %q:\n%s%s", not, stdout, stderr)
				}
			}
			n, err := d.CountCustomers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantCount {
				t.Errorf("%d customers in the database afterwards, want %d (all or nothing)", n, tt.wantCount)
			}
		})
	}

	t.Run("imported customers log in; bcrypt is upgraded", func(t *testing.T) {
		dir := t.TempDir()
		dbPath, file := filepath.Join(dir, "shop.db"), filepath.Join(dir, "c.csv")
		os.WriteFile(file, []byte("email,firstName,lastName,telephone,passwordHash,uuid\nanna@shop.cz,Anna,Svobodová,,"+hashA+","+strings.ToUpper(shopsysUUID)+"\n"), 0o600)
		if code, _, stderr := runArgs(t, "", "customers", "import", "--db", dbPath, file); code != 0 {
			t.Fatal(stderr)
		}
		d, svc := openTestService(t, dbPath)
		ctx := context.Background()
		c, err := d.CustomerByEmail(ctx, "anna@shop.cz")
		if err != nil {
			t.Fatal(err)
		}
		if c.UUID != shopsysUUID || c.PasswordHash != hashA || c.Telephone != nil {
			t.Errorf("stored %+v, want the Shopsys UUID (lower-cased) and hash kept as they were", c)
		}
		if _, err := svc.Login(ctx, "anna@shop.cz", "shopsys password a"); err != nil {
			t.Fatalf("login with the Shopsys password: %v", err)
		}
		if c, _ = d.CustomerByEmail(ctx, "anna@shop.cz"); !strings.HasPrefix(c.PasswordHash, "$argon2id$") {
			t.Errorf("hash after the first login = %.10s…, want it upgraded to argon2id", c.PasswordHash)
		}
	})
}

func TestKeysCommands(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	keys := func(args ...string) (int, string, string) {
		return runArgs(t, "", append(append([]string{"keys"}, args...), "--db", dbPath)...)
	}
	seedCustomer(t, dbPath, "seed@shop.cz")
	code, list, stderr := keys("list")
	// A new database gets an RS256 signing key and a refresh key (HS256, listed, never published).
	if code != 0 || strings.Count(list, "\n") != 3 ||
		!regexp.MustCompile(`\n\S+ +RS256 +\S+ +signing,live\n\S+ +HS256 +\S+ +refresh,signing,live\n$`).MatchString(list) {
		t.Fatalf("first list: exit %d\n%s%s", code, list, stderr)
	}

	// rotate: the new key is published at once and signs after the JWKS cache lifetime.
	code, out, stderr := keys("rotate", "--signing-alg", "ES256")
	if code != 0 || !strings.Contains(out, "(ES256) is published now and signs from") {
		t.Fatalf("rotate: exit %d\n%s%s", code, out, stderr)
	}
	_, list, _ = keys("list")
	if !regexp.MustCompile(`RS256 +\S+ +signing,live\n(.*\n)*\S+ +ES256 +\S+ +next,live\n`).MatchString(list) ||
		strings.Count(list, "HS256") != 2 {
		t.Errorf("after rotate (the RS256 key still signs, the ES256 key is next, a second refresh key):\n%s", list)
	}
	// rotate --now: signs at once (a leaked key).
	code, out, stderr = keys("rotate", "--now", "--signing-alg", "EdDSA")
	if code != 0 || !strings.Contains(out, "(EdDSA) signs now") {
		t.Fatalf("rotate --now: exit %d\n%s%s", code, out, stderr)
	}
	_, list, _ = keys("list")
	if !regexp.MustCompile(`EdDSA +\S+ +signing,live\n`).MatchString(list) {
		t.Errorf("after rotate --now:\n%s", list)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(dir, "private.key")
	os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), 0o600)
	code, out, stderr = keys("import", "--private-key", pemFile)
	if code != 0 || !strings.Contains(out, "imported Shopsys key") {
		t.Fatalf("import: exit %d\n%s%s", code, out, stderr)
	}
	_, list, _ = keys("list")
	if !regexp.MustCompile(`\n\S+ +RS256 +\S+ +signing,live,shopsys\n`).MatchString(list) {
		t.Errorf("after import:\n%s", list)
	}
	code, _, stderr = keys("import", "--private-key", pemFile)
	if code != 1 || !strings.Contains(stderr, "already in the key ring") {
		t.Errorf("second import: exit %d, want 1\n%s", code, stderr)
	}

	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	weakFile := filepath.Join(dir, "weak.key")
	os.WriteFile(weakFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weak)}), 0o600)
	for _, bad := range []struct{ file, want string }{
		{weakFile, "at least 2048 are required"},
		{filepath.Join(dir, "missing.key"), "no such file"},
		{dbPath, "no PEM block"},
	} {
		if code, _, stderr := keys("import", "--private-key", bad.file); code != 1 || !strings.Contains(stderr, bad.want) {
			t.Errorf("import %s: exit %d, want 1 with %q\n%s", filepath.Base(bad.file), code, bad.want, stderr)
		}
	}

	// A server on this database signs with the imported key.
	pemBytes, _ := os.ReadFile(pemFile)
	want, err := auth.ParsePrivateKeyPEM(pemBytes, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	_, svc := openTestService(t, dbPath)
	for _, k := range svc.Keys() {
		if k.Signing && !k.Refresh && (k.ID != want.ID || !k.Shopsys) {
			t.Errorf("signing key %+v, want the imported %s", k, want.ID)
		}
	}
}

// TestBackupWhileServing copies the database while a server writes to it under a refresh load,
// then restores the copy and serves it.
func TestBackupWhileServing(t *testing.T) {
	m := startServer(t, nil)
	url := m.URL()
	kept := register(t, url, "kept@example.com", "correct horse") // not refreshed until after the restore
	busy := register(t, url, "busy@example.com", "correct horse")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		token := busy.RefreshToken
		for {
			select {
			case <-stop:
				return
			default:
			}
			next, err := refreshOnce(http.DefaultClient, url, token)
			if err != nil {
				t.Errorf("refresh during the backup: %v", err)
				return
			}
			token = next
		}
	})
	backup := filepath.Join(t.TempDir(), "backup.db")
	code, stdout, stderr := runArgs(t, "", "backup", backup, "--db", m.DBPath)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(stdout, "written to "+backup) {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v %v, want mode 0600", fi, err)
	}
	if code, _, stderr := runArgs(t, "", "backup", backup, "--db", m.DBPath); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d, want 1\n%s", code, stderr)
	}

	// Restore: the copy is a database file like any other.
	restored := filepath.Join(t.TempDir(), "shop.db")
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(restored, data, 0o600)
	r := startServer(t, func(m *Main) { m.DBPath = restored })
	login(t, r.URL(), "busy@example.com", "correct horse").token(t, "Login")
	refresh(t, r.URL(), kept.RefreshToken).token(t, "RefreshTokens")
}

// seedCustomer creates the database at path (if missing) with one customer whose password is
// "correct horse", as an operator seeding a shop would.
func seedCustomer(t *testing.T, path, email string) {
	t.Helper()
	code, _, stderr := runArgs(t, "correct horse\n", "customers", "add", "--db", path,
		"--email", email, "--first-name", "Seed", "--last-name", "Customer")
	if code != 0 {
		t.Fatalf("customers add %s: exit %d\n%s", email, code, stderr)
	}
}

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

// TestServeSaysItCreatedTheDatabase: serve creates a missing database, as the seeding commands
// do, and says so once: one warning line (two landings once made it say so twice, a shouted
// warning and an info line).
func TestServeSaysItCreatedTheDatabase(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "new.db")
	for _, want := range []int{1, 0} {
		var log testkit.LogBuffer
		_, _, stop := serveArgsLog(t, &log, "serve", "--addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:8000", "--db", dbPath)
		if code := stop(); code != 0 {
			t.Fatalf("serve exit %d\n%s", code, log.String())
		}
		if got := strings.Count(strings.ToLower(log.String()), "created a new"); got != want {
			t.Errorf("the log says %d times that it created the database, want %d:\n%s", got, want, log.String())
		}
		if want == 1 && !strings.Contains(log.String(), `msg="created a new database" path=`+dbPath) {
			t.Errorf("the line does not name %s:\n%s", dbPath, log.String())
		}
	}
}

func TestBackupMistakes(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	seedCustomer(t, dbPath, "anna@shop.cz")
	tests := []struct {
		name, file, want string
	}{
		{"missing folder", filepath.Join(dir, "no", "such", "out.db"), "folder " + filepath.Join(dir, "no", "such") + " does not exist"},
		{"folder is a file", filepath.Join(dbPath, "out.db"), dbPath + " is not a folder"},
		{"file exists", dbPath, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", "backup", tt.file, "--db", dbPath)
			if code != 1 || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, want 1 with %q and nothing on stdout\n%s%s", code, tt.want, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); err == nil {
		t.Error("backup created the missing folder")
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
	seedCustomer(t, src, "anna@shop.cz")
	code, _, stderr = runArgs(t, "", "db", "copy", "--from", src, "--to", dst)
	if code != 0 || !strings.Contains(stderr, "created a new database "+dst) {
		t.Errorf("missing destination: exit %d, want 0 and a word about creating it\n%s", code, stderr)
	}
}

// TestGlobalFlagsBeforeTheCommand: --db works before the command as after it.
func TestGlobalFlagsBeforeTheCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	seedCustomer(t, path, "before@example.com")
	missing := filepath.Join(t.TempDir(), "missing.db")
	backup := filepath.Join(t.TempDir(), "b.db")
	tests := []struct {
		name           string
		before, after  []string
		wantCode       int
		wantOut, wantE string
	}{
		{"group command", []string{"--db", path, "customers", "list"}, []string{"customers", "list", "--db", path}, 0, "before@example.com", ""},
		{"--db=FILE", []string{"--db=" + path, "customers", "show", "before@example.com"}, []string{"customers", "show", "before@example.com", "--db=" + path}, 0, "before@example.com", ""},
		{"single dash", []string{"-db", path, "keys", "list"}, []string{"keys", "list", "-db", path}, 0, "signing", ""},
		{"a missing database is named", []string{"--db", missing, "audit"}, []string{"audit", "--db", missing}, 1, "", "database " + missing + " does not exist"},
		{"db status", []string{"--db", path, "db", "status"}, []string{"db", "status", "--db", path}, 0, "pending: none", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", tt.before...)
			code2, stdout2, stderr2 := runArgs(t, "", tt.after...)
			if code != tt.wantCode || code2 != code || stdout != stdout2 || stderr != stderr2 {
				t.Errorf("%q: exit %d\n%s%s\n%q: exit %d\n%s%s", tt.before, code, stdout, stderr, tt.after, code2, stdout2, stderr2)
			}
			if !strings.Contains(stdout, tt.wantOut) || !strings.Contains(stderr, tt.wantE) {
				t.Errorf("%q: stdout %q, stderr %q; want %q and %q", tt.before, stdout, stderr, tt.wantOut, tt.wantE)
			}
		})
	}
	// A positional argument and a flag after it: the global flag joins them.
	if code, stdout, stderr := runArgs(t, "", "--db", path, "backup", backup); code != 0 || !strings.Contains(stdout, "written to "+backup) {
		t.Errorf("--db before backup FILE: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestSplitCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "serve []"},
		{[]string{"--addr", ":0"}, "serve [--addr :0]"},
		{[]string{"--db", "x.db"}, "serve [--db x.db]"},
		{[]string{"--db", "x.db", "--addr", ":0"}, "serve [--db x.db --addr :0]"},
		{[]string{"--db"}, "serve [--db]"},
		{[]string{"--db", "x.db", "customers", "list", "--json"}, "customers [list --json --db x.db]"},
		{[]string{"--db", "x.db", "backup", "--", "-odd.db"}, "backup [--db x.db -- -odd.db]"},
		{[]string{"customers", "list"}, "customers [list]"},
	} {
		cmd, rest := splitCommand(tt.args)
		if got := fmt.Sprint(cmd, " ", rest); got != tt.want {
			t.Errorf("splitCommand(%q) = %s, want %s", tt.args, got, tt.want)
		}
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

// TestKeysRotateTwice: a second `keys rotate` while the first one's key is pending adds no key and
// names the pending one; `keys rotate --now` makes a new key that signs at once.
func TestKeysRotateTwice(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	if code, stdout, stderr := runArgs(t, "correct horse\n", "customers", "add", "--db", dbPath, // creates the database
		"--email", "jan@shop.cz", "--first-name", "Jan", "--last-name", "Novák"); code != 0 {
		t.Fatalf("add: exit %d\n%s%s", code, stdout, stderr)
	}
	code, first, stderr := runArgs(t, "", "keys", "rotate", "--signing-alg", "EdDSA", "--db", dbPath)
	m := regexp.MustCompile(`^new signing key (\S+) \(EdDSA\) is published now and signs from (\S+)\n$`).FindStringSubmatch(first)
	if code != 0 || m == nil {
		t.Fatalf("first rotate: exit %d\n%s%s", code, first, stderr)
	}
	want := "a next key is already pending: " + m[1] + " (EdDSA), signing from " + m[2] + "; no key was added (--now makes one that signs at once)\n"
	if code, out, stderr := runArgs(t, "", "keys", "rotate", "--signing-alg", "EdDSA", "--db", dbPath); code != 0 || out != want {
		t.Fatalf("second rotate: exit %d\n%s%s\nwant %s", code, out, stderr, want)
	}
	if code, out, stderr := runArgs(t, "", "keys", "rotate", "--signing-alg", "EdDSA", "--now", "--db", dbPath); code != 0 ||
		!strings.HasPrefix(out, "new signing key ") || strings.Contains(out, m[1]) {
		t.Fatalf("rotate --now: exit %d\n%s%s", code, out, stderr)
	}
}
