package e2e

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"shopauth/auth"
	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
	"shopauth/social/socialtest"
)

// TestAccountPageInBrowser drives /account in Chromium with its virtual authenticator: password
// login, add a passkey, log out, log in with it, remove it, and see it refused (e2e/account.mjs).
// WebAuthn needs a domain as RP ID, so the server is browsed at http://localhost:PORT and its
// issuer says so (RP ID localhost, origin http://localhost:PORT).
func TestAccountPageInBrowser(t *testing.T) {
	servetest.RequireExternal(t)
	port := servetest.FreePort(t)
	base := "http://localhost:" + port
	servetest.Start(t, servetest.Binary(t), filepath.Join(t.TempDir(), "shop.db"), "--addr", "127.0.0.1:"+port, "--issuer", base)
	shot := servetest.Artifact(t, "account.png")
	out := servetest.Node(t, "account.mjs", base, shot)
	if !strings.Contains(out, "ACCOUNT ok") {
		t.Fatalf("account.mjs did not pass")
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s missing or empty: %v", shot, err)
	}
	t.Logf("account page screenshot: %s", shot)
}

// TestAccountSocialInBrowser drives social login on /account in Chromium (e2e/account-social.mjs)
// against the real binary, whose --oidc-issuer is the OpenID Connect stand-in of social/socialtest
// (a listener of this test): the email verification mailed (to the server's log) and opened,
// linking and unlinking the stand-in account as a password customer, logging in with it (a new
// customer, loginInfo oidc), the last way to log in kept, a flow begun in one browser context
// refused in another, and a login link made by someone else not taken unasked.
// Afterwards the audit log holds the verification, the link, the unlink and the registration.
func TestAccountSocialInBrowser(t *testing.T) {
	servetest.RequireExternal(t)
	idp := socialtest.NewOIDC(t)
	// Not vouched for, so the login registers a customer whose address is still to verify.
	social := socialtest.User{Subject: "e2e-" + rand.Text()[:12], Email: "jane.social@example.com", EmailVerified: false,
		FirstName: "Jane", LastName: "Social"}
	idp.SetUser(social)

	port := servetest.FreePort(t)
	base := "http://127.0.0.1:" + port
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	bin := servetest.Binary(t)
	srv := servetest.Start(t, bin, dbPath, "--addr", "127.0.0.1:"+port, "--issuer", base,
		"--oidc-issuer", idp.URL, "--oidc-client-id", idp.ClientID, "--oidc-client-secret", idp.ClientSecret)
	if srv.URL != base {
		t.Fatalf("the server listens on %s, want %s", srv.URL, base)
	}

	const email, password = "petra@shop.example", "correct horse battery"
	testkit.Register(t, base, email, password)

	shot := servetest.Artifact(t, "account-social.png")
	out := servetest.Node(t, "account-social.mjs", base, srv.LogPath, email, password, social.Email, social.Subject, shot)
	if !strings.Contains(out, "ACCOUNT-SOCIAL ok") {
		t.Fatalf("account-social.mjs did not pass\nserver log:\n%s", srv.Log())
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s missing or empty: %v", shot, err)
	}
	t.Logf("account page social login screenshot: %s", shot)

	for _, tt := range []struct {
		customer string
		want     auth.AuditReason
	}{
		{email, auth.AuditSocialLinked.Of("oidc")},
		{email, auth.AuditSocialUnlinked.Of("oidc")},
		{email, auth.AuditEmailVerified},
		{social.Email, auth.AuditSocialRegistered.Of("oidc")},
	} {
		got, err := exec.Command(bin, "audit", "--customer", tt.customer, "--db", dbPath).CombinedOutput()
		if err != nil || !strings.Contains(string(got), string(tt.want)) {
			t.Errorf("shopauth audit --customer %s: %v, want %q in\n%s", tt.customer, err, tt.want, got)
		}
	}
}
