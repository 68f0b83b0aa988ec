package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"shopauth/auth"
)

func wantUnknownCustomer(t *testing.T, err error, email string) {
	t.Helper()
	var unknown *auth.UnknownCustomerError
	if !errors.As(err, &unknown) || unknown.Email != email || !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("err = %v, want UnknownCustomerError naming %s", err, email)
	}
}

func TestOperatorListAndShow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register("anna@shop.cz")
	e.advance(time.Minute)
	e.register("bert@shop.cz")
	e.advance(time.Minute)
	e.login("anna@shop.cz")
	lastLogin := e.clock()

	all, err := e.svc.ListCustomers(ctx, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("list: %+v, %v", all, err)
	}
	anna := all[0]
	if anna.Email != "anna@shop.cz" || anna.Sessions != 2 || !anna.LastLoginAt.Equal(lastLogin.Truncate(time.Millisecond)) {
		t.Errorf("anna = %+v, want two sessions and the last login at %v", anna, lastLogin)
	}
	for _, tt := range []struct {
		search string
		want   []string
	}{
		{"ANNA@", []string{"anna@shop.cz"}},
		{"novák", []string{"anna@shop.cz", "bert@shop.cz"}},
		{"NOVÁK", []string{"anna@shop.cz", "bert@shop.cz"}}, // beyond ASCII, case is still ignored
		{"  shop.cz ", []string{"anna@shop.cz", "bert@shop.cz"}},
		{all[1].UUID, []string{"bert@shop.cz"}},
		{all[1].UUID[:8], nil}, // a UUID matches whole, not in part
		{"nobody", nil},
	} {
		got, err := e.svc.ListCustomers(ctx, tt.search)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, c := range got {
			emails = append(emails, c.Email)
		}
		if len(emails) != len(tt.want) || (len(emails) > 0 && emails[0] != tt.want[0]) {
			t.Errorf("search %q: %q, want %q", tt.search, emails, tt.want)
		}
	}

	e.advance(time.Hour * 24 * 15) // every session expired, none pruned yet
	r, err := e.svc.ShowCustomer(ctx, " Anna@Shop.cz ")
	if err != nil {
		t.Fatal(err)
	}
	if r.Email != "anna@shop.cz" || r.Sessions != 0 || len(r.SessionList) != 0 {
		t.Errorf("after expiry: %+v, want no live sessions", r)
	}
	_, err = e.svc.ShowCustomer(ctx, "nobody@shop.cz")
	wantUnknownCustomer(t, err, "nobody@shop.cz")
}

func TestOperatorSetPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.register("anna@shop.cz")
	second := e.login("anna@shop.cz")

	for _, tt := range []struct{ name, email, password, want string }{
		{"empty", "anna@shop.cz", "", "Please enter new password"},
		{"short", "anna@shop.cz", "short", "New password must be at least 8 characters long"},
	} {
		_, err := e.svc.SetPassword(ctx, tt.email, tt.password)
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Code != auth.EValidation || len(ae.Validation["password"]) != 1 ||
			ae.Validation["password"][0].Message != tt.want {
			t.Errorf("%s: %v, want the validation message %q", tt.name, err, tt.want)
		}
	}
	_, err := e.svc.SetPassword(ctx, "nobody@shop.cz", "new password 1")
	wantUnknownCustomer(t, err, "nobody@shop.cz")
	e.mustAuthenticate(first.AccessToken) // the mistakes changed nothing

	n, err := e.svc.SetPassword(ctx, "ANNA@shop.cz", "new password 1")
	if err != nil || n != 2 {
		t.Fatalf("SetPassword: %d, %v; want 2 sessions ended", n, err)
	}
	for _, pair := range []auth.TokenPair{first, second} {
		_, err := e.svc.Authenticate(ctx, pair.AccessToken)
		wantInvalidToken(t, err)
		_, err = e.svc.Refresh(ctx, pair.RefreshToken)
		wantInvalidToken(t, err)
	}
	if _, err := e.svc.Login(ctx, "anna@shop.cz", testPassword); err == nil {
		t.Error("the old password still logs in")
	}
	if _, err := e.svc.Login(ctx, "anna@shop.cz", "new password 1"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	events, err := e.svc.AuditLog(ctx, "anna@shop.cz", time.Time{})
	if err != nil || len(events) != 1 || events[0].Reason != string(auth.AuditOperatorPassword) || events[0].Email != "anna@shop.cz" {
		t.Errorf("audit: %+v, %v", events, err)
	}
}

func TestOperatorRevoke(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.register("anna@shop.cz")
	second := e.login("anna@shop.cz")
	other := e.register("bert@shop.cz")

	_, err := e.svc.RevokeCustomer(ctx, "nobody@shop.cz")
	wantUnknownCustomer(t, err, "nobody@shop.cz")
	if n, err := e.svc.RevokeCustomer(ctx, "anna@shop.cz"); err != nil || n != 2 {
		t.Fatalf("revoke: %d, %v; want 2", n, err)
	}
	for _, pair := range []auth.TokenPair{first, second} {
		_, err := e.svc.Authenticate(ctx, pair.AccessToken)
		wantInvalidToken(t, err)
	}
	e.mustAuthenticate(other.AccessToken)
	e.login("anna@shop.cz") // the password still works
	if n, err := e.svc.RevokeCustomer(ctx, "anna@shop.cz"); err != nil || n != 1 {
		t.Errorf("second revoke: %d, %v; want 1", n, err)
	}
}

// TestOperatorRevokeNoneIsNotAudited: revoking a customer who has no session ends nothing and
// writes no audit row (as a customer's own revokeSessions); revoking one who has does.
func TestOperatorRevokeNoneIsNotAudited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register("anna@shop.cz")
	revokes := func() int {
		t.Helper()
		events, err := e.svc.AuditLog(ctx, "anna@shop.cz", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range events {
			if ev.Reason == string(auth.AuditOperatorRevoke) {
				n++
			}
		}
		return n
	}
	for i, want := range []struct{ ended, audited int }{{1, 1}, {0, 1}, {0, 1}} {
		if n, err := e.svc.RevokeCustomer(ctx, "anna@shop.cz"); err != nil || n != want.ended {
			t.Fatalf("revoke %d: %d, %v; want %d ended", i, n, err, want.ended)
		}
		if got := revokes(); got != want.audited {
			t.Errorf("after revoke %d (%d ended): %d revoke events audited, want %d", i, want.ended, got, want.audited)
		}
	}
}

func TestOperatorDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pair := e.register("anna@shop.cz")
	uuid := e.customer("anna@shop.cz").UUID
	other := e.register("bert@shop.cz")
	if err := e.svc.RequestPasswordRecovery(ctx, "anna@shop.cz"); err != nil {
		t.Fatal(err)
	}

	_, err := e.svc.DeleteCustomer(ctx, "nobody@shop.cz")
	wantUnknownCustomer(t, err, "nobody@shop.cz")
	e.advance(time.Second)
	if n, err := e.svc.DeleteCustomer(ctx, "anna@shop.cz"); err != nil || n != 1 {
		t.Fatalf("delete: %d, %v; want 1 session ended", n, err)
	}
	_, err = e.svc.Authenticate(ctx, pair.AccessToken)
	wantInvalidToken(t, err)
	_, err = e.svc.Refresh(ctx, pair.RefreshToken)
	wantInvalidToken(t, err)
	if _, err := e.svc.Login(ctx, "anna@shop.cz", testPassword); auth.ErrorCode(err) != auth.EInvalidCredentials {
		t.Errorf("login after the deletion: %v", err)
	}
	_, err = e.svc.DeleteCustomer(ctx, "anna@shop.cz")
	wantUnknownCustomer(t, err, "anna@shop.cz")
	e.mustAuthenticate(other.AccessToken)

	events, err := e.svc.AuditLog(ctx, "", time.Time{})
	if err != nil || len(events) != 1 {
		t.Fatalf("audit: %+v, %v", events, err)
	}
	if ev := events[0]; ev.Reason != string(auth.AuditOperatorDelete) || ev.CustomerUUID != uuid || ev.Email != "" {
		t.Errorf("deletion event %+v: want the reason and the UUID, and no email", ev)
	}
	// The email is free again, and the new account inherits nothing.
	e.register("anna@shop.cz")
	if events, err := e.svc.AuditLog(ctx, "anna@shop.cz", time.Time{}); err != nil || len(events) != 0 {
		t.Errorf("the new anna's audit log: %+v, %v; want empty", events, err)
	}
	if events, _ := e.svc.AuditLog(ctx, "", e.clock().Add(time.Millisecond)); len(events) != 0 {
		t.Errorf("audit since after the deletion: %+v, want nothing", events)
	}
	_, err = e.svc.AuditLog(ctx, "nobody@shop.cz", time.Time{})
	wantUnknownCustomer(t, err, "nobody@shop.cz")
}
