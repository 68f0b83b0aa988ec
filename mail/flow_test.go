package mail_test

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/db/sqlite"
	"shopauth/internal/testkit"
	"shopauth/mail"
	"shopauth/mail/mailtest"
)

const (
	flowEmail       = "jaromir.jagr@example.com"
	flowPassword    = "old password 1"
	flowRecoveryURL = "http://127.0.0.1:3000/reset-password?email={email}&hash={hash}"
)

// flow is the service over a real SQLite file, mailing through mail.New to smtpURL.
type flow struct {
	svc  *auth.Service
	logs *testkit.LogBuffer
	clk  *testkit.Clock
}

func newFlow(t *testing.T, smtpURL string, trust *tls.Config, timeout time.Duration) *flow {
	t.Helper()
	ctx := t.Context()
	f := &flow{logs: &testkit.LogBuffer{}, clk: testkit.NewClock(time.Now())}
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	d, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "shopauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	cfg := auth.DefaultConfig()
	cfg.SigningAlgorithm = auth.ES256
	if f.svc, err = auth.New(ctx, d, cfg, log); err != nil {
		t.Fatal(err)
	}
	f.svc.Now = f.clock
	mcfg := mail.Config{URL: smtpURL, From: "Shop <shop@example.com>", RecoveryURL: flowRecoveryURL, Timeout: timeout, TLSConfig: trust}
	if f.svc.Mailer, err = mail.New(mcfg, log); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Register(ctx, auth.RegisterInput{FirstName: "Jaromír", LastName: "Jágr", Email: flowEmail, Password: flowPassword}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *flow) clock() time.Time        { return f.clk.Now() }
func (f *flow) advance(d time.Duration) { f.clk.Advance(d) }

// follow reads a received recovery mail as the customer would and returns the link's email and hash.
func follow(t *testing.T, m mailtest.Message) (email, hash string) {
	t.Helper()
	parsed, err := mailtest.Parse(m.Data)
	if err != nil {
		t.Fatalf("%v\n%s", err, m.Data)
	}
	link, ok := parsed.Link("http://127.0.0.1:3000/reset-password?")
	if !ok {
		t.Fatalf("no recovery link in:\n%s", parsed.Text)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("email"), u.Query().Get("hash")
}

func wantInvalidHash(t *testing.T, err error) {
	t.Helper()
	var e *auth.Error
	if !errors.As(err, &e) || e.Code != auth.EValidation || len(e.Validation["input.hash"]) != 1 ||
		e.Validation["input.hash"][0].Message != auth.MsgInvalidRecovery || len(e.Validation) != 1 {
		t.Fatalf("err = %v, want the input.hash violation %q", err, auth.MsgInvalidRecovery)
	}
}

// TestRecoveryOverSMTP runs the whole recovery through SQLite and a real SMTP server that wants
// STARTTLS and a password: ask, receive the mail, follow its link, set a new password, log in.
func TestRecoveryOverSMTP(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{TLS: mailtest.StartTLS, Username: "shop", Password: "secret"})
	f := newFlow(t, srv.URL(), srv.ClientTLS, 5*time.Second)
	ctx := t.Context()
	old, err := f.svc.Login(ctx, flowEmail, flowPassword)
	if err != nil {
		t.Fatal(err)
	}

	if err := f.svc.RequestPasswordRecovery(ctx, flowEmail); err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t, 5*time.Second)
	if !got.TLS || !got.Authenticated || len(got.To) != 1 || got.To[0] != flowEmail {
		t.Fatalf("delivered with TLS %v, auth %v, to %v", got.TLS, got.Authenticated, got.To)
	}
	email, hash := follow(t, got)
	if email != flowEmail || len(hash) != 50 {
		t.Fatalf("link carries email %q and hash %q", email, hash)
	}
	if strings.Contains(f.logs.String(), hash) {
		t.Fatal("the hash is in the log")
	}

	pair, err := f.svc.RecoverPassword(ctx, email, hash, "new password 2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, pair.AccessToken); err != nil {
		t.Fatalf("the recovered session: %v", err)
	}
	if _, err := f.svc.Refresh(ctx, old.RefreshToken); auth.ErrorCode(err) != auth.EInvalidToken {
		t.Fatalf("a session from before the recovery refreshed: %v", err)
	}
	if _, err := f.svc.Login(ctx, flowEmail, "new password 2"); err != nil {
		t.Fatalf("log in with the new password: %v", err)
	}
	if _, err := f.svc.Login(ctx, flowEmail, flowPassword); auth.ErrorCode(err) != auth.EInvalidCredentials {
		t.Fatalf("log in with the old password: %v", err)
	}
	_, err = f.svc.RecoverPassword(ctx, email, hash, "third password 3")
	wantInvalidHash(t, err) // used up

	// An unknown email gets the same answer and no mail.
	if err := f.svc.RequestPasswordRecovery(ctx, "nobody@example.com"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-srv.Messages:
		t.Fatalf("a mail went to %v", m.To)
	case <-time.After(300 * time.Millisecond):
	}

	// A hash followed too late is refused.
	if err := f.svc.RequestPasswordRecovery(ctx, flowEmail); err != nil {
		t.Fatal(err)
	}
	email, hash = follow(t, srv.Next(t, 5*time.Second))
	f.advance(time.Hour)
	_, err = f.svc.RecoverPassword(ctx, email, hash, "fourth password 4")
	wantInvalidHash(t, err)
}

// TestRecoveryMailServerDown: whether the mail server refuses, never answers or is not there,
// the answer is "success" at once, the failure is logged, and the customer can ask again.
func TestRecoveryMailServerDown(t *testing.T) {
	closedPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "smtp://" + addr
	}
	tests := []struct {
		name string
		opts mailtest.Options
		url  func(t *testing.T, srv *mailtest.Server) string
	}{
		{name: "refuses the recipient", opts: mailtest.Options{RejectRecipients: true}},
		{name: "never answers", opts: mailtest.Options{Silent: true}},
		{name: "hangs after the message", opts: mailtest.Options{HangInData: true}},
		{name: "not running", url: func(t *testing.T, _ *mailtest.Server) string { return closedPort(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.opts)
			smtpURL := srv.URL()
			if tt.url != nil {
				smtpURL = tt.url(t, srv)
			}
			f := newFlow(t, smtpURL, srv.ClientTLS, time.Second)
			start := time.Now()
			if err := f.svc.RequestPasswordRecovery(t.Context(), flowEmail); err != nil {
				t.Fatalf("answer %v, want success", err)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Fatalf("the answer waited %v for the mail server", d)
			}
			deadline := time.Now().Add(3 * time.Second)
			for !strings.Contains(f.logs.String(), "recovery mail not sent") {
				if time.Now().After(deadline) {
					t.Fatalf("no failure logged within 3 s:\n%s", f.logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !strings.Contains(f.logs.String(), "level=ERROR") {
				t.Errorf("the failure is not logged as an error:\n%s", f.logs.String())
			}

			// The mail server is back: asking again works.
			good := mailtest.Start(t, mailtest.Options{})
			mailer, err := mail.New(mail.Config{URL: good.URL(), From: "shop@example.com", RecoveryURL: flowRecoveryURL}, nil)
			if err != nil {
				t.Fatal(err)
			}
			f.svc.Mailer = mailer
			if err := f.svc.RequestPasswordRecovery(t.Context(), flowEmail); err != nil {
				t.Fatal(err)
			}
			email, hash := follow(t, good.Next(t, 5*time.Second))
			if _, err := f.svc.RecoverPassword(t.Context(), email, hash, "new password 2"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
