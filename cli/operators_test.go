package cli

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"shopauth/internal/testkit"
)

// TestOperatorsRemoveEndsLoginAs: operators remove says how many console sessions, customer
// sessions opened as the operator and unused "log in as" codes it ended; a second remove exits 1.
func TestOperatorsRemoveEndsLoginAs(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	testkit.SeedCustomer(t, runArgs, dbPath, "jana@shop.cz")
	if code, _, stderr := runArgs(t, "", "operators", "add", "ana", "--admin-addr", "127.0.0.1:9000", "--db", dbPath); code != 0 {
		t.Fatalf("operators add: exit %d\n%s", code, stderr)
	}
	_, svc := openTestService(t, dbPath)
	ctx := context.Background()
	codes := make([]string, 2)
	for i := range codes {
		link, err := svc.ImpersonateAs(ctx, "ana", "jana@shop.cz")
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		codes[i] = u.Query().Get("code")
	}
	if _, err := svc.LoginWithSocialCode(ctx, codes[0], ""); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name           string
		wantCode       int
		stdout, stderr string
	}{
		{"remove", 0, "operator ana removed; 0 console sessions ended; 1 customer sessions opened as them ended; " +
			"1 unused \"log in as\" codes dropped\n", ""},
		{"remove again", 1, "", "no console operator is named ana"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", "operators", "remove", "ana", "--db", dbPath)
			if code != tt.wantCode || stdout != tt.stdout || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tt.wantCode, tt.stdout, tt.stderr)
			}
		})
	}
	if _, err := svc.LoginWithSocialCode(ctx, codes[1], ""); err == nil {
		t.Error("the removed operator's unused code still logs in")
	}
}
