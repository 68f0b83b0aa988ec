package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/internal/testkit"
)

func TestKeysCommands(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	keys := func(args ...string) (int, string, string) {
		return runArgs(t, "", append(append([]string{"keys"}, args...), "--db", dbPath)...)
	}
	testkit.SeedCustomer(t, runArgs, dbPath, "seed@shop.cz")
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
