package mail

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"shopauth/auth"
	"shopauth/mail/mailtest"
)

const (
	testHash        = "Ab3dEf5hIj7lMn9pQr1tUv3xYz5bCd7fGh9jKl1nOp3rSt5vWx"
	testRecoveryURL = "https://shop.example.com/new-password?email={email}&hash={hash}"
)

var jagr = auth.Customer{ID: 7, UUID: "2f6a0f0e-7d52-4a4a-9a8e-2b7b1f0b6c11", Email: "jaromir.jagr+test@example.com",
	FirstName: "Jaromír", LastName: "Jágr"}

func newSender(t *testing.T, srv *mailtest.Server, timeout time.Duration) auth.RecoveryMailer {
	t.Helper()
	m, err := New(Config{URL: srv.URL(), From: "Shop <shop@example.com>", RecoveryURL: testRecoveryURL,
		Timeout: timeout, TLSConfig: srv.ClientTLS}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wantLink(email, hash string) string {
	return "https://shop.example.com/new-password?email=" + url.QueryEscape(email) + "&hash=" + url.QueryEscape(hash)
}

func TestSendRecovery(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	if err := newSender(t, srv, 5*time.Second).SendRecovery(t.Context(), jagr, testHash); err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t, 5*time.Second)
	if got.From != "shop@example.com" || len(got.To) != 1 || got.To[0] != jagr.Email {
		t.Errorf("envelope %s -> %v, want shop@example.com -> %s", got.From, got.To, jagr.Email)
	}
	m, err := mailtest.Parse(got.Data)
	if err != nil {
		t.Fatalf("%v\n%s", err, got.Data)
	}

	// To: the name is RFC 2047-encoded on the wire and decodes to the customer's.
	raw := m.Header.Get("To")
	if !strings.Contains(raw, "=?") || strings.Contains(raw, "í") {
		t.Errorf("To %q: the non-ASCII name is not encoded", raw)
	}
	if len(m.To) != 1 || m.To[0].Name != "Jaromír Jágr" || m.To[0].Address != jagr.Email {
		t.Errorf("To = %v, want Jaromír Jágr <%s>", m.To, jagr.Email)
	}
	if from, err := m.Header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "shop@example.com" || from[0].Name != "Shop" {
		t.Errorf("From = %v, %v", from, err)
	}
	if m.Subject != "Reset your password" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if id := m.Header.Get("Message-Id"); !regexp.MustCompile(`^<[A-Za-z0-9]{20,}@example\.com>$`).MatchString(id) {
		t.Errorf("Message-ID = %q, want <random@example.com>", id)
	}
	if d, err := m.Header.Date(); err != nil || time.Since(d).Abs() > time.Minute {
		t.Errorf("Date = %q: %v", m.Header.Get("Date"), err)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", m.Header.Get("Auto-Submitted"))
	}
	if ua := m.Header.Get("User-Agent") + m.Header.Get("X-Mailer"); ua != "" {
		t.Errorf("the mail names its software: %q", ua)
	}

	// Both parts carry the link with the email and the hash filled in.
	link := wantLink(jagr.Email, testHash)
	if got, ok := m.Link("https://"); !ok || got != link {
		t.Errorf("text link = %q, want %q\n%s", got, link, m.Text)
	}
	if !strings.Contains(m.Text, "Hello Jaromír Jágr,") {
		t.Errorf("text part:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
		t.Errorf("HTML part lacks the link:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "Jaromír Jágr") {
		t.Errorf("HTML part lacks the name:\n%s", m.HTML)
	}
}

// TestSendRecoveryEscapes: names and emails are data, never markup or headers.
func TestSendRecoveryEscapes(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	c := auth.Customer{Email: "a&b@example.com", FirstName: `<script>alert(1)</script> "Bob"`, LastName: "X\r\nBcc: evil@example.com"}
	if err := newSender(t, srv, 5*time.Second).SendRecovery(t.Context(), c, testHash); err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t, 5*time.Second)
	if len(got.To) != 1 || got.To[0] != c.Email {
		t.Fatalf("envelope recipients %v", got.To)
	}
	m, err := mailtest.Parse(got.Data)
	if err != nil {
		t.Fatalf("%v\n%s", err, got.Data)
	}
	if m.Header.Get("Bcc") != "" || len(m.To) != 1 {
		t.Fatalf("header injection: Bcc %q, To %v", m.Header.Get("Bcc"), m.To)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Fatalf("HTML part is not escaped:\n%s", m.HTML)
	}
	if link, _ := m.Link("https://"); link != wantLink(c.Email, testHash) {
		t.Fatalf("link %q, want the email query-escaped", link)
	}
}

func TestSendRecoveryTLS(t *testing.T) {
	tests := []struct {
		name string
		opts mailtest.Options
	}{
		{"STARTTLS with credentials", mailtest.Options{TLS: mailtest.StartTLS, Username: "shop", Password: "p@ss:w/rd"}},
		{"STARTTLS without credentials", mailtest.Options{TLS: mailtest.StartTLS}},
		{"implicit TLS with credentials", mailtest.Options{TLS: mailtest.ImplicitTLS, Username: "shop", Password: "secret"}},
		{"implicit TLS without credentials", mailtest.Options{TLS: mailtest.ImplicitTLS}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.opts)
			if err := newSender(t, srv, 5*time.Second).SendRecovery(t.Context(), jagr, testHash); err != nil {
				t.Fatal(err)
			}
			got := srv.Next(t, 5*time.Second)
			if !got.TLS {
				t.Error("delivered without TLS")
			}
			if got.Authenticated != (tt.opts.Username != "") {
				t.Errorf("authenticated = %v", got.Authenticated)
			}
		})
	}
}

func TestSendRecoveryFails(t *testing.T) {
	tests := []struct {
		name    string
		opts    mailtest.Options
		url     func(srv *mailtest.Server) string
		trust   bool
		wantErr string
	}{
		{name: "recipient refused", opts: mailtest.Options{RejectRecipients: true}, trust: true, wantErr: "550"},
		{name: "wrong password", opts: mailtest.Options{TLS: mailtest.StartTLS, Username: "shop", Password: "right"},
			url: func(srv *mailtest.Server) string {
				return "smtp://shop:wrong@" + srv.Addr
			}, trust: true, wantErr: "535"},
		{name: "credentials but no STARTTLS offered", opts: mailtest.Options{},
			url: func(srv *mailtest.Server) string {
				return "smtp://shop:secret@" + srv.Addr
			}, trust: true, wantErr: "STARTTLS"},
		{name: "untrusted certificate", opts: mailtest.Options{TLS: mailtest.StartTLS}, wantErr: "certificate"},
		{name: "untrusted certificate, implicit TLS", opts: mailtest.Options{TLS: mailtest.ImplicitTLS}, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.opts)
			cfg := Config{URL: srv.URL(), From: "shop@example.com", RecoveryURL: testRecoveryURL, Timeout: 5 * time.Second}
			if tt.url != nil {
				cfg.URL = tt.url(srv)
			}
			if tt.trust {
				cfg.TLSConfig = srv.ClientTLS
			}
			m, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = m.SendRecovery(t.Context(), jagr, testHash)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
			for _, secret := range []string{testHash, "secret", "wrong"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error holds %q: %v", secret, err)
				}
			}
			select {
			case got := <-srv.Messages:
				t.Fatalf("a message was delivered:\n%s", got.Data)
			default:
			}
		})
	}
}

// TestSendRecoveryTimeout: a server that never answers, or stops answering mid-way, holds the
// send no longer than the timeout.
func TestSendRecoveryTimeout(t *testing.T) {
	tests := []struct {
		name string
		opts mailtest.Options
	}{
		{"silent from the start", mailtest.Options{Silent: true}},
		{"hangs after the message", mailtest.Options{HangInData: true}},
		{"hangs after the message, over TLS", mailtest.Options{HangInData: true, TLS: mailtest.ImplicitTLS}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.opts)
			const timeout = 300 * time.Millisecond
			m := newSender(t, srv, timeout)
			start := time.Now()
			err := m.SendRecovery(t.Context(), jagr, testHash)
			if err == nil {
				t.Fatal("a hanging server accepted the mail")
			}
			if d := time.Since(start); d > timeout+time.Second {
				t.Fatalf("gave up after %v, want about %v", d, timeout)
			}
		})
	}
}

// TestSendRecoveryContext: the caller's deadline bounds the send too.
func TestSendRecoveryContext(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{HangInData: true})
	m := newSender(t, srv, time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := m.SendRecovery(ctx, jagr, testHash); err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("gave up after %v, want about 200ms", d)
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	m, err := New(Config{From: "shop@example.com", RecoveryURL: testRecoveryURL}, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SendRecovery(t.Context(), jagr, testHash); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "level=INFO") || !strings.Contains(out, wantLink(jagr.Email, testHash)) {
		t.Fatalf("log lacks the link:\n%s", out)
	}
}

func TestNewConfig(t *testing.T) {
	ok := Config{From: "Shop <shop@example.com>", RecoveryURL: testRecoveryURL}
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string // "" means valid
		policy  gomail.TLSPolicy
		port    int
		tls     bool
	}{
		{name: "log", change: func(c *Config) {}},
		{name: "smtp with credentials", change: func(c *Config) { c.URL = "smtp://user:pass@mail.example.com" }, policy: gomail.TLSMandatory, port: 587},
		{name: "smtp without credentials", change: func(c *Config) { c.URL = "smtp://mail.example.com:25" }, policy: gomail.TLSMandatory, port: 25},
		{name: "smtp to loopback", change: func(c *Config) { c.URL = "smtp://127.0.0.1:2525" }, policy: gomail.TLSOpportunistic, port: 2525},
		{name: "smtp to localhost", change: func(c *Config) { c.URL = "smtp://localhost:1025" }, policy: gomail.TLSOpportunistic, port: 1025},
		{name: "smtp to loopback with credentials", change: func(c *Config) { c.URL = "smtp://u:p@[::1]:2525" }, policy: gomail.TLSMandatory, port: 2525},
		{name: "opportunistic relay", change: func(c *Config) { c.URL = "smtp://mailpit:1025?tls=opportunistic" }, policy: gomail.TLSOpportunistic, port: 1025},
		{name: "smtps", change: func(c *Config) { c.URL = "smtps://user:pass@mail.example.com" }, policy: gomail.NoTLS, port: 465, tls: true},
		{name: "escaped credentials", change: func(c *Config) { c.URL = "smtps://user%40example.com:p%40ss@mail.example.com:4650" }, policy: gomail.NoTLS, port: 4650, tls: true},

		{name: "opportunistic with credentials", change: func(c *Config) { c.URL = "smtp://u:p@relay:25?tls=opportunistic" }, wantErr: "without TLS"},
		{name: "unknown parameter", change: func(c *Config) { c.URL = "smtp://relay:25?auth=none" }, wantErr: "unknown parameter"},
		{name: "other scheme", change: func(c *Config) { c.URL = "http://mail.example.com" }, wantErr: "scheme"},
		{name: "no host", change: func(c *Config) { c.URL = "smtp://:25" }, wantErr: "no host"},
		{name: "bad port", change: func(c *Config) { c.URL = "smtp://mail.example.com:70000" }, wantErr: "port"},
		{name: "path", change: func(c *Config) { c.URL = "smtp://mail.example.com/x" }, wantErr: "only scheme"},
		{name: "unparsable URL hides the password", change: func(c *Config) { c.URL = "smtp://user:hunter2@mail.example.com:x y" }, wantErr: "cannot parse"},
		{name: "no sender", change: func(c *Config) { c.From = "" }, wantErr: "mail sender"},
		{name: "bad sender", change: func(c *Config) { c.From = "shop" }, wantErr: "mail sender"},
		{name: "recovery URL without hash", change: func(c *Config) { c.RecoveryURL = "https://shop.example.com/new-password?email={email}" }, wantErr: "{hash}"},
		{name: "relative recovery URL", change: func(c *Config) { c.RecoveryURL = "/new-password?hash={hash}" }, wantErr: "absolute"},
		{name: "javascript recovery URL", change: func(c *Config) { c.RecoveryURL = "javascript:alert('{hash}')" }, wantErr: "absolute"},
		{name: "no recovery URL", change: func(c *Config) { c.RecoveryURL = "" }, wantErr: "{hash}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.change(&cfg)
			m, err := New(cfg, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), ":pass@") {
					t.Fatalf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, isSMTP := m.(*smtpSender)
			if cfg.URL == "" {
				if isSMTP {
					t.Fatal("an SMTP sender without a URL")
				}
				return
			}
			if !isSMTP {
				t.Fatalf("%T, want *smtpSender", m)
			}
			if s.tlsPolicy != tt.policy || s.port != tt.port || s.implicitTLS != tt.tls {
				t.Fatalf("policy %v port %d implicit TLS %v, want %v %d %v", s.tlsPolicy, s.port, s.implicitTLS, tt.policy, tt.port, tt.tls)
			}
			if s.tls.ServerName != s.host || s.tls.InsecureSkipVerify {
				t.Fatalf("TLS config %+v", s.tls)
			}
		})
	}
}
