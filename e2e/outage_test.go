package e2e

import (
	"net/http"
	"shopauth/internal/servetest"
	"strings"
	"testing"
	"time"

	"shopauth/internal/pgtest"
	"shopauth/internal/testkit"
)

// TestPostgresOutage stops the server's PostgreSQL under it and starts it again: while it is away
// /healthz says 503, and every operation that needs the database answers HTTP 503 with Retry-After
// and the contract's `unavailable` error, never driver text, a 401, an internal error at
// 200 or a panic; a refresh token presented during the outage is not used up; and the server
// recovers by itself once the database is back.
func TestPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL cluster")
	}
	cluster := pgtest.StartCluster(t)
	url := servetest.Start(t, servetest.Binary(t), cluster.URL).URL
	pair := testkit.Register(t, url, "outage@example.com", "correct horse")

	cluster.Stop()

	leaks := []string{"dial", "connect", "pgx", "pgconn", "SQLSTATE", "postgres", "127.0.0.1", "refused", "EOF"}
	noLeak := func(t *testing.T, what string, body []byte) {
		t.Helper()
		for _, s := range leaks {
			if strings.Contains(strings.ToLower(string(body)), strings.ToLower(s)) {
				t.Errorf("%s leaks %q: %s", what, s, body)
			}
		}
	}
	res, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/healthz during the outage = %d, want 503", res.StatusCode)
	}
	// The contract's answer while the database cannot be reached, byte for byte.
	const unavailable = `{"errors":[{"message":"The service is temporarily unavailable.","extensions":{"userCode":"unavailable"}}]}`
	tests := []struct {
		name   string
		query  string
		vars   map[string]any
		header map[string]string
	}{
		{"authenticated read", currentCustomerQuery, nil, testkit.Bearer(pair.AccessToken)},
		{"refresh", `mutation ($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken refreshToken } }`,
			map[string]any{"t": pair.RefreshToken}, nil},
		{"login", `mutation { Login(input: {email: "outage@example.com", password: "correct horse"}) { accessToken } }`, nil, nil},
		{"registration", `mutation { Register(input: {firstName: "A", lastName: "B", email: "new@example.com", password: "correct horse"}) { accessToken } }`, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testkit.GQL(t, url, tc.query, tc.vars, tc.header)
			if r.Status != http.StatusServiceUnavailable || string(r.Raw) != unavailable {
				t.Errorf("got %d %s, want 503 %s", r.Status, r.Raw, unavailable)
			}
			if after := r.Header.Get("Retry-After"); after == "" {
				t.Error("no Retry-After")
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			noLeak(t, tc.name, r.Raw)
		})
	}

	cluster.Start()
	started := time.Now()
	for {
		res, err := http.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			break
		}
		if time.Since(started) > 30*time.Second {
			t.Fatalf("/healthz still %d 30 s after the database came back", res.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	next := testkit.Refresh(t, url, pair.RefreshToken).Token(t, "RefreshTokens")
	if r := testkit.GQL(t, url, currentCustomerQuery, nil, testkit.Bearer(next.AccessToken)); r.Status != 200 || len(r.Errors) > 0 {
		t.Errorf("after recovery, an authenticated read: %d %s", r.Status, r.Raw)
	}
}
