package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"shopauth/auth"
)

// importCustomers adds n customers named c0@shop.cz… with testPassword, hashed once for all.
func (e *testEnv) importCustomers(n int) []string {
	e.t.Helper()
	hash, err := e.svc.Hasher().Hash(context.Background(), testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	in := make([]auth.NewCustomer, n)
	emails := make([]string, n)
	for i := range in {
		emails[i] = fmt.Sprintf("c%d@shop.cz", i)
		in[i] = auth.NewCustomer{Email: emails[i], FirstName: "Jan", LastName: "Novák", PasswordHash: hash}
	}
	if _, err := e.svc.ImportCustomers(context.Background(), in); err != nil {
		e.t.Fatal(err)
	}
	return emails
}

// loginAll runs the logins at once from one address and counts the answers by userCode ("" for a token).
func loginAll(e *testEnv, emails, passwords []string) map[string]int {
	ctx := auth.NewContextWithClient(context.Background(), auth.Client{IP: "192.0.2.7"})
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range emails {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.svc.Login(ctx, emails[i], passwords[i])
			code := ""
			if err != nil {
				code = auth.ErrorCode(err)
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestThrottleCountsFailuresNotCustomers: concurrent right logins are never refused, parallel wrong
// guesses get no more password checks than the budget.
func TestThrottleCountsFailuresNotCustomers(t *testing.T) {
	t.Run("12 concurrent right logins of one customer all succeed", func(t *testing.T) {
		e := newEnv(t)
		emails := e.importCustomers(1)
		codes := loginAll(e, repeat(emails[0], 12), repeat(testPassword, 12))
		if codes[""] != 12 {
			t.Fatalf("answers %v, want 12 tokens", codes)
		}
	})
	t.Run("20 parallel wrong guesses get 5 password checks", func(t *testing.T) {
		e := newEnv(t)
		emails := e.importCustomers(1)
		codes := loginAll(e, repeat(emails[0], 20), repeat("wrong horse", 20))
		if codes[auth.EInvalidCredentials] != 5 || codes[auth.ETooManyLoginAttempts] != 15 {
			t.Fatalf("answers %v, want 5 invalid-credentials (checked) and 15 too-many-login-attempts", codes)
		}
		// The customer, from their own address, is not locked out.
		if _, err := e.svc.Login(auth.NewContextWithClient(context.Background(), auth.Client{IP: "198.51.100.1"}), emails[0], testPassword); err != nil {
			t.Fatalf("the customer from another address: %v", err)
		}
	})
	t.Run("30 customers logging in at once from one address all succeed", func(t *testing.T) {
		e := newEnv(t)
		emails := e.importCustomers(30)
		codes := loginAll(e, emails, repeat(testPassword, 30))
		if codes[""] != 30 {
			t.Fatalf("answers %v, want 30 tokens", codes)
		}
	})
}

// TestThrottledOperations: every password check is throttled per customer (or email) and address,
// and registrations per address; each attempt counts, so aliases in one request count one by one.
func TestThrottledOperations(t *testing.T) {
	ip := func(a string) context.Context {
		return auth.NewContextWithClient(context.Background(), auth.Client{IP: a})
	}
	t.Run("ChangePassword: five wrong old passwords, then even the right one is refused", func(t *testing.T) {
		e := newEnv(t)
		pair := e.register("eva@shop.cz")
		p := e.mustAuthenticate(pair.AccessToken)
		for i := range 5 {
			_, err := e.svc.ChangePassword(ip("192.0.2.1"), p, "eva@shop.cz", fmt.Sprintf("guess %d!", i), "new password 1")
			if auth.ErrorCode(err) != auth.EInvalidAccountOrPassword {
				t.Fatalf("guess %d: %v, want invalid-account-or-password", i, err)
			}
		}
		_, err := e.svc.ChangePassword(ip("192.0.2.1"), p, "eva@shop.cz", testPassword, "new password 1")
		if auth.ErrorCode(err) != auth.ETooManyLoginAttempts {
			t.Fatalf("sixth attempt: %v, want too-many-login-attempts", err)
		}
		// The password did not change; the customer can still log in.
		e.login("eva@shop.cz")
	})
	t.Run("Register: the address's budget per minute", func(t *testing.T) {
		e := newEnv(t, func(c *auth.Config) { c.RegistrationsPerIP = 3 })
		for i := range 3 {
			_, err := e.svc.Register(ip("192.0.2.2"), auth.RegisterInput{FirstName: "A", LastName: "B",
				Email: fmt.Sprintf("r%d@shop.cz", i), Password: testPassword})
			if err != nil {
				t.Fatalf("registration %d: %v", i, err)
			}
		}
		_, err := e.svc.Register(ip("192.0.2.2"), auth.RegisterInput{FirstName: "A", LastName: "B",
			Email: "r9@shop.cz", Password: testPassword})
		if auth.ErrorCode(err) != auth.ETooManyLoginAttempts {
			t.Fatalf("fourth registration: %v, want too-many-login-attempts", err)
		}
		if _, err := e.db.CustomerByEmail(context.Background(), "r9@shop.cz"); err == nil {
			t.Fatal("the refused registration created the customer")
		}
		e.advance(61e9)
		if _, err := e.svc.Register(ip("192.0.2.2"), auth.RegisterInput{FirstName: "A", LastName: "B",
			Email: "r9@shop.cz", Password: testPassword}); err != nil {
			t.Fatalf("a minute later: %v", err)
		}
	})
	t.Run("a request's password checks are capped", func(t *testing.T) {
		e := newEnv(t)
		e.importCustomers(1)
		ctx := auth.NewContextWithCheckBudget(ip("192.0.2.3"), 2)
		for i, want := range []string{auth.EInvalidCredentials, "", auth.ETooManyLoginAttempts, auth.ETooManyLoginAttempts} {
			pw := testPassword
			if i == 0 {
				pw = "wrong horse"
			}
			_, err := e.svc.Login(ctx, "c0@shop.cz", pw)
			if got := auth.ErrorCode(err); (err == nil) != (want == "") || (err != nil && got != want) {
				t.Fatalf("check %d: %v, want %q", i, err, want)
			}
		}
	})
	t.Run("an email over 255 characters makes no throttle key of its own", func(t *testing.T) {
		e := newEnv(t)
		th := auth.NewMemoryThrottle(100)
		e.svc.Throttle = th
		long := fmt.Sprintf("%0300d@shop.cz", 1)
		if _, err := e.svc.Login(ip("192.0.2.4"), long, "whatever1"); auth.ErrorCode(err) != auth.EInvalidCredentials {
			t.Fatalf("login with a long email: %v, want invalid-credentials", err)
		}
		if err := e.svc.RequestPasswordRecovery(ip("192.0.2.4"), long); err != nil {
			t.Fatalf("recovery with a long email: %v", err)
		}
		// Only the address's budget, which the login spent a failure of.
		if th.Len() != 1 {
			t.Fatalf("the throttle remembers %d keys, want 1 (the address's)", th.Len())
		}
	})
}
