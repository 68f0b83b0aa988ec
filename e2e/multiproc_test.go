package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"shopauth/internal/pgtest"
	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
)

// Several `shopauth serve` processes on one PostgreSQL database must behave as one server: these
// tests run the real binary twice on a database of their own on the test cluster.

// startPostgresPair starts two serve processes on one new PostgreSQL database.
func startPostgresPair(t *testing.T) (bin, dbURL string, a, b *servetest.Server) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary twice")
	}
	dbURL = pgtest.NewDatabase(t)
	bin = servetest.Binary(t)
	// A grace interval no loaded CI machine outlasts between a rotation and its racing replays.
	t.Setenv("SHOPAUTH_REFRESH_REUSE_INTERVAL", "2m")
	return bin, dbURL, servetest.Start(t, bin, dbURL), servetest.Start(t, bin, dbURL)
}

const currentCustomerQuery = `{ currentCustomerUser { email } }`

func TestTwoServersOnOnePostgresDatabase(t *testing.T) {
	bin, dbURL, a, b := startPostgresPair(t)

	t.Run("register on one, refresh on the other", func(t *testing.T) {
		pair := testkit.Register(t, a.URL, "across@example.com", "correct horse")
		next := testkit.Refresh(t, b.URL, pair.RefreshToken).Token(t, "RefreshTokens")
		if r := testkit.GQL(t, a.URL, currentCustomerQuery, nil, testkit.Bearer(next.AccessToken)); r.Status != 200 ||
			!strings.Contains(string(r.Raw), "across@example.com") {
			t.Errorf("the access token B issued, on A: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("grace replay across them", func(t *testing.T) {
		pair := testkit.Register(t, a.URL, "grace@example.com", "correct horse")
		first := testkit.Refresh(t, a.URL, pair.RefreshToken).Token(t, "RefreshTokens")
		again := testkit.Refresh(t, b.URL, pair.RefreshToken).Token(t, "RefreshTokens")
		if again.RefreshToken != first.RefreshToken {
			t.Errorf("grace replay on B answered another refresh token than A's rotation:\n A %s\n B %s", first.RefreshToken, again.RefreshToken)
		}
		if r := testkit.GQL(t, b.URL, currentCustomerQuery, nil, testkit.Bearer(again.AccessToken)); r.Status != 200 {
			t.Errorf("the grace answer's access token: %d %s", r.Status, r.Raw)
		}
		testkit.Refresh(t, a.URL, first.RefreshToken).Token(t, "RefreshTokens") // the chain goes on
	})

	t.Run("40-way refresh race split over both", func(t *testing.T) {
		pair := testkit.Register(t, a.URL, "race@example.com", "correct horse")
		const n = 40
		answers := make([]string, n)
		errs := make([]error, n)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 30 * time.Second}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			url := a.URL
			if i%2 == 1 {
				url = b.URL
			}
			wg.Go(func() {
				<-start
				answers[i], errs[i] = servetest.RefreshOnce(client, url, pair.RefreshToken)
			})
		}
		close(start)
		wg.Wait()
		distinct := map[string]int{}
		for i := range n {
			if errs[i] != nil {
				t.Errorf("refresh %d (on %s): %v", i, map[bool]string{true: "A", false: "B"}[i%2 == 0], errs[i])
				continue
			}
			distinct[answers[i]]++
		}
		if len(distinct) != 1 {
			t.Fatalf("%d parallel refreshes over two processes gave %d different successors, want 1", n, len(distinct))
		}
		for successor := range distinct {
			testkit.Refresh(t, b.URL, successor).Token(t, "RefreshTokens")
		}
	})

	t.Run("reuse detected on one ends the session on both, audited", func(t *testing.T) {
		r0 := testkit.Register(t, a.URL, "reuse@example.com", "correct horse")
		r1 := testkit.Refresh(t, a.URL, r0.RefreshToken).Token(t, "RefreshTokens")
		r2 := testkit.Refresh(t, b.URL, r1.RefreshToken).Token(t, "RefreshTokens")
		testkit.Refresh(t, b.URL, r0.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token") // the grandparent
		testkit.Refresh(t, a.URL, r2.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")
		testkit.GQL(t, a.URL, currentCustomerQuery, nil, testkit.Bearer(r2.AccessToken)).WantError(t, 401, "Token is not valid.", "invalid-token")
		out, err := exec.Command(bin, "audit", "--customer", "reuse@example.com", "--db", dbURL).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "reuse") {
			t.Errorf("shopauth audit after a reuse: %v\n%s", err, out)
		}
	})

	t.Run("logout on one, the access token refused on the other", func(t *testing.T) {
		pair := testkit.Register(t, a.URL, "logout@example.com", "correct horse")
		if r := testkit.GQL(t, b.URL, currentCustomerQuery, nil, testkit.Bearer(pair.AccessToken)); r.Status != 200 {
			t.Fatalf("before logout, on B: %d %s", r.Status, r.Raw)
		}
		if r := testkit.GQL(t, a.URL, `mutation { Logout }`, nil, testkit.Bearer(pair.AccessToken)); r.Status != 200 || len(r.Errors) > 0 {
			t.Fatalf("Logout on A: %d %s", r.Status, r.Raw)
		}
		testkit.GQL(t, b.URL, currentCustomerQuery, nil, testkit.Bearer(pair.AccessToken)).WantError(t, 401, "Token is not valid.", "invalid-token")
		testkit.Refresh(t, b.URL, pair.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")
	})

	t.Run("login throttle counted across both", func(t *testing.T) {
		testkit.Register(t, a.URL, "guessed@example.com", "correct horse")
		const login = `mutation { Login(input: {email: "guessed@example.com", password: "wrong guess"}) { accessToken } }`
		for i := range 5 { // --login-failures-per-email 5: A, B, A, B, A
			s := a
			if i%2 == 1 {
				s = b
			}
			testkit.GQL(t, s.URL, login, nil, nil).WantError(t, 200, "Log in failed.", "invalid-credentials")
		}
		for name, s := range map[string]*servetest.Server{"A": a, "B": b} {
			r := testkit.GQL(t, s.URL, login, nil, nil)
			if r.Status != 200 || len(r.Errors) == 0 || r.Errors[0].Extensions["userCode"] != "too-many-login-attempts" {
				t.Errorf("sixth failure in a minute, on %s: %d %s; want too-many-login-attempts", name, r.Status, r.Raw)
			}
		}
	})

	t.Run("a key rotated by the command line reaches both", func(t *testing.T) {
		out, err := exec.Command(bin, "keys", "rotate", "--now", "--db", dbURL).CombinedOutput()
		if err != nil {
			t.Fatalf("keys rotate: %v\n%s", err, out)
		}
		fields := strings.Fields(string(out))
		if len(fields) < 4 || fields[0] != "new" {
			t.Fatalf("keys rotate said %q", out)
		}
		kid := fields[3]
		for name, s := range map[string]*servetest.Server{"A": a, "B": b} {
			// LISTEN/NOTIFY makes this immediate; the 30 s reload is the fallback, hence the bound.
			started := time.Now()
			for !strings.Contains(getBody(t, s.URL+"/.well-known/jwks.json"), kid) {
				if time.Since(started) > 40*time.Second {
					t.Fatalf("server %s does not publish the rotated key %s after 40 s", name, kid)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("server %s published the rotated key after %v", name, time.Since(started).Round(time.Millisecond))
			pair := testkit.Register(t, s.URL, "rotated-"+strings.ToLower(name)+"@example.com", "correct horse")
			if h, _ := testkit.DecodeJWT(t, pair.AccessToken); h["kid"] != kid {
				t.Errorf("server %s signs with %v after the rotation, want %s", name, h["kid"], kid)
			}
		}
	})
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// TestKill9OfOneOfTwoPostgresServers: clients refresh through two processes; one is killed with
// SIGKILL under that load, and the last token every client received (from either) must still
// refresh on the survivor: a reply is only written after its transaction committed in PostgreSQL,
// and a rotation whose reply was lost is answered by the grace interval.
func TestKill9OfOneOfTwoPostgresServers(t *testing.T) {
	_, _, a, b := startPostgresPair(t)
	const clients = 20
	tokens := make([]string, clients)
	for i := range clients {
		tokens[i] = testkit.Register(t, b.URL, fmt.Sprintf("kill%02d@example.com", i), "correct horse").RefreshToken
	}
	answered, failures := refreshUntilKilled(tokens,
		func(i, answered int) string {
			if i%2 == 1 && answered%2 == 1 {
				return b.URL // even clients use A only; odd ones alternate, so chains cross processes
			}
			return a.URL
		},
		func(url string) bool { return url == a.URL }, // A is gone; the reply, if any, was lost
		func() { a.Kill9(t) })
	for _, f := range failures {
		t.Errorf("a refresh was answered with an error: %s", f)
	}
	total := 0
	for i := range clients {
		total += answered[i]
		next, err := servetest.RefreshOnce(http.DefaultClient, b.URL, tokens[i])
		if err != nil {
			t.Errorf("client %d's last received refresh token does not refresh on the survivor: %v", i, err)
			continue
		}
		if _, err := servetest.RefreshOnce(http.DefaultClient, b.URL, next); err != nil {
			t.Errorf("client %d: the survivor's answer does not refresh in turn: %v", i, err)
		}
	}
	t.Logf("%d refreshes answered over two processes before SIGKILL of one; every client's last token refreshed on the other (%d via grace)",
		total, b.Metric(t, `shopauth_refreshes_total{result="grace"}`))
}
