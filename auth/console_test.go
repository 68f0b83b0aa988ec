package auth_test

import (
	"context"
	"testing"

	"shopauth/auth"
	"shopauth/internal/testkit"
)

const consoleOrigin = "https://admin.shop.cz"

// consoleEnv is a service with the admin console on and one enrolled operator, ana, whose
// software authenticator holds her passkey.
type consoleEnv struct {
	*testEnv
	authn *testkit.Authenticator
}

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	e := &consoleEnv{testEnv: newEnv(t, func(c *auth.Config) {
		c.Console = auth.RelyingParty{ID: "admin.shop.cz", Origins: []string{consoleOrigin}}
	}), authn: &testkit.Authenticator{Origin: consoleOrigin}}
	enrolment, err := e.svc.AddConsoleOperator(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	opts, _, err := e.svc.ConsoleEnrolOptions(ctx, enrolment.Secret)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := e.authn.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConsoleEnrol(ctx, enrolment.Secret, cred); err != nil {
		t.Fatalf("ConsoleEnrol: %v", err)
	}
	return e
}

// assertion asks for console login options and lets ana's authenticator answer them.
func (e *consoleEnv) assertion() string {
	e.t.Helper()
	opts, err := e.svc.ConsoleLoginOptions(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	cred, err := e.authn.Get(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return cred
}

// consoleLogins counts the console logins in the audit log.
func (e *consoleEnv) consoleLogins() int {
	e.t.Helper()
	logins, err := e.db.AuditLog(ctx, auth.AuditQuery{Reason: string(auth.AuditConsoleLogin)})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(logins)
}

// TestConsoleLoginLosesARace: an operator's login whose assertion verified but whose passkey
// changed before the console session started (a parallel login used it, or the operator was
// removed) is "Log in failed." and starts no session; the parallel writer's outcome stands.
func TestConsoleLoginLosesARace(t *testing.T) {
	tests := []struct {
		name       string
		winner     func(e *consoleEnv, other string) error
		wantLogins int // console logins the winner audited
	}{
		{"a parallel login used the passkey", func(e *consoleEnv, other string) error {
			_, err := e.svc.ConsoleLogin(ctx, other)
			return err
		}, 1},
		{"the operator was removed", func(e *consoleEnv, _ string) error {
			_, err := e.svc.RemoveConsoleOperator(ctx, "ana")
			return err
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newConsoleEnv(t)
			cred, other := e.assertion(), e.assertion() // counters 1 and 2
			// auth.New writes too: the writes are counted from the login on.
			armed, writes := false, 0
			racing := e.serviceOver(auth.InterceptedStore{Store: e.db, OnUpdate: func(c context.Context, fn func(auth.Tx) error) error {
				// The login's one write uses up the challenge and starts the session, after the
				// assertion verified against the passkey as it was read.
				if writes++; armed && writes == 1 {
					if err := tt.winner(e, other); err != nil {
						t.Errorf("the parallel writer: %v", err)
					}
				}
				return e.db.Update(c, fn)
			}})
			armed, writes = true, 0
			before := e.consoleLogins() // the enrolment's
			_, err := racing.ConsoleLogin(ctx, cred)
			wantLoginFailed(t, err)
			if r := reason(err); r != "the challenge or the passkey changed meanwhile" {
				t.Errorf("refused for %q, want the lost race", r)
			}
			if got := e.consoleLogins(); got != before+tt.wantLogins {
				t.Errorf("%d console logins audited, want %d: only the winner's", got, before+tt.wantLogins)
			}
		})
	}
}
