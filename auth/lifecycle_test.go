package auth_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
)

// attacker is the request origin the audit log must record.
const attackerIP = "203.0.113.7"

func fromAttacker() context.Context {
	return auth.NewContextWithClient(context.Background(), auth.Client{IP: attackerIP, UserAgent: "curl/8"})
}

func claim(t *testing.T, tok, name string) string {
	t.Helper()
	_, c := jwtParts(t, tok)
	return strings.Trim(string(mustJSON(c[name])), `"`)
}

// TestRotationGraceAndReuse walks one chain through rotation, grace (across a restart), the grace
// boundary, and reuse detection with its audit record.
func TestRotationGraceAndReuse(t *testing.T) {
	e := newEnv(t)
	pair0 := e.register("grace@shop.cz")
	device := claim(t, pair0.RefreshToken, "deviceId")

	e.advance(time.Second)
	rotatedAt := e.clock()
	pair1 := e.mustRefresh(pair0.RefreshToken)
	if pair1.RefreshToken == pair0.RefreshToken {
		t.Fatal("rotation returned the same refresh token")
	}
	if claim(t, pair1.RefreshToken, "deviceId") != device || claim(t, pair1.AccessToken, "deviceId") != device {
		t.Fatal("rotation changed the deviceId")
	}
	if claim(t, pair1.RefreshToken, "secretChain") == claim(t, pair0.RefreshToken, "secretChain") {
		t.Fatal("rotation kept the secret")
	}
	wantExp := rotatedAt.Add(e.cfg.RefreshTTL).Unix()
	if got := claim(t, pair1.RefreshToken, "exp"); got != json.Number(mustJSON(wantExp)).String() {
		t.Errorf("successor exp = %s, want %d (a new 14-day expiry)", got, wantExp)
	}

	// Inside the interval: byte-identical refresh token and a working access token.
	e.advance(e.cfg.ReuseInterval - time.Millisecond)
	again := e.mustRefresh(pair0.RefreshToken)
	if again.RefreshToken != pair1.RefreshToken {
		t.Fatalf("grace answer differs:\n got %s\nwant %s", again.RefreshToken, pair1.RefreshToken)
	}
	if p := e.mustAuthenticate(again.AccessToken); p.DeviceID != device {
		t.Fatalf("grace access token names device %s, want %s", p.DeviceID, device)
	}

	// The grace state is in the database: after a restart the retry still gets the same bytes.
	e.restart()
	if got := e.mustRefresh(pair0.RefreshToken); got.RefreshToken != pair1.RefreshToken {
		t.Fatal("grace answer differs after a restart")
	}

	// At the boundary (rotation + interval) the old token is reuse: the session ends, audited.
	e.setNow(rotatedAt.Add(e.cfg.ReuseInterval))
	_, err := e.svc.Refresh(fromAttacker(), pair0.RefreshToken)
	wantInvalidToken(t, err)
	if reason(err) != "refresh token reused" {
		t.Fatalf("refused for %q, want reuse", reason(err))
	}
	_, err = e.svc.Refresh(context.Background(), pair1.RefreshToken)
	wantInvalidToken(t, err)
	_, err = e.svc.Authenticate(context.Background(), pair1.AccessToken)
	wantInvalidToken(t, err)
	_, err = e.svc.Authenticate(context.Background(), pair0.AccessToken)
	wantInvalidToken(t, err)
	if n := len(e.sessions("grace@shop.cz")); n != 0 {
		t.Fatalf("%d sessions left after reuse, want 0", n)
	}

	events, err := e.db.AuditLog(context.Background(), auth.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("%d audit events, want 1: %+v", len(events), events)
	}
	want := auth.AuditEvent{At: rotatedAt.Add(e.cfg.ReuseInterval).UTC(), CustomerID: e.customer("grace@shop.cz").ID,
		DeviceID: device, Reason: "refresh token reused", RemoteAddr: attackerIP}
	if got := events[0]; !got.At.Equal(want.At) || got.CustomerID != want.CustomerID || got.DeviceID != want.DeviceID ||
		got.Reason != want.Reason || got.RemoteAddr != want.RemoteAddr {
		t.Fatalf("audit event = %+v, want %+v", got, want)
	}
}

// TestReuseOfOlderAncestors: only the immediate parent gets grace; a grandparent ends the session
// even inside the interval, and the parent of the newest token still gets the newest token.
func TestReuseOfOlderAncestors(t *testing.T) {
	e := newEnv(t)
	r0 := e.register("ancestor@shop.cz")
	r1 := e.mustRefresh(r0.RefreshToken)
	r2 := e.mustRefresh(r1.RefreshToken)
	if got := e.mustRefresh(r1.RefreshToken); got.RefreshToken != r2.RefreshToken {
		t.Fatal("the immediate parent did not get the newest token")
	}
	_, err := e.svc.Refresh(fromAttacker(), r0.RefreshToken)
	wantInvalidToken(t, err)
	if reason(err) != "refresh token reused" {
		t.Fatalf("grandparent refused for %q, want reuse", reason(err))
	}
	for _, tok := range []string{r1.RefreshToken, r2.RefreshToken} {
		_, err := e.svc.Refresh(context.Background(), tok)
		wantInvalidToken(t, err)
	}
	_, err = e.svc.Authenticate(context.Background(), r2.AccessToken)
	wantInvalidToken(t, err)
}

// TestGraceDisabled: with --refresh-reuse-interval 0 any second use is reuse.
func TestGraceDisabled(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.ReuseInterval = 0 })
	r0 := e.register("nograce@shop.cz")
	r1 := e.mustRefresh(r0.RefreshToken)
	_, err := e.svc.Refresh(context.Background(), r0.RefreshToken)
	wantInvalidToken(t, err)
	if reason(err) != "refresh token reused" {
		t.Fatalf("refused for %q, want reuse", reason(err))
	}
	_, err = e.svc.Refresh(context.Background(), r1.RefreshToken)
	wantInvalidToken(t, err)
}

// TestRefreshExpiry: a refresh token is refused at its exp second, also inside the grace interval.
func TestRefreshExpiry(t *testing.T) {
	e := newEnv(t)
	start := e.clock()
	r0 := e.register("expiry@shop.cz")
	e.setNow(start.Truncate(time.Second).Add(e.cfg.RefreshTTL - time.Second))
	r1 := e.mustRefresh(r0.RefreshToken) // one second before exp: still good
	e.setNow(start.Truncate(time.Second).Add(e.cfg.RefreshTTL))
	_, err := e.svc.Refresh(context.Background(), r0.RefreshToken) // grace, but expired
	wantInvalidToken(t, err)
	if !strings.Contains(reason(err), wantExpired) {
		t.Fatalf("refused for %q, want expiry", reason(err))
	}
	e.mustRefresh(r1.RefreshToken) // the successor has its own 14 days
}

// TestAccessTokensDieWithSession: Logout, RevokeSessions OTHERS and ALL, and ChangePassword refuse
// the ended sessions' access tokens at once.
func TestAccessTokensDieWithSession(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const email = "sessions@shop.cz"
	a := e.register(email)
	b := e.login(email)
	c := e.login(email)
	d := e.login(email)

	refused := func(name, tok string) {
		t.Helper()
		_, err := e.svc.Authenticate(ctx, tok)
		if err == nil {
			t.Fatalf("%s: access token still accepted", name)
		}
		wantInvalidToken(t, err)
	}

	t.Run("Logout", func(t *testing.T) {
		if err := e.svc.Logout(ctx, e.mustAuthenticate(d.AccessToken)); err != nil {
			t.Fatal(err)
		}
		refused("d", d.AccessToken)
		_, err := e.svc.Refresh(ctx, d.RefreshToken)
		wantInvalidToken(t, err)
		e.mustAuthenticate(a.AccessToken)
	})
	t.Run("RevokeSessions OTHERS", func(t *testing.T) {
		n, err := e.svc.RevokeSessions(ctx, e.mustAuthenticate(c.AccessToken), auth.ScopeOthers)
		if err != nil || n != 2 {
			t.Fatalf("RevokeSessions(OTHERS) = %d, %v; want 2", n, err)
		}
		refused("a", a.AccessToken)
		refused("b", b.AccessToken)
		e.mustAuthenticate(c.AccessToken)
	})
	t.Run("RevokeSessions ALL", func(t *testing.T) {
		n, err := e.svc.RevokeSessions(ctx, e.mustAuthenticate(c.AccessToken), auth.ScopeAll)
		if err != nil || n != 1 {
			t.Fatalf("RevokeSessions(ALL) = %d, %v; want 1", n, err)
		}
		refused("c", c.AccessToken)
		_, err = e.svc.Refresh(ctx, c.RefreshToken)
		wantInvalidToken(t, err)
	})
	t.Run("ChangePassword, token from the same second", func(t *testing.T) {
		e.setNow(e.clock().Truncate(time.Second).Add(100 * time.Millisecond))
		x := e.login(email)
		y := e.login(email)
		y = e.mustRefresh(y.RefreshToken) // an access token minted in the password change's second
		e.setNow(e.clock().Add(800 * time.Millisecond))
		if _, err := e.svc.ChangePassword(ctx, e.mustAuthenticate(x.AccessToken), email, testPassword, "a new passphrase"); err != nil {
			t.Fatal(err)
		}
		if claim(t, y.AccessToken, "iat") != claim(t, x.AccessToken, "iat") {
			t.Fatal("test setup: tokens not from the same second")
		}
		refused("x", x.AccessToken)
		refused("y", y.AccessToken)
		if n := len(e.sessions(email)); n != 0 {
			t.Fatalf("%d sessions after ChangePassword, want 0", n)
		}
		// A login in the same second with the new password works.
		z, err := e.svc.Login(ctx, email, "a new passphrase")
		if err != nil {
			t.Fatal(err)
		}
		e.mustAuthenticate(z.AccessToken)
	})
}

// TestPrune deletes expired sessions and audit rows past retention, and keeps the rest.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *auth.Config) { c.AuditRetention = time.Hour; c.ReuseInterval = 0 })
	const email = "prune@shop.cz"
	start := e.clock()
	old := e.register(email)
	thief := e.login(email)
	e.mustRefresh(thief.RefreshToken)
	if _, err := e.svc.Refresh(fromAttacker(), thief.RefreshToken); err == nil {
		t.Fatal("reuse accepted")
	}
	e.setNow(start.Add(e.cfg.RefreshTTL - time.Hour))
	fresh := e.login(email)

	e.setNow(start.Add(e.cfg.RefreshTTL + time.Second))
	n, err := e.svc.Prune(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1 expired session", n, err)
	}
	list := e.sessions(email)
	if len(list) != 1 || list[0].DeviceID != claim(t, fresh.RefreshToken, "deviceId") {
		t.Fatalf("sessions after prune = %+v, want only the fresh one", list)
	}
	_, err = e.svc.Refresh(ctx, old.RefreshToken)
	wantInvalidToken(t, err)
	if events, _ := e.db.AuditLog(ctx, auth.AuditQuery{Limit: 10}); len(events) != 0 {
		t.Fatalf("audit rows older than retention kept: %+v", events)
	}
	e.mustRefresh(fresh.RefreshToken)
}

// The demo customer is made once; later starts print the same password, and a new one once the
// customer changed it.
func TestDemoCustomer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.svc.DemoCustomer(ctx)
	if err != nil || len(first) != 16 {
		t.Fatalf("first DemoCustomer = %q, %v; want a 16-character password", first, err)
	}
	if _, err := e.svc.Login(ctx, auth.DemoEmail, first); err != nil {
		t.Fatalf("the demo password does not log in: %v", err)
	}
	again, err := e.svc.DemoCustomer(ctx)
	if err != nil || again != first {
		t.Fatalf("second DemoCustomer = %q, %v; want the first password %q", again, err, first)
	}
	pair, err := e.svc.Login(ctx, auth.DemoEmail, first)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangePassword(ctx, e.mustAuthenticate(pair.AccessToken), auth.DemoEmail, first, "a new passphrase"); err != nil {
		t.Fatal(err)
	}
	// A changed password is replaced, so --demo always prints credentials that log in; the
	// sessions of the changed password end, as with every reset.
	relogged, err := e.svc.Login(ctx, auth.DemoEmail, "a new passphrase")
	if err != nil {
		t.Fatal(err)
	}
	after, err := e.svc.DemoCustomer(ctx)
	if err != nil || len(after) != 16 || after == first {
		t.Fatalf("DemoCustomer after a password change = %q, %v; want a new 16-character password", after, err)
	}
	if _, err := e.svc.Login(ctx, auth.DemoEmail, after); err != nil {
		t.Fatalf("the replaced demo password does not log in: %v", err)
	}
	if _, err := e.svc.Login(ctx, auth.DemoEmail, "a new passphrase"); auth.ErrorCode(err) != auth.EInvalidCredentials {
		t.Fatalf("the changed password still logs in: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, relogged.AccessToken); err == nil {
		t.Fatal("a session of the changed password survived the demo reset")
	}
	if again, err := e.svc.DemoCustomer(ctx); err != nil || again != after {
		t.Fatalf("DemoCustomer after the reset = %q, %v; want %q again", again, err, after)
	}
}
