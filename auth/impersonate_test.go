package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/internal/testkit"
)

// TestImpersonation: an operator's "log in as" hand-off starts a session of the customer whose
// access tokens carry administratorUuid, which lasts an hour from its start however it is
// refreshed, and is audited with the operator's name; the CLI's form needs an existing operator.
func TestImpersonation(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.AccessTTL = 40 * time.Minute })
	ctx := context.Background()
	own := e.register("jana@shop.cz")
	c := e.customer("jana@shop.cz")
	enrolment, err := e.svc.AddConsoleOperator(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	ana := enrolment.Operator

	if _, err := e.svc.Impersonate(ctx, c.UUID); auth.ErrorCode(err) != auth.EOperatorLoginRequired {
		t.Fatalf("Impersonate without an operator: %v", err)
	}
	if _, err := e.svc.ImpersonateAs(ctx, "nobody", "jana@shop.cz"); err == nil {
		t.Fatal("ImpersonateAs an unknown operator succeeded")
	}
	link, err := e.svc.ImpersonateAs(ctx, "ana", "jana@shop.cz")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("code") == "" || u.Query().Get("isRegistration") != "false" {
		t.Fatalf("hand-off URL %q", link)
	}
	start := e.clock()
	res, err := e.svc.LoginWithSocialCode(ctx, u.Query().Get("code"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.LoginWithSocialCode(ctx, u.Query().Get("code"), ""); auth.ErrorCode(err) != auth.EInvalidCredentials {
		t.Errorf("the code used twice: %v", err)
	}
	_, claims := testkit.DecodeJWT(t, res.Tokens.AccessToken)
	if claims["administratorUuid"] != ana.UUID || claims["uuid"] != c.UUID {
		t.Fatalf("access claims %v: want administratorUuid %s", claims, ana.UUID)
	}
	if _, own := testkit.DecodeJWT(t, own.AccessToken); own["administratorUuid"] != nil {
		t.Errorf("the customer's own token carries administratorUuid: %v", own)
	}
	p := e.mustAuthenticate(res.Tokens.AccessToken)
	sessions, _ := e.svc.Sessions(ctx, p)
	for _, s := range sessions {
		if s.Current && s.Login.Type != auth.LoginTypeAdmin {
			t.Errorf("the session began as %q, want admin", s.Login.Type)
		}
	}

	// Refreshed 50 minutes in: every token it gives ends with the hour.
	e.advance(50 * time.Minute)
	pair := e.mustRefresh(res.Tokens.RefreshToken)
	end := start.Add(auth.ImpersonationTTL).Unix()
	_, access := testkit.DecodeJWT(t, pair.AccessToken)
	_, refresh := testkit.DecodeJWT(t, pair.RefreshToken)
	exp := func(claims map[string]any) int64 { n, _ := claims["exp"].(json.Number).Int64(); return n }
	if exp(access) > end || exp(refresh) > end || exp(refresh) < end-1 || access["administratorUuid"] != ana.UUID {
		t.Errorf("after a refresh: access %v, refresh %v; want both to end by %d", access, refresh, end)
	}
	// The grace answer is the same capped token.
	if again := e.mustRefresh(res.Tokens.RefreshToken); again.RefreshToken != pair.RefreshToken {
		t.Error("the grace retry answered another refresh token")
	}
	e.advance(10*time.Minute + time.Second)
	if _, err := e.svc.Refresh(ctx, pair.RefreshToken); auth.ErrorCode(err) != auth.EInvalidToken {
		t.Errorf("a refresh after the hour: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, pair.AccessToken); err == nil {
		t.Error("the access token is honoured after the hour")
	}
	events, _ := e.svc.AuditLog(ctx, "jana@shop.cz", time.Time{})
	found := false
	for _, ev := range events {
		found = found || (ev.Reason == string(auth.AuditImpersonation) && ev.Operator == "ana")
	}
	if !found {
		t.Errorf("no audit event of the hand-off by ana: %+v", events)
	}
	// The customer's own session was never bounded.
	e.mustAuthenticate(e.mustRefresh(own.RefreshToken).AccessToken)
}

// TestRemovedOperatorNoLongerActsAsCustomers: removing an operator ends, in the same step, every
// customer session they opened with "log in as" (its refresh token is invalid-token, its access
// token no longer authenticates) and drops their unused codes, each audited on its customer;
// another operator's, and the customer's own, sessions and codes go on.
func TestRemovedOperatorNoLongerActsAsCustomers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register("jana@shop.cz")
	e.register("petr@shop.cz")
	for _, name := range []string{"ana", "bob"} {
		if _, err := e.svc.AddConsoleOperator(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	code := func(operator, email string) string {
		t.Helper()
		link, err := e.svc.ImpersonateAs(ctx, operator, email)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("code")
	}
	loginAs := func(operator, email string) auth.TokenPair {
		t.Helper()
		res, err := e.svc.LoginWithSocialCode(ctx, code(operator, email), "")
		if err != nil {
			t.Fatal(err)
		}
		return res.Tokens
	}
	// Ana's session and code that ended by themselves are deleted too, but neither counted nor audited.
	loginAs("ana", "petr@shop.cz")
	code("ana", "jana@shop.cz")
	e.advance(auth.ImpersonationTTL + time.Minute)

	own := e.login("jana@shop.cz")

	anaJana, anaPetr, bobJana := loginAs("ana", "jana@shop.cz"), loginAs("ana", "petr@shop.cz"), loginAs("bob", "jana@shop.cz")
	anaCode, bobCode := code("ana", "jana@shop.cz"), code("bob", "petr@shop.cz")
	wantDevices := map[string]bool{"": true} // the events: ana's two live sessions and her live code
	for _, p := range []auth.TokenPair{anaJana, anaPetr} {
		wantDevices[e.mustAuthenticate(p.AccessToken).DeviceID] = true
	}

	r, err := e.svc.RemoveConsoleOperator(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if r != (auth.OperatorRemoval{ConsoleSessions: 0, CustomerSessions: 2, HandOffs: 1}) {
		t.Errorf("RemoveConsoleOperator = %+v; want her 2 live sessions as customers and 1 live code", r)
	}

	authenticate := func(p auth.TokenPair) func() error {
		return func() error { _, err := e.svc.Authenticate(ctx, p.AccessToken); return err }
	}
	refresh := func(p auth.TokenPair) func() error {
		return func() error { _, err := e.svc.Refresh(ctx, p.RefreshToken); return err }
	}
	redeem := func(code string) func() error {
		return func() error { _, err := e.svc.LoginWithSocialCode(ctx, code, ""); return err }
	}
	tests := []struct {
		name    string
		try     func() error
		refused string // the error code; "" when it still works
	}{
		{"ana's session as jana: access token", authenticate(anaJana), auth.EInvalidToken},
		{"ana's session as jana: refresh", refresh(anaJana), auth.EInvalidToken},
		{"ana's session as petr: access token", authenticate(anaPetr), auth.EInvalidToken},
		{"ana's session as petr: refresh", refresh(anaPetr), auth.EInvalidToken},
		{"ana's unused code", redeem(anaCode), auth.EInvalidCredentials},
		{"bob's session as jana: access token", authenticate(bobJana), ""},
		{"bob's session as jana: refresh", refresh(bobJana), ""},
		{"bob's unused code", redeem(bobCode), ""},
		{"jana's own session: access token", authenticate(own), ""},
		{"jana's own session: refresh", refresh(own), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.try()
			if tt.refused == "" && err != nil {
				t.Fatalf("refused after ana's removal: %v", err)
			}
			if tt.refused != "" && auth.ErrorCode(err) != tt.refused {
				t.Fatalf("got %v after ana's removal; want %s", err, tt.refused)
			}
		})
	}

	events, err := e.db.AuditLog(ctx, auth.AuditQuery{Reason: string(auth.AuditImpersonationEnded)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Reason != string(auth.AuditImpersonationEnded.Of("ana")) || ev.CustomerUUID == "" || !wantDevices[ev.DeviceID] {
			t.Errorf("audit event %+v: want one of ana's live sessions or codes, on its customer", ev)
		}
		delete(wantDevices, ev.DeviceID)
	}
	if len(events) != 3 || len(wantDevices) != 0 {
		t.Errorf("%d audit events %+v; missing %v", len(events), events, wantDevices)
	}
	if _, err := e.svc.ImpersonateAs(ctx, "ana", "jana@shop.cz"); err == nil {
		t.Error("the removed operator was issued a code")
	}
}

// TestOperatorRemovedDuringLoginAs: an operator removed while a "log in as" is under way acts as
// nobody. Removed just before the code is stored, no code is issued; removed after the code was
// taken but before its session started, the login fails and no session starts. Either way the
// removal had nothing of theirs to end.
func TestOperatorRemovedDuringLoginAs(t *testing.T) {
	tests := []struct {
		name    string
		act     func(e *testEnv, racing *auth.Service, ana auth.ConsoleOperator, code string) error
		armAt   int // the act's write before which ana is removed
		refused func(error) bool
		dropped int // codes the removal dropped: the one made before, unless the act took it
	}{
		{"the console's, before the code is stored", func(e *testEnv, racing *auth.Service, ana auth.ConsoleOperator, _ string) error {
			ctx := auth.NewContextWithConsoleOperator(context.Background(), &auth.ConsolePrincipal{Operator: ana})
			_, err := racing.Impersonate(ctx, e.customer("jana@shop.cz").UUID)
			return err
		}, 1, func(err error) bool { return auth.ErrorCode(err) == auth.EOperatorLoginRequired }, 1},
		{"the command line's, before the code is stored", func(_ *testEnv, racing *auth.Service, _ auth.ConsoleOperator, _ string) error {
			_, err := racing.ImpersonateAs(context.Background(), "ana", "jana@shop.cz")
			return err
		}, 2, func(err error) bool { var u *auth.UnknownOperatorError; return errors.As(err, &u) }, 1},
		{"after the code is taken, before the session starts", func(_ *testEnv, racing *auth.Service, _ auth.ConsoleOperator, code string) error {
			_, err := racing.LoginWithSocialCode(context.Background(), code, "")
			return err
		}, 2, func(err error) bool { return auth.ErrorCode(err) == auth.EInvalidCredentials }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.register("jana@shop.cz")
			enrolment, err := e.svc.AddConsoleOperator(ctx, "ana")
			if err != nil {
				t.Fatal(err)
			}
			link, err := e.svc.ImpersonateAs(ctx, "ana", "jana@shop.cz")
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(link)
			armed, writes := false, 0
			var removal auth.OperatorRemoval
			racing := e.serviceOver(auth.InterceptedStore{Store: e.db, OnUpdate: func(c context.Context, fn func(auth.Tx) error) error {
				if writes++; armed && writes == tt.armAt {
					var err error
					if removal, err = e.svc.RemoveConsoleOperator(ctx, "ana"); err != nil {
						t.Errorf("the parallel removal: %v", err)
					}
				}
				return e.db.Update(c, fn)
			}})
			armed, writes = true, 0
			err = tt.act(e, racing, enrolment.Operator, u.Query().Get("code"))
			if !tt.refused(err) {
				t.Errorf("got %v; want it refused", err)
			}
			if writes < tt.armAt {
				t.Fatalf("the act wrote %d times: ana was never removed", writes)
			}
			for _, s := range e.sessions("jana@shop.cz") {
				if s.LoginType == auth.LoginTypeAdmin {
					t.Errorf("a session as jana began for the removed operator: %+v", s)
				}
			}
			events, _ := e.db.AuditLog(ctx, auth.AuditQuery{Reason: string(auth.AuditImpersonation)})
			if len(events) != 1 { // the code made before the race
				t.Errorf("%d codes issued, want 1: %+v", len(events), events)
			}
			if removal != (auth.OperatorRemoval{HandOffs: tt.dropped}) {
				t.Errorf("the removal ended %+v; want %d codes and nothing else", removal, tt.dropped)
			}
		})
	}
}
