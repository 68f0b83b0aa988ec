package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"shopauth/internal/testkit"
)

// sentRecovery is one mail the fake mailer was asked to send.
type sentRecovery struct {
	customer Customer
	hash     string
	deadline time.Time
}

// fakeMailer records recovery mails; with fail set it refuses them, with hang set it waits
// until the context gives up.
type fakeMailer struct {
	sent chan sentRecovery
	fail error
	hang bool
}

func (m *fakeMailer) SendRecovery(ctx context.Context, c Customer, hash string) error {
	deadline, _ := ctx.Deadline()
	if m.hang {
		<-ctx.Done()
		m.sent <- sentRecovery{customer: c, hash: hash, deadline: deadline}
		return ctx.Err()
	}
	m.sent <- sentRecovery{customer: c, hash: hash, deadline: deadline}
	return m.fail
}

// recoveryEnv is a service over a real store with a clock the test moves and a fake mailer.
type recoveryEnv struct {
	t      *testing.T
	svc    *Service
	store  Store
	mailer *fakeMailer
	logs   *testkit.LogBuffer // the mail goroutine writes it while the test reads it
	clk    *testkit.Clock
}

const (
	recoveryEmail    = "jaromir.jagr@example.com"
	recoveryPassword = "old password 1"
)

func newRecoveryEnv(t *testing.T) *recoveryEnv {
	t.Helper()
	cfg := DefaultConfig()
	cfg.SigningAlgorithm = ES256 // an RSA key takes long to make and tells these tests nothing more
	e := &recoveryEnv{t: t, store: newStore(t), mailer: &fakeMailer{sent: make(chan sentRecovery, 16)},
		logs: &testkit.LogBuffer{}, clk: testkit.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := New(t.Context(), e.store, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = e.clock
	svc.Mailer = e.mailer
	e.svc = svc
	return e
}

func (e *recoveryEnv) clock() time.Time        { return e.clk.Now() }
func (e *recoveryEnv) advance(d time.Duration) { e.clk.Advance(d) }

// register makes a customer and returns it with the tokens of its first session.
func (e *recoveryEnv) register(email, first, last string) (Customer, TokenPair) {
	e.t.Helper()
	pair, err := e.svc.Register(e.t.Context(), RegisterInput{FirstName: first, LastName: last, Email: email, Password: recoveryPassword})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.store.CustomerByEmail(e.t.Context(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, pair
}

// request asks for a recovery and returns the mailed hash.
func (e *recoveryEnv) request(email string) string {
	e.t.Helper()
	if err := e.svc.RequestPasswordRecovery(e.t.Context(), email); err != nil {
		e.t.Fatalf("RequestPasswordRecovery(%q) = %v, want nil", email, err)
	}
	select {
	case m := <-e.mailer.sent:
		return m.hash
	case <-time.After(5 * time.Second):
		e.t.Fatalf("no recovery mail for %q", email)
		return ""
	}
}

// noMail fails if a mail was sent (it waits a little, as sending runs in the background).
func (e *recoveryEnv) noMail() {
	e.t.Helper()
	select {
	case m := <-e.mailer.sent:
		e.t.Fatalf("a recovery mail went to %q, want none", m.customer.Email)
	case <-time.After(100 * time.Millisecond):
	}
}

// wantBadRecovery checks err is the validation error on input.hash, and on nothing else.
func wantBadRecovery(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EValidation {
		t.Fatalf("err = %v, want a validation error", err)
	}
	want := Violation{Message: MsgInvalidRecovery, Code: codeBadRecovery}
	if len(e.Validation) != 1 || len(e.Validation["input.hash"]) != 1 || e.Validation["input.hash"][0] != want {
		t.Fatalf("violations = %v, want only input.hash: %v", e.Validation, want)
	}
}

func TestRecoveryFlow(t *testing.T) {
	e := newRecoveryEnv(t)
	ctx := t.Context()
	c, first := e.register(recoveryEmail, "Jaromír", "Jágr")
	second, err := e.svc.Login(ctx, recoveryEmail, recoveryPassword)
	if err != nil {
		t.Fatal(err)
	}

	hash := e.request("  Jaromir.JAGR@example.com ") // found as Login finds it
	if len(hash) != recoveryHashLen {
		t.Fatalf("hash %q has %d characters, want %d", hash, len(hash), recoveryHashLen)
	}
	r, ok := storedRecovery(t, e.store, c.ID)
	if !ok {
		t.Fatal("no recovery stored")
	}
	if sum := sha256.Sum256([]byte(hash)); !bytes.Equal(r.HashSHA256, sum[:]) {
		t.Fatalf("stored %x, want the SHA-256 of the mailed hash", r.HashSHA256)
	}
	if bytes.Contains(r.HashSHA256, []byte(hash)) {
		t.Fatal("the hash is stored in clear")
	}
	if want := e.clock().Add(time.Hour); !r.ExpiresAt.Equal(want) {
		t.Fatalf("expires at %v, want %v", r.ExpiresAt, want)
	}

	e.advance(time.Minute)
	pair, err := e.svc.RecoverPassword(ctx, recoveryEmail, hash, "new password 2")
	if err != nil {
		t.Fatalf("RecoverPassword = %v", err)
	}

	// The new tokens work; every earlier session ended, access and refresh tokens alike.
	if p, err := e.svc.Authenticate(ctx, pair.AccessToken); err != nil || p.Customer.ID != c.ID {
		t.Fatalf("new access token: %v, %v", p, err)
	}
	if _, err := e.svc.Refresh(ctx, pair.RefreshToken); err != nil {
		t.Fatalf("new refresh token: %v", err)
	}
	for name, old := range map[string]TokenPair{"registration": first, "login": second} {
		if _, err := e.svc.Authenticate(ctx, old.AccessToken); ErrorCode(err) != EInvalidToken {
			t.Errorf("%s access token after recovery: %v, want invalid-token", name, err)
		}
		if _, err := e.svc.Refresh(ctx, old.RefreshToken); ErrorCode(err) != EInvalidToken {
			t.Errorf("%s refresh token after recovery: %v, want invalid-token", name, err)
		}
	}
	if n := sessionCount(t, e.store, c.ID); n != 1 {
		t.Errorf("%d sessions after recovery, want only the new one", n)
	}

	// The password changed; the hash is used up.
	if _, err := e.svc.Login(ctx, recoveryEmail, recoveryPassword); ErrorCode(err) != EInvalidCredentials {
		t.Errorf("old password: %v, want invalid-credentials", err)
	}
	if _, err := e.svc.Login(ctx, recoveryEmail, "new password 2"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, ok := storedRecovery(t, e.store, c.ID); ok {
		t.Error("the recovery is still stored after use")
	}
	got := storedCustomer(t, e.store, c.ID)
	if !got.SecurityChangedAt.Equal(e.clock().Truncate(time.Second)) {
		t.Errorf("SecurityChangedAt = %v, want %v", got.SecurityChangedAt, e.clock())
	}
	_, err = e.svc.RecoverPassword(ctx, recoveryEmail, hash, "third password 3")
	wantBadRecovery(t, err)
}

// TestRecoverPasswordRefused covers every hash that must not work, and that refusing one
// changes nothing.
func TestRecoverPasswordRefused(t *testing.T) {
	tests := []struct {
		name string
		// prepare returns the email and hash to present, after making the situation.
		prepare func(e *recoveryEnv, hash string) (email, presented string)
	}{
		{"wrong hash", func(e *recoveryEnv, hash string) (string, string) {
			return recoveryEmail, strings.Repeat("a", recoveryHashLen)
		}},
		{"hash one character off", func(e *recoveryEnv, hash string) (string, string) {
			b := []byte(hash)
			b[len(b)-1] ^= 1
			return recoveryEmail, string(b)
		}},
		{"empty hash", func(e *recoveryEnv, hash string) (string, string) { return recoveryEmail, "" }},
		{"hash with a suffix", func(e *recoveryEnv, hash string) (string, string) { return recoveryEmail, hash + "x" }},
		{"expired at the boundary second", func(e *recoveryEnv, hash string) (string, string) {
			e.advance(time.Hour)
			return recoveryEmail, hash
		}},
		{"expired long ago", func(e *recoveryEnv, hash string) (string, string) {
			e.advance(48 * time.Hour)
			return recoveryEmail, hash
		}},
		{"replaced by a newer request", func(e *recoveryEnv, hash string) (string, string) {
			e.request(recoveryEmail)
			return recoveryEmail, hash
		}},
		{"other customer's hash", func(e *recoveryEnv, hash string) (string, string) {
			e.register("other@example.com", "Other", "Customer")
			other := e.request("other@example.com")
			return recoveryEmail, other
		}},
		{"hash presented for another customer", func(e *recoveryEnv, hash string) (string, string) {
			e.register("other@example.com", "Other", "Customer")
			return "other@example.com", hash
		}},
		{"unknown email", func(e *recoveryEnv, hash string) (string, string) { return "nobody@example.com", hash }},
		{"malformed email", func(e *recoveryEnv, hash string) (string, string) { return "not an email", hash }},
		{"empty email", func(e *recoveryEnv, hash string) (string, string) { return "", hash }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRecoveryEnv(t)
			ctx := t.Context()
			c, _ := e.register(recoveryEmail, "Jaromír", "Jágr")
			hash := e.request(recoveryEmail)
			email, presented := tt.prepare(e, hash)
			before := storedCustomer(t, e.store, c.ID)
			rBefore, _ := storedRecovery(t, e.store, c.ID)
			sessions := sessionCount(t, e.store, c.ID)

			_, err := e.svc.RecoverPassword(ctx, email, presented, "new password 2")
			wantBadRecovery(t, err)

			after := storedCustomer(t, e.store, c.ID)
			if after.PasswordHash != before.PasswordHash || !after.SecurityChangedAt.Equal(before.SecurityChangedAt) {
				t.Error("the password changed")
			}
			if rAfter, _ := storedRecovery(t, e.store, c.ID); !bytes.Equal(rAfter.HashSHA256, rBefore.HashSHA256) {
				t.Error("the pending recovery changed")
			}
			if n := sessionCount(t, e.store, c.ID); n != sessions || n == 0 {
				t.Errorf("%d sessions, want the %d there were", n, sessions)
			}
			if _, err := e.svc.Login(ctx, recoveryEmail, recoveryPassword); err != nil {
				t.Errorf("the old password no longer logs in: %v", err)
			}
		})
	}
}

func TestRecoverPasswordJustBeforeExpiry(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	hash := e.request(recoveryEmail)
	e.advance(time.Hour - time.Second)
	if _, err := e.svc.RecoverPassword(t.Context(), recoveryEmail, hash, "new password 2"); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
}

func TestRecoverPasswordValidatesNewPassword(t *testing.T) {
	e := newRecoveryEnv(t)
	c, _ := e.register(recoveryEmail, "Jan", "Novák")
	hash := e.request(recoveryEmail)
	for _, pw := range []string{"", "short", strings.Repeat("x", 4097)} {
		_, err := e.svc.RecoverPassword(t.Context(), recoveryEmail, hash, pw)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != EValidation || len(ae.Validation["input.newPassword"]) != 1 || len(ae.Validation) != 1 {
			t.Fatalf("password %.10q: %v, want one violation on input.newPassword", pw, err)
		}
	}
	// A refused password does not use the hash up.
	if _, ok := storedRecovery(t, e.store, c.ID); !ok {
		t.Fatal("the recovery was used up by an invalid password")
	}
	if _, err := e.svc.RecoverPassword(t.Context(), recoveryEmail, hash, "long enough 1"); err != nil {
		t.Fatal(err)
	}
}

// TestRecoverPasswordOnce presents one hash from many goroutines: exactly one may succeed.
func TestRecoverPasswordOnce(t *testing.T) {
	e := newRecoveryEnv(t)
	c, _ := e.register(recoveryEmail, "Jan", "Novák")
	hash := e.request(recoveryEmail)
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := e.svc.RecoverPassword(t.Context(), recoveryEmail, hash, "new password 2")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantBadRecovery(t, err)
	}
	if ok != 1 {
		t.Fatalf("%d recoveries succeeded, want exactly 1", ok)
	}
	if n := sessionCount(t, e.store, c.ID); n != 1 {
		t.Fatalf("%d sessions, want the one of the successful recovery", n)
	}
}

func TestRequestPasswordRecoveryUnknownEmail(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	for _, email := range []string{"nobody@example.com", "", "not an email", strings.Repeat("x", 10000)} {
		if err := e.svc.RequestPasswordRecovery(t.Context(), email); err != nil {
			t.Fatalf("RequestPasswordRecovery(%.20q) = %v, want nil", email, err)
		}
	}
	e.noMail()
	customers, err := e.store.Customers(t.Context(), e.clock())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range customers {
		stored, err := e.store.CustomerByUUID(t.Context(), c.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := storedRecovery(t, e.store, stored.ID); ok {
			t.Fatalf("a recovery stored for %s after requests for unknown emails", c.Email)
		}
	}
}

func TestRequestPasswordRecoveryThrottled(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	budget := e.svc.cfg.LoginFailuresPerEmail
	ctx := NewContextWithClient(t.Context(), Client{IP: "192.0.2.1"})
	for _, email := range []string{recoveryEmail, "nobody@example.com"} {
		for i := range budget {
			if err := e.svc.RequestPasswordRecovery(ctx, email); err != nil {
				t.Fatalf("%s: request %d: %v", email, i+1, err)
			}
		}
		// Over the budget the answer is still "success" (the contract's only answer), known
		// email or not, but nothing more is mailed.
		if err := e.svc.RequestPasswordRecovery(ctx, email); err != nil {
			t.Fatalf("%s: request %d: %v, want nil", email, budget+1, err)
		}
	}
	for range min(budget, recoveryMailsPerCustomer) {
		<-e.mailer.sent
	}
	e.noMail()
	if n := strings.Count(e.logs.String(), "password recovery request throttled"); n != 2 {
		t.Fatalf("%d throttled requests logged, want 2:\n%s", n, e.logs.String())
	}
	// Another address is not held back by this one's requests (once the customer's own mail
	// budget is back).
	e.advance(recoveryMailWindow)
	other := NewContextWithClient(t.Context(), Client{IP: "192.0.2.2"})
	if err := e.svc.RequestPasswordRecovery(other, recoveryEmail); err != nil {
		t.Fatalf("from another IP: %v", err)
	}
	<-e.mailer.sent
	// Login keeps its own budget.
	if _, err := e.svc.Login(ctx, recoveryEmail, recoveryPassword); err != nil {
		t.Fatalf("login after throttled recovery requests: %v", err)
	}
}

// TestRecoveryMailsPerCustomer: 60 addresses asking in 5 spellings of one customer's address get
// 3 mails to that customer in 15 minutes, every request answered "success"; the last link mailed
// keeps working, other customers are not held back, and the budget comes back as its window passes.
func TestRecoveryMailsPerCustomer(t *testing.T) {
	e := newRecoveryEnv(t)
	e.svc.Sleep = func(context.Context, time.Duration) {} // 300 answers padded to 25 ms tell nothing here
	victim, _ := e.register(recoveryEmail, "Jan", "Novák")
	e.register("other@example.com", "Eva", "Malá")
	spellings := []string{recoveryEmail, strings.ToUpper(recoveryEmail), "  " + recoveryEmail + "\t",
		"Jaromir.Jagr@Example.com", "\n" + strings.ToUpper(recoveryEmail[:5]) + recoveryEmail[5:] + " "}
	for ip := range 60 {
		ctx := NewContextWithClient(t.Context(), Client{IP: fmt.Sprintf("198.51.100.%d", ip+1)})
		for _, email := range spellings {
			if err := e.svc.RequestPasswordRecovery(ctx, email); err != nil {
				t.Fatalf("request for %q from address %d: %v, want nil (\"success\")", email, ip+1, err)
			}
		}
	}
	var hashes []string
	for range recoveryMailsPerCustomer {
		m := <-e.mailer.sent
		if m.customer.ID != victim.ID {
			t.Fatalf("a mail to %s", m.customer.Email)
		}
		hashes = append(hashes, m.hash)
	}
	e.noMail()

	// The requests that mailed nothing replaced nothing: the link mailed last still works (mails
	// go out in the background, so which of the three that is the order of arrival does not say).
	works := 0
	for _, hash := range hashes {
		if _, err := e.svc.RecoverPassword(t.Context(), recoveryEmail, hash, "new password 1"); err == nil {
			works++
		}
	}
	if works != 1 {
		t.Fatalf("%d of the 3 mailed links work after 297 unmailed requests, want the last one", works)
	}

	// Another customer has a budget of their own.
	e.request("other@example.com")

	steps := []struct {
		at       time.Duration // after the flood
		wantMail bool
	}{
		{14*time.Minute + 59*time.Second, false},
		{15 * time.Minute, true},
		{15 * time.Minute, true},
		{15 * time.Minute, true},
		{15 * time.Minute, false},
	}
	start := e.clock()
	for i, s := range steps {
		e.clk.Set(start.Add(s.at))
		ctx := NewContextWithClient(t.Context(), Client{IP: fmt.Sprintf("203.0.113.%d", i+1)})
		if err := e.svc.RequestPasswordRecovery(ctx, recoveryEmail); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
		if s.wantMail {
			if m := <-e.mailer.sent; m.customer.ID != victim.ID {
				t.Fatalf("step %d: a mail to %s", i+1, m.customer.Email)
			}
		} else {
			e.noMail()
		}
	}
}

func TestRequestPasswordRecoveryMailFails(t *testing.T) {
	e := newRecoveryEnv(t)
	c, _ := e.register(recoveryEmail, "Jan", "Novák")
	e.mailer.fail = errors.New("550 mailbox unavailable")
	hash := e.request(recoveryEmail)
	waitFor(t, func() bool { return strings.Contains(e.logs.String(), "recovery mail not sent") })
	logs := e.logs.String()
	if !strings.Contains(logs, "550 mailbox unavailable") || !strings.Contains(logs, c.UUID) {
		t.Errorf("log lacks the cause or the customer:\n%s", logs)
	}
	if strings.Contains(logs, hash) {
		t.Errorf("log holds the hash:\n%s", logs)
	}
	// The customer can ask again and use the new hash.
	e.mailer.fail = nil
	hash = e.request(recoveryEmail)
	if _, err := e.svc.RecoverPassword(t.Context(), recoveryEmail, hash, "new password 2"); err != nil {
		t.Fatal(err)
	}
}

// TestRequestPasswordRecoveryDoesNotWait: a mail server that hangs does not hold the answer, and
// the send outlives the request's context but not its own timeout.
func TestRequestPasswordRecoveryDoesNotWait(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	e.mailer.hang = true
	ctx, cancel := context.WithCancel(t.Context())
	start := time.Now()
	if err := e.svc.RequestPasswordRecovery(ctx, recoveryEmail); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the answer took %v", d)
	}
	cancel() // the client hangs up: the mail must not be abandoned with it
	select {
	case m := <-e.mailer.sent:
		t.Fatalf("the send ended with the request (hash %d chars)", len(m.hash))
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRecoveryMailDeadline(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	start := time.Now()
	if err := e.svc.RequestPasswordRecovery(t.Context(), recoveryEmail); err != nil {
		t.Fatal(err)
	}
	m := <-e.mailer.sent
	if m.deadline.IsZero() || m.deadline.Sub(start) > recoveryMailTimeout+time.Second {
		t.Fatalf("mail deadline %v, want at most %v from the request", m.deadline, recoveryMailTimeout)
	}
}

// Without a mailer the request still succeeds and says so in the log, but the hash, which is
// only ever the customer's, stays out of it (the demo's logged link is mail's job: mail.New).
func TestRequestPasswordRecoveryWithoutMailer(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	e.svc.Mailer = nil
	if err := e.svc.RequestPasswordRecovery(t.Context(), recoveryEmail); err != nil {
		t.Fatal(err)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "no mailer") {
		t.Fatalf("a recovery without a mailer is not logged as unsent:\n%s", logs)
	}
	if strings.Contains(logs, "hash=") {
		t.Fatalf("the hash is in the log:\n%s", logs)
	}
}

func TestNewRecoveryHash(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		h, err := newRecoveryHash()
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != recoveryHashLen {
			t.Fatalf("%q: %d characters", h, len(h))
		}
		if strings.Trim(h, recoveryAlphabet) != "" {
			t.Fatalf("%q has characters outside the alphabet", h)
		}
		if seen[h] {
			t.Fatalf("%q came twice", h)
		}
		seen[h] = true
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gatedMailer sends only when the test opens the gate.
type gatedMailer struct{ gate chan struct{} }

func (m gatedMailer) SendRecovery(ctx context.Context, c Customer, hash string) error {
	select {
	case <-m.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestDrainWaitsForMailsInFlight(t *testing.T) {
	e := newRecoveryEnv(t)
	e.register(recoveryEmail, "Jan", "Novák")
	gate := make(chan struct{})
	e.svc.Mailer = gatedMailer{gate}
	if err := e.svc.RequestPasswordRecovery(t.Context(), recoveryEmail); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := e.svc.Drain(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with a mail in flight = %v, want the deadline", err)
	}
	close(gate)
	if err := e.svc.Drain(t.Context()); err != nil {
		t.Fatalf("Drain after the mail went out = %v", err)
	}
}

// recordingStore records the reads a recovery check makes in its transactions.
type recordingStore struct {
	mu    sync.Mutex
	calls []string
}

// over returns store with its transactions recorded in r.
func (r *recordingStore) over(store Store) Store {
	return InterceptedStore{Store: store, OnUpdate: func(ctx context.Context, fn func(Tx) error) error {
		return store.Update(ctx, func(tx Tx) error { return fn(recordingTx{Tx: tx, r: r}) })
	}}
}

func (r *recordingStore) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

type recordingTx struct {
	Tx
	r *recordingStore
}

func (t recordingTx) record(call string) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.r.calls = append(t.r.calls, call)
}

func (t recordingTx) CustomerByEmail(email string) (Customer, error) {
	t.record("CustomerByEmail")
	return t.Tx.CustomerByEmail(email)
}

func (t recordingTx) Recovery(customerID int64) (Recovery, error) {
	t.record("Recovery")
	return t.Tx.Recovery(customerID)
}

// TestRecoverPasswordWrongHashSameWork: a wrong hash is answered after the same
// reads and at the same moment for an unknown email, a customer without a recovery, one with an
// expired one and one with a live one (a known email once answered 25 µs later).
func TestRecoverPasswordWrongHashSameWork(t *testing.T) {
	e := newRecoveryEnv(t)
	rec := &recordingStore{}
	svc, err := New(t.Context(), rec.over(e.store), e.svc.cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	svc.Now, svc.Mailer = e.clock, e.mailer
	e.svc = svc
	sleeps := recordSleeps(svc)
	e.register("live@example.com", "Jan", "Novák")
	e.register("expired@example.com", "Eva", "Malá")
	e.register("none@example.com", "Ota", "Pavel")
	e.request("expired@example.com")
	e.advance(e.svc.cfg.RecoveryTTL)
	e.request("live@example.com")
	rec.take()
	sleeps()
	wrong := strings.Repeat("A", recoveryHashLen)
	var first []string
	for _, email := range []string{"unknown@example.com", "none@example.com", "expired@example.com", "live@example.com"} {
		_, err := svc.RecoverPassword(t.Context(), email, wrong, "new password 1")
		wantBadRecovery(t, err)
		calls := rec.take()
		if first == nil {
			first = calls
		}
		if len(calls) == 0 || !slices.Equal(calls, first) {
			t.Errorf("%s: reads %v, the unknown email's %v", email, calls, first)
		}
		if w := sleeps(); len(w) != 1 || w[0] != recoveryFloor {
			t.Errorf("%s: padded %v, want one wait of %v (the clock stood still)", email, w, recoveryFloor)
		}
	}
	if !slices.Equal(first, []string{"CustomerByEmail", "Recovery"}) {
		t.Errorf("reads %v, want the customer and the recovery", first)
	}
}

// TestRecoverPasswordThrottled: wrong hashes spend budgets of the same size as
// recovery requests, per email and address and per address; the right hash is refused from a spent
// pair too, and works from another address.
func TestRecoverPasswordThrottled(t *testing.T) {
	e := newRecoveryEnv(t)
	recordSleeps(e.svc)
	e.svc.cfg.LoginFailuresPerIP = 8
	e.register(recoveryEmail, "Jan", "Novák")
	hash := e.request(recoveryEmail)
	wrong := strings.Repeat("A", recoveryHashLen)
	from := func(ip string) context.Context { return NewContextWithClient(t.Context(), Client{IP: ip}) }
	for i := range e.svc.cfg.LoginFailuresPerEmail {
		_, err := e.svc.RecoverPassword(from("192.0.2.1"), recoveryEmail, wrong, "new password 1")
		if ErrorCode(err) != EValidation {
			t.Fatalf("wrong hash %d: %v, want validation", i+1, err)
		}
	}
	if _, err := e.svc.RecoverPassword(from("192.0.2.1"), recoveryEmail, hash, "new password 1"); ErrorCode(err) != ETooManyLoginAttempts {
		t.Fatalf("the right hash after %d wrong ones from the address: %v, want too-many-login-attempts", e.svc.cfg.LoginFailuresPerEmail, err)
	}
	for i := range 3 { // the address's budget: 8, of which 5 are spent
		_, err := e.svc.RecoverPassword(from("192.0.2.1"), fmt.Sprintf("other%d@example.com", i), wrong, "new password 1")
		if ErrorCode(err) != EValidation {
			t.Fatalf("another email %d: %v, want validation", i+1, err)
		}
	}
	if _, err := e.svc.RecoverPassword(from("192.0.2.1"), "yet.another@example.com", wrong, "new password 1"); ErrorCode(err) != ETooManyLoginAttempts {
		t.Fatalf("a ninth wrong hash from the address: %v, want too-many-login-attempts", err)
	}
	if _, err := e.svc.RecoverPassword(from("192.0.2.2"), recoveryEmail, hash, "new password 1"); err != nil {
		t.Fatalf("the right hash from another address: %v", err)
	}
}
