package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"shopauth/internal/pgtest"
)

// TestDBCopy copies a live shop between stores in every direction and checks, on a server started
// on the destination, that the access token, the current refresh token and the grace answer all
// work as they did on the source, and that a second copy onto it is refused.
func TestDBCopy(t *testing.T) {
	sqliteDB := func(t *testing.T) string { return filepath.Join(t.TempDir(), "shop.db") }
	postgresDB := func(t *testing.T) string { return pgtest.NewDatabase(t) }
	tests := []struct {
		name     string
		from, to func(t *testing.T) string
	}{
		{"SQLite to SQLite", sqliteDB, sqliteDB},
		{"SQLite to PostgreSQL", sqliteDB, postgresDB},
		{"PostgreSQL to SQLite", postgresDB, sqliteDB},
		{"PostgreSQL to PostgreSQL", postgresDB, postgresDB},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to := tc.from(t), tc.to(t)
			// A long grace interval, so the replay below is inside it however slow the machine.
			long := func(m *Main) { m.DBPath = from; m.Config.ReuseInterval = 10 * time.Minute }
			src := startServer(t, long)
			first := register(t, src.URL(), "copied@example.com", "correct horse")
			current := refresh(t, src.URL(), first.RefreshToken).Token(t, "RefreshTokens")
			register(t, src.URL(), "other@example.com", "correct horse")
			// A reuse (a grandparent token) ends that session and writes an audit row.
			reused := register(t, src.URL(), "reused@example.com", "correct horse")
			r1 := refresh(t, src.URL(), reused.RefreshToken).Token(t, "RefreshTokens")
			refresh(t, src.URL(), r1.RefreshToken).Token(t, "RefreshTokens")
			refresh(t, src.URL(), reused.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")

			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"db", "copy", "--from", from, "--to", to}, nil, &out, &errOut); code != 0 {
				t.Fatalf("db copy exited %d: %s%s", code, out.String(), errOut.String())
			}
			for _, want := range []string{"customers", "sessions", "signing_keys", "settings"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the report does not name %s:\n%s", want, out.String())
				}
			}
			for _, want := range []string{`(?m)^customers +3$`, `(?m)^sessions +2$`, `(?m)^audit_log +1$`} {
				if !regexp.MustCompile(want).MatchString(out.String()) {
					t.Errorf("the report does not match %s:\n%s", want, out.String())
				}
			}

			dst := startServer(t, func(m *Main) { m.DBPath = to; m.Config.ReuseInterval = 10 * time.Minute })
			url := dst.URL()
			if r := gql(t, url, `{ currentCustomerUser { email } }`, nil, bearer(current.AccessToken)); r.Status != 200 ||
				!strings.Contains(string(r.Raw), "copied@example.com") {
				t.Errorf("the access token on the destination: %d %s", r.Status, r.Raw)
			}
			grace := refresh(t, url, first.RefreshToken).Token(t, "RefreshTokens")
			if grace.RefreshToken != current.RefreshToken {
				t.Errorf("the grace answer on the destination differs from the source's rotation")
			}
			refresh(t, url, current.RefreshToken).Token(t, "RefreshTokens")
			login := gql(t, url, `mutation { Login(input: {email: "other@example.com", password: "correct horse"}) { accessToken } }`, nil, nil)
			if login.Status != 200 || len(login.Errors) > 0 {
				t.Errorf("login on the destination: %d %s", login.Status, login.Raw)
			}
			register(t, url, "new@example.com", "correct horse") // ids continue past the copied ones

			out.Reset()
			errOut.Reset()
			code := run(context.Background(), []string{"db", "copy", "--from", from, "--to", to}, nil, &out, &errOut)
			if code != 1 || !strings.Contains(errOut.String(), "already holds customers") {
				t.Errorf("a second copy onto a shop: exit %d, %q; want 1 and a refusal", code, errOut.String())
			}
		})
	}
}
