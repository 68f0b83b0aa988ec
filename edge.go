package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"shopauth/auth"
	"shopauth/web"
)

// The production edge: what sits between shopauth and the network it is deployed on (a reverse
// proxy's X-Forwarded-For, a private metrics listener, refusals of settings that cannot work,
// and the start-up summary).

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

// serveMetrics serves /metrics on the metrics listener until the returned stop is called.
func (m *Main) serveMetrics(metrics http.Handler) (stop func(context.Context) error) {
	if m.MetricsListener == nil {
		return func(context.Context) error { return nil }
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return m.serveOn(m.MetricsListener, mux)
}

// serveOn serves h on a listener of its own (metrics, the admin console) until stop is called.
func (m *Main) serveOn(ln net.Listener, h http.Handler) (stop func(context.Context) error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	return func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if e := <-done; !errors.Is(e, http.ErrServerClosed) {
			err = errors.Join(err, e)
		}
		return err
	}
}

// logSummary writes what the server runs with on one line, so a glance at the log says which
// database, issuer, key and proxies this process uses.
func (m *Main) logSummary() {
	kid, alg := "", ""
	for _, k := range m.Service.Keys() {
		if k.Signing && !k.Refresh {
			kid, alg = k.ID, k.Algorithm
		}
	}
	proxies := make([]string, len(m.TrustedProxies))
	for i, p := range m.TrustedProxies {
		proxies[i] = p.String()
	}
	attrs := []any{"addr", m.Listener.Addr().String(), "issuer", m.Config.Issuer, "db", redactDB(m.DBPath),
		"kid", kid, "alg", alg, "cors_origins", strings.Join(m.CORSOrigins, ","), "trusted_proxies", strings.Join(proxies, ","),
		"webauthn_rp_id", m.Config.WebAuthn.ID, "webauthn_origins", strings.Join(m.Config.WebAuthn.Origins, ",")}
	if m.MetricsListener != nil {
		attrs = append(attrs, "metrics", m.MetricsListener.Addr().String())
	} else if m.Metrics {
		attrs = append(attrs, "metrics", m.Listener.Addr().String())
	}
	m.Log.Info("serving", attrs...)
}

// redactDB hides the password of a database URL (postgres://user:secret@host/db).
func redactDB(db string) string {
	u, err := url.Parse(db)
	if err != nil || u.Scheme == "" {
		return db
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// rememberIssuer stores the issuer with the database, and refuses another one than it was last
// served under unless --issuer-changed says the change is meant.
func (m *Main) rememberIssuer(ctx context.Context) error {
	previous, err := m.Service.RememberIssuer(ctx, m.IssuerChanged)
	switch {
	case errors.Is(err, auth.ErrIssuerChanged):
		return &refusal{fmt.Sprintf("this database was served under the issuer %s, not %s: tokens issued under it would stop "+
			"working and every customer would have to log in again. Check --issuer (every instance on one database needs the "+
			"same); to change it on purpose, start once with --issuer-changed", previous, m.Config.Issuer)}
	case err != nil:
		return err
	case previous != "":
		m.Log.Warn("the issuer changed since this database was last served (--issuer-changed): tokens issued under the previous issuer stop working, so every customer must log in again",
			"previous", previous, "issuer", m.Config.Issuer)
	case m.IssuerChanged:
		m.Log.Warn("--issuer-changed is given but the issuer is the one the database knows: remove it, so that a mistaken --issuer is refused again",
			"issuer", m.Config.Issuer)
	}
	return nil
}
