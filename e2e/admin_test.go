package e2e

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"shopauth/auth"
	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
	"shopauth/mail/mailtest"
)

// TestAdminConsoleInBrowser drives the admin console in Chromium (admin.mjs) on the real binary's
// --admin-addr: an operator enrols with the link `shopauth operators add` prints and a passkey,
// logs out and in again, finds one customer among 10,000 (one of them named in markup, which must
// stay text), ends a session, sends a recovery mail and deletes the customer; the audit log then
// names the operator on each of those.
func TestAdminConsoleInBrowser(t *testing.T) {
	servetest.RequireExternal(t)
	bin := servetest.Binary(t)
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	importCustomers(t, bin, dbPath, 10_000)
	smtp := mailtest.Start(t, mailtest.Options{})
	adminAddr := "127.0.0.1:" + servetest.FreePort(t)
	// Without --issuer the server issues for the port it got: the log-in-as link opens its /account.
	srv := servetest.Start(t, bin, dbPath, "--issuer=", "--admin-addr", adminAddr, "--smtp-url", smtp.URL())

	const email = "needle@shop.cz"
	a := testkit.Register(t, srv.URL, email, "password1")
	b := testkit.Login(t, srv.URL, email, "password1").Token(t, "Login")
	out, err := exec.Command(bin, "operators", "add", "ana", "--admin-addr", adminAddr, "--db", dbPath).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	enrol := lines[len(lines)-1]
	if err != nil || !strings.Contains(enrol, "/admin#enrol=") {
		t.Fatalf("shopauth operators add: %v\n%s", err, out)
	}
	shot := servetest.Artifact(t, "admin-customer.png")
	if !strings.Contains(servetest.Node(t, "admin.mjs", enrol, srv.URL, email, a.AccessToken, b.AccessToken, shot), "ADMIN ok") {
		t.Fatalf("e2e/admin.mjs did not pass\nserver log:\n%s", srv.Log())
	}
	if msg := smtp.Next(t, 10*time.Second); len(msg.To) != 1 || msg.To[0] != email {
		t.Errorf("the recovery mail went to %v, want %s", msg.To, email)
	}
	audit, err := exec.Command(bin, "audit", "--json", "--db", dbPath).Output()
	if err != nil {
		t.Fatalf("shopauth audit --json: %v", err)
	}
	var events []struct{ Reason, Operator string }
	if err := json.Unmarshal(audit, &events); err != nil {
		t.Fatalf("shopauth audit --json: %v\n%s", err, audit)
	}
	byAna := map[string]bool{}
	for _, ev := range events {
		if ev.Operator == "ana" {
			byAna[ev.Reason] = true
		}
	}
	for _, want := range []auth.AuditReason{auth.AuditConsoleSessionEnded, auth.AuditConsoleRecovery, auth.AuditOperatorDelete} {
		if !byAna[string(want)] {
			t.Errorf("no audit event %q by ana: %v", want, byAna)
		}
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s missing or empty: %v", shot, err)
	}
	t.Logf("admin console customer page screenshot: %s", shot)
}

// importCustomers adds n customers with `shopauth customers import` (one cheap bcrypt hash for
// all). The first, on the console's first page, is named in markup: it must stay text (the browser
// test fails on any page error or CSP violation an injected handler would cause).
func importCustomers(t *testing.T, bin, dbPath string, n int) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("seeded password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "customers.csv")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"email", "firstName", "lastName", "passwordHash"})
	for i := range n {
		first, last := "Shopper", fmt.Sprintf("Number %d", i)
		if i == 0 {
			first, last = `<img src=x onerror="document.title='pwned'">`, "<script>alert(1)</script>"
		}
		w.Write([]string{fmt.Sprintf("shopper%05d@shop.cz", i), first, last, string(hash)})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "customers", "import", file, "--db", dbPath).CombinedOutput(); err != nil {
		t.Fatalf("shopauth customers import: %v\n%s", err, out)
	}
}
