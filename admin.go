package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	"shopauth/auth"
	"shopauth/cli"
	"shopauth/db"
	"shopauth/mail"
	"shopauth/resolvers"
	"shopauth/web"
	"shopauth/web/cost"
)

// The admin console (--admin-addr): the page and its API on a listener of their own, which the
// public listener never routes. Operators are managed with `shopauth operators` (cli/operators.go).

//go:embed admin.graphql
var adminSDL string

// adminServer is the console's listener.
type adminServer struct {
	// Addr is --admin-addr; empty: no console.
	Addr string
	// Listener is opened by serve before the database (a test may hand in one it opened, with Addr
	// its address).
	Listener net.Listener
	handler  http.Handler
}

func (m *Main) registerAdminFlags(fs *flag.FlagSet) {
	fs.StringVar(&m.Admin.Addr, "admin-addr", "", "serve the admin console (/admin) on this `HOST:PORT` only, never on --addr: a loopback address, reached through an SSH tunnel, or a host name (off by default)")
}

// resolveConsole sets the console operators' relying party from --admin-addr.
func (m *Main) resolveConsole() error {
	if m.Admin.Addr == "" {
		return nil
	}
	rp, err := auth.ConsoleRelyingParty(m.Admin.Addr)
	if err != nil {
		return err
	}
	m.Config.Console = rp
	return nil
}

// buildAdmin makes the console's handler once the service exists.
func (m *Main) buildAdmin() error {
	if m.Admin.Addr == "" {
		return nil
	}
	info := m.adminInfo()
	schema, err := resolvers.NewAdminSchema(adminSDL, m.Service, info, m.Log)
	if err != nil {
		return fmt.Errorf("admin schema: %w", err)
	}
	meter, err := cost.NewMeter(schema, resolvers.AdminListWeights(m.Service.Config(), info))
	if err != nil {
		return fmt.Errorf("admin schema: %w", err)
	}
	m.Admin.handler = web.NewAdminHandler(web.AdminConfig{Service: m.Service, Schema: schema, Cost: meter, Logger: m.Log,
		TrustedProxies: m.TrustedProxies})
	return nil
}

// serveAdmin serves the console until stop is called, and says where.
func (m *Main) serveAdmin() (stop func(context.Context) error) {
	if m.Admin.Listener == nil || m.Admin.handler == nil {
		return func(context.Context) error { return nil }
	}
	if u, err := auth.ConsoleURL(m.Admin.Addr); err == nil {
		fmt.Fprintf(m.Stdout, "admin console at %s (operators: shopauth operators add NAME)\n", u)
	}
	return m.serveOn(m.Admin.Listener, m.Admin.handler)
}

// adminInfo is what the console's summary shows: what this process runs with, never a secret
// (the database URL without its password, the mail server without its credentials).
func (m *Main) adminInfo() resolvers.AdminInfo {
	store := "SQLite " + m.DBPath
	if db.IsPostgres(m.DBPath) {
		store = "PostgreSQL " + cli.RedactDB(m.DBPath)
	}
	c := m.Config
	mailVia := "the log (no --smtp-url)"
	if u, err := url.Parse(m.SMTPURL); err == nil && m.SMTPURL != "" {
		mailVia = u.Scheme + "://" + u.Host
	}
	settings := []resolvers.Setting{
		{N: "access token lifetime", V: c.AccessTTL.String()},
		{N: "refresh token lifetime", V: c.RefreshTTL.String()},
		{N: "refresh reuse interval", V: c.ReuseInterval.String()},
		{N: "clock leeway", V: c.ClockLeeway.String()},
		{N: "signing algorithm", V: c.SigningAlgorithm},
		{N: "minimum password length", V: strconv.Itoa(c.MinPasswordLength)},
		{N: "login failures per email and IP, per minute", V: strconv.Itoa(c.LoginFailuresPerEmail)},
		{N: "login failures per IP, per minute", V: strconv.Itoa(c.LoginFailuresPerIP)},
		{N: "registrations per IP, per minute", V: strconv.Itoa(c.RegistrationsPerIP)},
		{N: "sessions per customer", V: strconv.Itoa(c.SessionsPerCustomer)},
		{N: "recovery link lifetime", V: c.RecoveryTTL.String()},
		{N: "audit retention", V: c.AuditRetention.String()},
		{N: "CORS origins", V: orNone(strings.Join(m.CORSOrigins, ", "))},
		{N: "trusted proxies", V: orNone(fmt.Sprint(m.TrustedProxies))},
		{N: "passkeys (customers)", V: orNone(c.WebAuthn.ID + " " + strings.Join(c.WebAuthn.Origins, ", "))},
		{N: "passkeys (console operators)", V: c.Console.ID + " " + strings.Join(c.Console.Origins, ", ")},
		{N: "mail", V: mailVia},
		{N: "mail sender", V: m.MailFrom},
		{N: "recovery link", V: m.RecoveryURL},
		{N: "metrics", V: strconv.FormatBool(m.Metrics || m.MetricsAddr != "")},
		{N: "Go", V: runtime.Version()},
	}
	providers := []string{}
	for _, p := range c.Providers {
		providers = append(providers, p.Type()+" ("+p.Label()+")")
	}
	a := resolvers.AdminInfo{Version: buildVersion(), Store: store,
		Providers: providers, Settings: settings}
	if m.DB != nil {
		a.SchemaVersion = m.DB.SchemaVersion
	}
	cfg := m.mailConfig()
	a.TestMail = func(ctx context.Context, to string) (string, error) { return mail.SendTest(ctx, cfg, to) }
	return a
}

func orNone(s string) string {
	if s = strings.TrimSpace(s); s == "" || s == "[]" {
		return "none"
	}
	return s
}
