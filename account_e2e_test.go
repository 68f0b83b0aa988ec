package main

import (
	"net"
	"os"
	"strings"
	"testing"
)

// TestAccountPageInBrowser drives /account in Chromium with its virtual authenticator: password
// login, add a passkey, log out, log in with it, remove it, and see it refused (e2e/account.mjs).
// WebAuthn needs a domain as RP ID, so the server is browsed at http://localhost:PORT and its
// issuer says so (RP ID localhost, origin http://localhost:PORT).
func TestAccountPageInBrowser(t *testing.T) {
	requireExternal(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://localhost:" + port
	startServer(t, func(m *Main) {
		m.Listener = ln
		m.Config.Issuer = base
	})
	shot := artifact(t, "account.png")
	out := node(t, "e2e/account.mjs", base, shot)
	if !strings.Contains(out, "ACCOUNT ok") {
		t.Fatalf("e2e/account.mjs did not pass")
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s missing or empty: %v", shot, err)
	}
	t.Logf("account page screenshot: %s", shot)
}
