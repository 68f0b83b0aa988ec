package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"shopauth/internal/pgtest"
)

// Several `shopauth serve` processes on one PostgreSQL database must behave as one server: these
// tests run the real binary twice on a database of their own on the test cluster.

// buildBinary builds shopauth into a temp folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shopauth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startPostgresPair starts two serve processes on one new PostgreSQL database.
func startPostgresPair(t *testing.T) (bin, dbURL string, a, b *binaryServer) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary twice")
	}
	dbURL = pgtest.NewDatabase(t)
	bin = buildBinary(t)
	// A grace interval no loaded CI machine outlasts between a rotation and its racing replays.
	t.Setenv("SHOPAUTH_REFRESH_REUSE_INTERVAL", "2m")
	return bin, dbURL, startBinary(t, bin, dbURL), startBinary(t, bin, dbURL)
}

const currentCustomerQuery = `{ currentCustomerUser { email } }`

func TestTwoServersOnOnePostgresDatabase(t *testing.T) {
	bin, dbURL, a, b := startPostgresPair(t)

	t.Run("register on one, refresh on the other", func(t *testing.T) {
		pair := register(t, a.url, "across@example.com", "correct horse")
		next := refresh(t, b.url, pair.RefreshToken).token(t, "RefreshTokens")
		if r := gql(t, a.url, currentCustomerQuery, nil, bearer(next.AccessToken)); r.Status != 200 ||
			!strings.Contains(string(r.Raw), "across@example.com") {
			t.Errorf("the access token B issued, on A: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("grace replay across them", func(t *testing.T) {
		pair := register(t, a.url, "grace@example.com", "correct horse")
		first := refresh(t, a.url, pair.RefreshToken).token(t, "RefreshTokens")
		again := refresh(t, b.url, pair.RefreshToken).token(t, "RefreshTokens")
		if again.RefreshToken != first.RefreshToken {
			t.Errorf("grace replay on B answered another refresh token than A's rotation:\n A %s\n B %s", first.RefreshToken, again.RefreshToken)
		}
		if r := gql(t, b.url, currentCustomerQuery, nil, bearer(again.AccessToken)); r.Status != 200 {
			t.Errorf("the grace answer's access token: %d %s", r.Status, r.Raw)
		}
		refresh(t, a.url, first.RefreshToken).token(t, "RefreshTokens") // the chain goes on
	})

	t.Run("40-way refresh race split over both", func(t *testing.T) {
		pair := register(t, a.url, "race@example.com", "correct horse")
		const n = 40
		answers := make([]string, n)
		errs := make([]error, n)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 30 * time.Second}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			url := a.url
			if i%2 == 1 {
				url = b.url
			}
			wg.Go(func() {
				<-start
				answers[i], errs[i] = refreshOnce(client, url, pair.RefreshToken)
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
			refresh(t, b.url, successor).token(t, "RefreshTokens")
		}
	})

	t.Run("reuse detected on one ends the session on both, audited", func(t *testing.T) {
		r0 := register(t, a.url, "reuse@example.com", "correct horse")
		r1 := refresh(t, a.url, r0.RefreshToken).token(t, "RefreshTokens")
		r2 := refresh(t, b.url, r1.RefreshToken).token(t, "RefreshTokens")
		refresh(t, b.url, r0.RefreshToken).wantError(t, 200, "Token is not valid.", "invalid-token") // the grandparent
		refresh(t, a.url, r2.RefreshToken).wantError(t, 200, "Token is not valid.", "invalid-token")
		gql(t, a.url, currentCustomerQuery, nil, bearer(r2.AccessToken)).wantError(t, 401, "Token is not valid.", "invalid-token")
		out, err := exec.Command(bin, "audit", "--customer", "reuse@example.com", "--db", dbURL).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "reuse") {
			t.Errorf("shopauth audit after a reuse: %v\n%s", err, out)
		}
	})

	t.Run("logout on one, the access token refused on the other", func(t *testing.T) {
		pair := register(t, a.url, "logout@example.com", "correct horse")
		if r := gql(t, b.url, currentCustomerQuery, nil, bearer(pair.AccessToken)); r.Status != 200 {
			t.Fatalf("before logout, on B: %d %s", r.Status, r.Raw)
		}
		if r := gql(t, a.url, `mutation { Logout }`, nil, bearer(pair.AccessToken)); r.Status != 200 || len(r.Errors) > 0 {
			t.Fatalf("Logout on A: %d %s", r.Status, r.Raw)
		}
		gql(t, b.url, currentCustomerQuery, nil, bearer(pair.AccessToken)).wantError(t, 401, "Token is not valid.", "invalid-token")
		refresh(t, b.url, pair.RefreshToken).wantError(t, 200, "Token is not valid.", "invalid-token")
	})

	t.Run("login throttle counted across both", func(t *testing.T) {
		register(t, a.url, "guessed@example.com", "correct horse")
		const login = `mutation { Login(input: {email: "guessed@example.com", password: "wrong guess"}) { accessToken } }`
		for i := range 5 { // --login-failures-per-email 5: A, B, A, B, A
			s := a
			if i%2 == 1 {
				s = b
			}
			gql(t, s.url, login, nil, nil).wantError(t, 200, "Log in failed.", "invalid-credentials")
		}
		for name, s := range map[string]*binaryServer{"A": a, "B": b} {
			r := gql(t, s.url, login, nil, nil)
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
		for name, s := range map[string]*binaryServer{"A": a, "B": b} {
			// LISTEN/NOTIFY makes this immediate; the 30 s reload is the fallback, hence the bound.
			started := time.Now()
			for !strings.Contains(getBody(t, s.url+"/.well-known/jwks.json"), kid) {
				if time.Since(started) > 40*time.Second {
					t.Fatalf("server %s does not publish the rotated key %s after 40 s", name, kid)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("server %s published the rotated key after %v", name, time.Since(started).Round(time.Millisecond))
			pair := register(t, s.url, "rotated-"+strings.ToLower(name)+"@example.com", "correct horse")
			if h, _ := decode(t, pair.AccessToken); h["kid"] != kid {
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
		tokens[i] = register(t, b.url, fmt.Sprintf("kill%02d@example.com", i), "correct horse").RefreshToken
	}
	var answered [clients]int
	var failures []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 20 * time.Second}
	for i := range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				url := a.url // even clients use A only; odd ones alternate, so chains cross processes
				if i%2 == 1 && answered[i]%2 == 1 {
					url = b.url
				}
				next, err := refreshOnce(client, url, tokens[i])
				var answer *gqlAnswerError
				switch {
				case errors.As(err, &answer):
					mu.Lock()
					failures = append(failures, fmt.Sprintf("client %d: %v", i, err))
					mu.Unlock()
					return
				case err != nil:
					if url == a.url {
						return // A is gone; the reply, if any, was lost
					}
					mu.Lock()
					failures = append(failures, fmt.Sprintf("client %d on the survivor: %v", i, err))
					mu.Unlock()
					return
				}
				tokens[i] = next
				answered[i]++
			}
		})
	}
	time.Sleep(time.Second + rand.N(time.Second))
	a.kill9(t)
	close(stop)
	wg.Wait()
	for _, f := range failures {
		t.Errorf("a refresh was answered with an error: %s", f)
	}
	total := 0
	for i := range clients {
		total += answered[i]
		next, err := refreshOnce(http.DefaultClient, b.url, tokens[i])
		if err != nil {
			t.Errorf("client %d's last received refresh token does not refresh on the survivor: %v", i, err)
			continue
		}
		if _, err := refreshOnce(http.DefaultClient, b.url, next); err != nil {
			t.Errorf("client %d: the survivor's answer does not refresh in turn: %v", i, err)
		}
	}
	t.Logf("%d refreshes answered over two processes before SIGKILL of one; every client's last token refreshed on the other (%d via grace)",
		total, b.metric(t, `shopauth_refreshes_total{result="grace"}`))
}
