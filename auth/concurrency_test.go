package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"shopauth/auth"
)

// refreshAll presents tok from n goroutines released at once and returns what each got.
func refreshAll(e *testEnv, tok string, n int) ([]auth.TokenPair, []error) {
	pairs, errs := make([]auth.TokenPair, n), make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			pairs[i], errs[i] = e.svc.Refresh(context.Background(), tok)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return pairs, errs
}

// TestConcurrentRefresh: 50 parallel refreshes of one token never fork the chain. With the grace
// interval every caller gets the same successor; without it exactly one wins and the duplicates
// count as reuse, which ends the session.
func TestConcurrentRefresh(t *testing.T) {
	const n = 50
	t.Run("grace 10s", func(t *testing.T) {
		e := newEnv(t)
		const email = "race@shop.cz"
		pair := e.register(email)
		pairs, errs := refreshAll(e, pair.RefreshToken, n)
		var ok, invalid int
		var successor string
		for i := range n {
			if errs[i] != nil {
				wantInvalidToken(t, errs[i])
				invalid++
				continue
			}
			ok++
			if successor == "" {
				successor = pairs[i].RefreshToken
			} else if pairs[i].RefreshToken != successor {
				t.Fatalf("caller %d got another successor: the chain forked", i)
			}
			e.mustAuthenticate(pairs[i].AccessToken)
		}
		t.Logf("N=%d: %d got the same successor, %d invalid-token", n, ok, invalid)
		if ok == 0 {
			t.Fatal("no caller got a successor")
		}
		// Exactly one live successor: one session row, and the successor is its head.
		if list := e.sessions(email); len(list) != 1 {
			t.Fatalf("%d sessions, want 1", len(list))
		}
		next := e.mustRefresh(successor)
		if next.RefreshToken == successor {
			t.Fatal("the successor did not rotate")
		}
	})
	t.Run("grace disabled", func(t *testing.T) {
		e := newEnv(t, func(c *auth.Config) { c.ReuseInterval = 0 })
		const email = "race0@shop.cz"
		pair := e.register(email)
		pairs, errs := refreshAll(e, pair.RefreshToken, n)
		var ok int
		var winner auth.TokenPair
		for i := range n {
			if errs[i] != nil {
				wantInvalidToken(t, errs[i])
				continue
			}
			ok++
			winner = pairs[i]
		}
		t.Logf("N=%d, no grace: %d rotated, %d invalid-token", n, ok, n-ok)
		if ok != 1 {
			t.Fatalf("%d callers rotated, want exactly 1", ok)
		}
		// The 49 duplicates are reuse: the session, and the winner's successor with it, is gone.
		if list := e.sessions(email); len(list) != 0 {
			t.Fatalf("%d sessions after reuse, want 0", len(list))
		}
		_, err := e.svc.Refresh(context.Background(), winner.RefreshToken)
		wantInvalidToken(t, err)
	})
}

// TestRefreshRacingLogout: refreshes racing a Logout (or a RevokeSessions ALL, or a grace replay)
// never leave a session alive, and nothing they minted works afterwards.
func TestRefreshRacingLogout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const email = "logout-race@shop.cz"
	const rounds, refreshers = 8, 8
	first := e.register(email)
	for round := range rounds {
		pair := first
		if round > 0 {
			pair = e.login(email)
		}
		p := e.mustAuthenticate(pair.AccessToken)
		var wg sync.WaitGroup
		start := make(chan struct{})
		pairs, errs := make([]auth.TokenPair, refreshers), make([]error, refreshers)
		for i := range refreshers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				pairs[i], errs[i] = e.svc.Refresh(ctx, pair.RefreshToken)
			}()
		}
		var endErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Stagger the logout so that in later rounds some refreshes commit first.
			time.Sleep(time.Duration(round) * 2 * time.Millisecond)
			if round%2 == 0 {
				endErr = e.svc.Logout(ctx, p)
			} else {
				_, endErr = e.svc.RevokeSessions(ctx, p, auth.ScopeAll)
			}
		}()
		close(start)
		wg.Wait()
		if endErr != nil {
			t.Fatalf("round %d: ending the session: %v", round, endErr)
		}
		if list := e.sessions(email); len(list) != 0 {
			t.Fatalf("round %d: %d sessions survived the logout", round, len(list))
		}
		won := 0
		for i := range refreshers {
			if errs[i] != nil {
				wantInvalidToken(t, errs[i])
				continue
			}
			won++
			if _, err := e.svc.Authenticate(ctx, pairs[i].AccessToken); err == nil {
				t.Fatalf("round %d: an access token minted by a racing refresh outlived the logout", round)
			}
			if _, err := e.svc.Refresh(ctx, pairs[i].RefreshToken); err == nil {
				t.Fatalf("round %d: a refresh token minted by a racing refresh outlived the logout", round)
			}
		}
		t.Logf("round %d: %d of %d refreshes won before the session ended", round, won, refreshers)
	}
}
