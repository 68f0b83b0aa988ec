package web_test

import (
	"net/http"
	"os"
	"testing"
)

// TestDatabaseUnavailable: with the SQLite file gone, an operation that needs the
// database answers HTTP 503 with Retry-After and the contract's body, never "Internal error." at
// 200 (a write would have gone into the deleted file and been lost); what needs no database runs.
func TestDatabaseUnavailable(t *testing.T) {
	const unavailable = `{"errors":[{"message":"The service is temporarily unavailable.","extensions":{"userCode":"unavailable"}}]}`
	s := newServer(t)
	pair := s.tokens(`mutation { Register(input: {firstName: "Jan", lastName: "Novák", email: "` + testEmail +
		`", password: "` + password + `"}) { accessToken refreshToken } }`)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(s.db.Path() + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, query string
		headers     []string
		status      int
		body        string
	}{
		{"login", `mutation { Login(input: {email: "` + testEmail + `", password: "` + password + `"}) { accessToken } }`, nil, 503, unavailable},
		{"registration", `mutation { Register(input: {firstName: "A", lastName: "B", email: "new@shop.cz", password: "` + password + `"}) { accessToken } }`, nil, 503, unavailable},
		{"refresh", `mutation { RefreshTokens(input: {refreshToken: "` + pair.RefreshToken + `"}) { accessToken } }`, nil, 503, unavailable},
		{"refresh under graphql-response+json", `mutation { RefreshTokens(input: {refreshToken: "` + pair.RefreshToken + `"}) { accessToken } }`,
			[]string{"Accept", "application/graphql-response+json"}, 503, unavailable},
		{"logout", `mutation { Logout }`, bearer(pair.AccessToken), 503, unavailable},
		{"no database needed", `{ __typename }`, nil, 200, `{"data":{"__typename":"Query"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.post(tc.query, tc.headers...)
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.body)
			}
			if got := w.Header().Get("Retry-After"); (got != "") != (tc.status == http.StatusServiceUnavailable) {
				t.Errorf("Retry-After = %q", got)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
		})
	}
}
