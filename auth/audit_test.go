package auth

import (
	"testing"
)

// TestCustomerSecurityChangesAreAudited: a customer's own password change, revocation and password
// recovery land in the audit log with the device and the client address, as the operator's do.
func TestCustomerSecurityChangesAreAudited(t *testing.T) {
	e := newRecoveryEnv(t)
	ctx := NewContextWithClient(t.Context(), Client{IP: "192.0.2.7"})
	c, first := e.register(recoveryEmail, "Jaromír", "Jágr")
	if _, err := e.svc.Login(ctx, recoveryEmail, recoveryPassword); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Authenticate(ctx, first.AccessToken)
	if err != nil {
		t.Fatal(err)
	}

	if n, err := e.svc.RevokeSessions(ctx, p, ScopeOthers); err != nil || n != 1 {
		t.Fatalf("RevokeSessions = %d, %v", n, err)
	}
	if n, _ := e.svc.RevokeSessions(ctx, p, ScopeOthers); n != 0 {
		t.Fatalf("second RevokeSessions = %d", n) // ends nothing, so records nothing
	}
	if _, err := e.svc.ChangePassword(ctx, p, recoveryEmail, recoveryPassword, "new password 1"); err != nil {
		t.Fatal(err)
	}
	hash := e.request(recoveryEmail)
	if _, err := e.svc.RecoverPassword(ctx, recoveryEmail, hash, "new password 2"); err != nil {
		t.Fatal(err)
	}

	want := []struct {
		reason AuditReason
		device string
	}{
		{AuditCustomerRevoke + " (OTHERS)", p.DeviceID},
		{AuditCustomerPassword, p.DeviceID},
		{AuditRecovery, ""},
	}
	got := auditEvents(t, e.store)
	if len(got) != len(want) {
		t.Fatalf("audit log %+v, want %d events", got, len(want))
	}
	for i, w := range want {
		if g := got[i]; g.Reason != string(w.reason) || g.DeviceID != w.device || g.CustomerUUID != c.UUID ||
			g.RemoteAddr != "192.0.2.7" || !g.At.Equal(e.clock()) {
			t.Errorf("event %d = %+v, want %q on device %q from 192.0.2.7", i, g, w.reason, w.device)
		}
	}
}
