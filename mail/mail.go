// Package mail sends the password-recovery and email-verification mails: over SMTP (STARTTLS or
// implicit TLS) when a mail server is configured, to the log otherwise, so that a local demo still
// works.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"

	"shopauth/auth"
)

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config says where and how recovery mails go.
type Config struct {
	// URL is the mail server: smtp://user:pass@host:587 speaks STARTTLS, smtps://user:pass@host:465
	// TLS from the first byte. Without credentials the user part is left out. Empty: mails go to the log.
	//
	// smtp:// requires STARTTLS, except to a loopback address without credentials (a local relay or a
	// test server), where it is used when offered. smtp://host:25?tls=opportunistic allows plain SMTP
	// to another host without credentials (a relay in a private network such as Mailpit in compose).
	URL string
	// From is the sender, as "shop@example.com" or "Shop <shop@example.com>".
	From string
	// RecoveryURL is the storefront page the mail links to; {email} and {hash} are replaced by the
	// customer's email and the recovery hash, query-escaped. It must contain {hash}.
	RecoveryURL string
	// ShopName is given to the templates (and names the sender when From has no name).
	ShopName string
	// TemplatesDir holds templates that replace the built-in ones (see LoadTemplates); "" keeps them.
	TemplatesDir string
	// Timeout bounds one delivery attempt, connection to QUIT; zero means DefaultTimeout.
	Timeout time.Duration
	// TLSConfig, when set, replaces the TLS settings for the mail server; tests use it to trust a
	// self-signed certificate. Production leaves it nil: the system's roots, the URL's host name.
	TLSConfig *tls.Config
}

// New returns the sender cfg describes: SMTP when cfg.URL is set, the log when it is empty.
func New(cfg Config, log *slog.Logger) (auth.RecoveryMailer, error) {
	if log == nil {
		log = slog.Default()
	}
	c, err := newComposer(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.URL == "" {
		return &logSender{composer: c, log: log}, nil
	}
	s, err := newSMTPSender(cfg)
	if err != nil {
		return nil, err
	}
	s.composer = c
	return s, nil
}

// composer writes the recovery mail.
type composer struct {
	from        *netmail.Address
	recoveryURL string
	shopName    string
	templates   *Templates
}

func newComposer(cfg Config) (composer, error) {
	from, err := sender(cfg)
	if err != nil {
		return composer{}, err
	}
	if err := checkRecoveryURL(cfg.RecoveryURL); err != nil {
		return composer{}, err
	}
	templates, err := LoadTemplates(cfg.TemplatesDir)
	if err != nil {
		return composer{}, err
	}
	return composer{from: from, recoveryURL: cfg.RecoveryURL, shopName: cfg.ShopName, templates: templates}, nil
}

// sender is the From address: cfg.From, named after the shop when it names no one.
func sender(cfg Config) (*netmail.Address, error) {
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail sender %q: %w", cfg.From, err)
	}
	if strings.ContainsFunc(from.Address, func(r rune) bool { return r > unicode.MaxASCII }) {
		return nil, fmt.Errorf("mail sender %q: the address must be ASCII", cfg.From)
	}
	if from.Name == "" {
		from.Name = cfg.ShopName
	}
	return from, nil
}

func checkRecoveryURL(raw string) error {
	if !strings.Contains(raw, "{hash}") {
		return fmt.Errorf("recovery URL %q must contain {hash}", raw)
	}
	u, err := url.Parse(fillLink(raw, "customer@example.com", "hash"))
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("recovery URL %q must be an absolute http(s) URL", raw)
	}
	return nil
}

func fillLink(pattern, email, hash string) string {
	return strings.NewReplacer("{email}", url.QueryEscape(email), "{hash}", url.QueryEscape(hash)).Replace(pattern)
}

// link is where the customer's mail points.
func (c composer) link(cust auth.Customer, hash string) string {
	return fillLink(c.recoveryURL, cust.Email, hash)
}

// displayName is the recipient's name for the To header: first and last name, without the
// control characters a header cannot carry.
func displayName(cust auth.Customer) string {
	name := strings.TrimSpace(cust.FirstName + " " + cust.LastName)
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, name)
}

// render fills the recovery mail's templates in for one customer.
func (c composer) render(cust auth.Customer, hash string) (subject, text, html string, err error) {
	return c.renderMail(mailRecovery, cust, c.link(cust, hash))
}

// renderMail fills the templates of mail in for one customer and link.
func (c composer) renderMail(mail string, cust auth.Customer, link string) (subject, text, html string, err error) {
	subject, text, html, err = c.templates.renderMail(mail, TemplateData{ShopName: c.shopName, Name: displayName(cust),
		FirstName: cust.FirstName, LastName: cust.LastName, Email: cust.Email, Link: link})
	if err != nil {
		return "", "", "", fmt.Errorf("%s mail template: %w", mail, err)
	}
	return subject, text, html, nil
}

// message builds the recovery mail.
func (c composer) message(cust auth.Customer, hash string, now time.Time) (*gomail.Msg, error) {
	return c.messageOf(mailRecovery, cust, c.link(cust, hash), now)
}

// messageOf builds mail: To the customer, a plain-text and an HTML alternative, Message-ID and Date.
func (c composer) messageOf(mail string, cust auth.Customer, link string, now time.Time) (*gomail.Msg, error) {
	subject, text, html, err := c.renderMail(mail, cust, link)
	if err != nil {
		return nil, err
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(c.from)
	m.AddToMailAddress(&netmail.Address{Name: displayName(cust), Address: cust.Email})
	m.Subject(subject)
	m.SetMessageIDWithValue(rand.Text() + "@" + domain(c.from.Address))
	m.SetDateWithValue(now)
	// An automatic mail: out-of-office replies should not answer it (RFC 3834).
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	return m, nil
}

func domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}

// logSender writes recovery links to the log instead of mailing them: a demo without a mail server.
type logSender struct {
	composer
	log *slog.Logger
}

func (s *logSender) SendRecovery(ctx context.Context, cust auth.Customer, hash string) error {
	subject, _, _, err := s.render(cust, hash)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "password recovery mail (no --smtp-url, so it is logged instead of sent)",
		"to", cust.Email, "subject", subject, "link", s.link(cust, hash))
	return nil
}

// SendVerification writes the email verification link to the log.
func (s *logSender) SendVerification(ctx context.Context, cust auth.Customer, link string) error {
	subject, _, _, err := s.renderMail(mailVerification, cust, link)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "email verification mail (no --smtp-url, so it is logged instead of sent)",
		"to", cust.Email, "subject", subject, "link", link)
	return nil
}

// smtpSender hands recovery mails to an SMTP server, one connection per mail.
type smtpSender struct {
	composer
	host        string
	port        int
	implicitTLS bool
	tlsPolicy   gomail.TLSPolicy
	username    string
	password    string
	tls         *tls.Config
	timeout     time.Duration
}

func newSMTPSender(cfg Config) (*smtpSender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, errors.New("SMTP URL: cannot parse it") // the error would repeat the password
	}
	shown := u.Redacted()
	s := &smtpSender{host: u.Hostname(), timeout: cfg.Timeout}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicitTLS = 465, true
	default:
		return nil, fmt.Errorf("SMTP URL %s: the scheme must be smtp (STARTTLS) or smtps (TLS)", shown)
	}
	if s.host == "" {
		return nil, fmt.Errorf("SMTP URL %s: no host", shown)
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return nil, fmt.Errorf("SMTP URL %s: bad port", shown)
		}
	}
	if (u.Path != "" && u.Path != "/") || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("SMTP URL %s: only scheme, credentials, host and port are understood", shown)
	}
	if u.User != nil {
		s.username = u.User.Username()
		s.password, _ = u.User.Password()
		if s.username == "" {
			return nil, fmt.Errorf("SMTP URL %s: empty user name", shown)
		}
	}
	opportunistic := false
	for k, v := range u.Query() {
		if k != "tls" || len(v) != 1 || v[0] != "opportunistic" {
			return nil, fmt.Errorf("SMTP URL %s: unknown parameter %s (only tls=opportunistic is understood)", shown, k)
		}
		opportunistic = true
	}
	switch {
	case s.implicitTLS:
		if opportunistic {
			return nil, fmt.Errorf("SMTP URL %s: smtps is always TLS", shown)
		}
		s.tlsPolicy = gomail.NoTLS // the dialer speaks TLS already; no STARTTLS on top
	case s.username != "":
		if opportunistic {
			return nil, fmt.Errorf("SMTP URL %s: credentials are never sent without TLS", shown)
		}
		s.tlsPolicy = gomail.TLSMandatory
	case opportunistic || isLoopback(s.host):
		s.tlsPolicy = gomail.TLSOpportunistic
	default:
		s.tlsPolicy = gomail.TLSMandatory
	}
	if cfg.TLSConfig != nil {
		s.tls = cfg.TLSConfig.Clone()
	} else {
		s.tls = &tls.Config{}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = s.host
	}
	if s.tls.MinVersion == 0 {
		s.tls.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *smtpSender) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// SendRecovery delivers one recovery mail, giving up after the timeout whatever the server does.
func (s *smtpSender) SendRecovery(ctx context.Context, cust auth.Customer, hash string) error {
	msg, err := s.message(cust, hash, time.Now())
	if err != nil {
		return fmt.Errorf("recovery mail: %w", err)
	}
	return s.send(ctx, msg)
}

// SendVerification delivers one email verification mail with link.
func (s *smtpSender) SendVerification(ctx context.Context, cust auth.Customer, link string) error {
	msg, err := s.messageOf(mailVerification, cust, link, time.Now())
	if err != nil {
		return fmt.Errorf("verification mail: %w", err)
	}
	return s.send(ctx, msg)
}

// send delivers msg over one connection, giving up after the timeout whatever the server does.
func (s *smtpSender) send(ctx context.Context, msg *gomail.Msg) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSPolicy(s.tlsPolicy),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(s.dialer(ctx)),
	}
	if s.username != "" {
		// Never PLAIN or LOGIN in clear: go-mail refuses them unless the connection is TLS.
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(
			gomail.SMTPAuthSCRAMSHA256PLUS, gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1PLUS,
			gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.username), gomail.WithPassword(s.password))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("SMTP %s: %w", s.addr(), err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("SMTP %s: gave up after %v: %w", s.addr(), s.timeout, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("SMTP %s: %w", s.addr(), err)
	}
	return nil
}

// SendTest sends one short message to the address to with cfg's mail server and sender, as a
// recovery mail would go, and returns the server's answer to it ("250 2.0.0 Ok: queued as …").
// It is shopauth mail test: an SMTP mistake otherwise shows only when a customer asks for a mail.
func SendTest(ctx context.Context, cfg Config, to string) (answer string, err error) {
	if cfg.URL == "" {
		return "", errors.New("no SMTP URL: recovery mails go to the log")
	}
	rcpt, err := netmail.ParseAddress(to)
	if err != nil || rcpt.Name != "" {
		return "", fmt.Errorf("recipient %q: want one plain address (you@shop.cz)", to)
	}
	from, err := sender(cfg)
	if err != nil {
		return "", err
	}
	s, err := newSMTPSender(cfg)
	if err != nil {
		return "", err
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(from)
	m.AddToMailAddress(rcpt)
	m.Subject("shopauth mail test")
	m.SetMessageIDWithValue(rand.Text() + "@" + domain(from.Address))
	m.SetDateWithValue(time.Now())
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, "This message was sent by shopauth mail test.\n\n"+
		"Password recovery mails go out with the same mail server and sender, so they will arrive too.\n")
	if err := s.send(ctx, m); err != nil {
		return "", err
	}
	return m.ServerResponse(), nil
}

// dialer connects (in TLS for smtps) and closes the connection when ctx ends, so a server that
// stops answering mid-conversation cannot hold the send beyond the timeout.
func (s *smtpSender) dialer(ctx context.Context) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if s.implicitTLS {
			// A *tls.Conn as it is, so go-mail knows the connection is encrypted.
			conn, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(dialCtx, network, addr)
		} else {
			conn, err = d.DialContext(dialCtx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
}

// Both senders mail verifications too.
var (
	_ auth.VerificationMailer = (*logSender)(nil)
	_ auth.VerificationMailer = (*smtpSender)(nil)
)
