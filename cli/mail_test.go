package cli

import (
	"strings"
	"testing"
	"time"

	"shopauth/mail/mailtest"
)

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
