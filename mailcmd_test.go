package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shopauth/mail/mailtest"
)

// TestPublicSiteNeedsAMailServer: an https:// issuer without --smtp-url would write every reset
// link to the log and mail nobody, so the start is refused unless --mail-log says so.
func TestPublicSiteNeedsAMailServer(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"https issuer, no mail server", []string{"--issuer", "https://auth.shop.cz"},
			"the issuer https://auth.shop.cz is a public https:// site but no --smtp-url is set"},
		{"from the environment too", []string{"--issuer", "https://auth.shop.cz", "--mail-from", "shop@shop.cz"}, "--mail-log if the log is the mailbox on purpose"},
		{"both", []string{"--mail-log", "--smtp-url", "smtp://127.0.0.1:2525"}, "--mail-log and --smtp-url exclude each other"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runArgs(t, "", append(tt.args, "--addr", "127.0.0.1:0", "--db", dbPath)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tt.want, stderr)
			}
		})
	}
	// --mail-log, a mail server, or a plain http:// issuer (a local demo) start.
	for _, args := range [][]string{
		{"--issuer", "https://auth.shop.cz", "--mail-log"},
		{"--issuer", "https://auth.shop.cz", "--smtp-url", "smtp://127.0.0.1:2525"},
		{"--issuer", "http://127.0.0.1:8000"},
	} {
		_, _, stop := serveArgs(t, append(args, "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "shop.db"))...)
		if code := stop(); code != 0 {
			t.Errorf("%q: exit %d", args, code)
		}
	}
}

// TestMailTest: shopauth mail test sends one message with the configured settings and prints the
// server's answer, or its refusal.
func TestMailTest(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	code, stdout, stderr := runArgs(t, "", "mail", "test", "--to", "owner@shop.cz", "--smtp-url", "smtp://"+srv.Addr,
		"--mail-from", "Shop <shop@shop.cz>")
	if code != 0 || !strings.Contains(stdout, "sent a test message to owner@shop.cz") || !strings.Contains(stdout, "the server answered: 2.0.0 OK: queued") {
		t.Fatalf("mail test: exit %d\n%s%s", code, stdout, stderr)
	}
	msg := srv.Next(t, 10*time.Second)
	if len(msg.To) != 1 || msg.To[0] != "owner@shop.cz" || msg.From != "shop@shop.cz" || !strings.Contains(string(msg.Data), "Subject: shopauth mail test") {
		t.Errorf("the server got from %q to %q:\n%s", msg.From, msg.To, msg.Data)
	}

	// The settings come from the environment, as the server reads them.
	t.Setenv("SHOPAUTH_SMTP_URL", "smtp://"+srv.Addr)
	if code, stdout, stderr := runArgs(t, "", "mail", "test", "--to", "env@shop.cz"); code != 0 || !strings.Contains(stdout, "OK: queued") {
		t.Fatalf("mail test from the environment: exit %d\n%s%s", code, stdout, stderr)
	}
	if msg := srv.Next(t, 10*time.Second); len(msg.To) != 1 || msg.To[0] != "env@shop.cz" {
		t.Errorf("from the environment the server got %q", msg.To)
	}

	rejecting := mailtest.Start(t, mailtest.Options{RejectRecipients: true})
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"the server refuses the recipient", []string{"--to", "owner@shop.cz", "--smtp-url", "smtp://" + rejecting.Addr}, 1, "550"},
		{"nobody listens", []string{"--to", "owner@shop.cz", "--smtp-url", "smtp://127.0.0.1:1"}, 1, "SMTP 127.0.0.1:1"},
		{"no recipient", []string{"--smtp-url", "smtp://" + srv.Addr}, 2, "name the recipient with --to EMAIL"},
		{"a bad recipient", []string{"--to", "not an address", "--smtp-url", "smtp://" + srv.Addr}, 1, `recipient "not an address"`},
		{"no mail server", []string{"--to", "owner@shop.cz", "--smtp-url", ""}, 2, "no --smtp-url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", append([]string{"mail", "test"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q:\n%s%s", code, tt.wantCode, tt.want, stdout, stderr)
			}
		})
	}
}
