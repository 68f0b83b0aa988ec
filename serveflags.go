package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"

	"shopauth/cli"
	"shopauth/web"
)

// serve's flags, and the refusals of settings that would start but never work, before anything
// is opened.

// registerServeFlags binds the serve flags to m.
func (m *Main) registerServeFlags(fs *flag.FlagSet, issuer, cors *string) {
	c := &m.Config
	fs.StringVar(&m.Addr, "addr", m.Addr, "listen `address`")
	fs.StringVar(issuer, "issuer", "", "issuer `URL` written to iss and aud (default http:// + addr)")
	fs.DurationVar(&c.AccessTTL, "access-ttl", c.AccessTTL, "access token lifetime")
	fs.DurationVar(&c.RefreshTTL, "refresh-ttl", c.RefreshTTL, "refresh token lifetime")
	fs.DurationVar(&c.ReuseInterval, "refresh-reuse-interval", c.ReuseInterval, "grace interval in which the just-rotated refresh token still answers (0 disables)")
	fs.IntVar(&c.MinPasswordLength, "min-password-length", c.MinPasswordLength, "minimum password length")
	fs.DurationVar(&c.ClockLeeway, "clock-leeway", c.ClockLeeway, "clock leeway when checking exp, nbf and iat (default 0s, at most 60s)")
	fs.IntVar(&c.LoginFailuresPerEmail, "login-failures-per-email", c.LoginFailuresPerEmail, "failed logins allowed per minute per email and IP")
	fs.IntVar(&c.LoginFailuresPerIP, "login-failures-per-ip", c.LoginFailuresPerIP, "failed logins allowed per minute per IP")
	fs.IntVar(&c.RegistrationsPerIP, "registrations-per-ip", c.RegistrationsPerIP, "registrations allowed per minute per IP")
	fs.IntVar(&c.SessionsPerCustomer, "sessions-per-customer", c.SessionsPerCustomer, "sessions a customer may hold; a new one ends the oldest beyond this")
	fs.StringVar(&c.SigningAlgorithm, "signing-alg", c.SigningAlgorithm, "algorithm of new signing keys: RS256, ES256 or EdDSA")
	fs.StringVar(cors, "cors-origins", "", "comma-separated `origins` allowed to call the API from a browser")
	fs.BoolVar(&m.Metrics, "metrics", false, "serve Prometheus metrics at /metrics")
	fs.BoolVar(&m.Demo, "demo", false, "create a demo customer and print its credentials")
	fs.BoolVar(&m.GraphiQL, "graphiql", m.GraphiQL, "serve the GraphiQL page at / and to browsers at /graphql (--graphiql=false for a production site; the API stays)")
	fs.DurationVar(&c.RecoveryTTL, "recovery-ttl", c.RecoveryTTL, "lifetime of a password recovery hash")
	m.MailFlags.Register(fs)
	fs.BoolVar(&m.MailLog, "mail-log", false, "write recovery mails (their links) to the log instead of sending them; needed without --smtp-url when the issuer is https://")
	fs.StringVar(&m.RecoveryURL, "recovery-url", m.RecoveryURL, "storefront page that recovery mails link to, with {email} and {hash}")
	fs.StringVar(&c.VerifyURL, "verify-url", "", "page email verification mails link to, with {email} and {hash} (default ISSUER/account?verify={hash}&email={email})")
	fs.StringVar(&m.MailTemplates, "mail-templates", "", "`folder` of mail templates replacing the built-in ones, all three of a mail: recovery.subject.txt, recovery.txt, recovery.html; verification.subject.txt, verification.txt, verification.html")
	m.registerEdgeFlags(fs)
	m.registerAdminFlags(fs)
	fs.StringVar(&m.WebAuthnRPID, "webauthn-rp-id", "", "passkeys' relying party `domain` (default: the issuer's host; localhost for a loopback IP)")
	fs.Func("webauthn-origins", "comma-separated `origins` whose pages may use passkeys (default: the issuer's origin and --cors-origins)",
		func(s string) error { m.WebAuthnOrigins = cli.SplitList(s); return nil })
	m.registerSocialFlags(fs)
}

// registerEdgeFlags binds --trusted-proxies and --metrics-addr to m.
func (m *Main) registerEdgeFlags(fs *flag.FlagSet) {
	fs.Func("trusted-proxies", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For names the client (none by default: the header is ignored)", func(s string) error {
		p, err := web.ParseTrustedProxies(s)
		m.TrustedProxies = p
		return err
	})
	fs.StringVar(&m.MetricsAddr, "metrics-addr", "", "serve /metrics on this `HOST:PORT` only, not on --addr (implies --metrics)")
	fs.BoolVar(&m.IssuerChanged, "issuer-changed", false, "accept an --issuer other than the one the database was served under (give it for one start: every customer logs in again)")
}

// checkEdge refuses, before anything is opened, settings that would start but never work:
// CORS origins no browser can send, and a wildcard --addr that would become the issuer.
func (m *Main) checkEdge(issuerGiven bool) error {
	for _, o := range m.CORSOrigins {
		if err := web.CheckCORSOrigin(o, false); err != nil {
			return err
		}
	}
	if !issuerGiven && isWildcardAddr(m.Addr) {
		return fmt.Errorf("--addr %s listens on every interface, so http://%s cannot be the issuer clients see: set --issuer to the public URL (https://auth.shop.cz)", m.Addr, m.Addr)
	}
	if m.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(m.MetricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr %q is not HOST:PORT", m.MetricsAddr)
		}
	}
	return nil
}

// isWildcardAddr is true for an address that listens on every interface: 0.0.0.0, [::] or no host.
func isWildcardAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// checkMail refuses a public site whose recovery mails would go to the log: without --smtp-url
// they do, and each holds a working reset link, so a production server would mail nobody and
// keep every customer's reset link in its journal. --mail-log says that is meant.
func (m *Main) checkMail() error {
	switch {
	case m.MailLog && m.SMTPURL != "":
		return errors.New("--mail-log and --smtp-url exclude each other: mails go to the log or to the mail server")
	case m.SMTPURL == "" && !m.MailLog && strings.HasPrefix(m.Config.Issuer, "https://"):
		return fmt.Errorf("the issuer %s is a public https:// site but no --smtp-url is set: recovery mails, "+
			"with working reset links, would go to the log instead of to customers. Set --smtp-url "+
			"(shopauth mail test --to YOU checks it), or --mail-log if the log is the mailbox on purpose", m.Config.Issuer)
	}
	return nil
}

// listenOnPickedPort listens at once when --addr asks the kernel for a port (HOST:0) and no
// --issuer is given, so that the default issuer (http:// + addr) names the port the server got:
// http://127.0.0.1:0 in every token and in the discovery document points at no server.
func (m *Main) listenOnPickedPort() error {
	if _, port, err := net.SplitHostPort(m.Addr); err != nil || port != "0" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return err
	}
	m.Listener = ln
	m.Config.Issuer = "http://" + ln.Addr().String()
	return nil
}
