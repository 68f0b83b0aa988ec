package main

import (
	"path/filepath"
	"strings"
	"testing"
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
