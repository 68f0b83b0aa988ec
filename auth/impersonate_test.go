package auth_test

import (
	"context"
	"encoding/json"
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
