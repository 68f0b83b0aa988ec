// Command shopauth is a self-hosted customer login server for small shops: a GraphQL API in the
// Shopsys Frontend API's auth dialect, a GraphiQL page and a JWKS document, over a SQLite file or a
// PostgreSQL database. main.go builds every piece and passes it down; README.md's Architecture
// section says who imports whom.
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"shopauth/auth"
	"shopauth/cli"
	"shopauth/db"
	"shopauth/db/schema"
	"shopauth/internal/logwriter"
	"shopauth/mail"
	"shopauth/resolvers"
	"shopauth/web"
	"shopauth/web/cost"
)

//go:embed schema.graphql
var schemaSDL string

func main() {
	// SIGHUP (a closed terminal, or an operator expecting a reload) stops gracefully like SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // the first signal shuts down gracefully; a second one kills at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// refusal is a start Open refuses for its settings (a relying party that cannot be, a public
// site without a mail server, another issuer than the database knows): serve words it as a
// command-line mistake, exit status 2.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// run dispatches a subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, rest := splitCommand(args)
	if len(args) > 0 && isHelpFlag(args[0]) {
		cmd = "help"
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, rest, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, topUsage)
		return 0
	case "version":
		err = runVersion(rest, stdout, stderr)
	default:
		err = cli.Run(ctx, cmd, rest, stdin, stdout, stderr)
	}
	return cli.ExitCode(err, stderr)
}

// splitCommand returns the command and its arguments. Global flags (--db FILE) may come before the
// command: `shopauth --db x.db customers list` is `shopauth customers list --db x.db`, so they are
// moved after the command's own arguments (before a "--", if there is one). Without a command
// word after them, or with any other flag first, it is serve with every argument.
func splitCommand(args []string) (cmd string, rest []string) {
	var global []string
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if name != "db" {
			break
		}
		if hasValue {
			global, i = append(global, args[i]), i+1
			continue
		}
		if i+1 >= len(args) {
			break // --db without its value: serve's parser says so
		}
		global, i = append(global, args[i], args[i+1]), i+2
	}
	if i == len(args) || strings.HasPrefix(args[i], "-") {
		return "serve", args
	}
	cmd, rest = args[i], slices.Clone(args[i+1:])
	at := slices.Index(rest, "--")
	if at < 0 {
		at = len(rest)
	}
	return cmd, slices.Insert(rest, at, global...)
}

// Main is the server as production runs it: serve builds one from its flags, the root package's
// tests start it in process, e2e/ runs the binary.
type Main struct {
	Addr          string
	DBPath        string
	Config        auth.Config
	CORSOrigins   []string
	Metrics       bool
	Demo          bool
	GraphiQL      bool // --graphiql: serve the GraphiQL page at / (the API stays either way)
	cli.MailFlags      // --smtp-url, --mail-from, --shop-name
	MailLog       bool // --mail-log: the log is the mailbox on purpose
	RecoveryURL   string
	// WebAuthnRPID and WebAuthnOrigins are the --webauthn-* flags; Open resolves their defaults
	// into Config.WebAuthn.
	WebAuthnRPID    string
	WebAuthnOrigins []string
	Log             *slog.Logger
	Stdout          io.Writer
	// ShutdownTimeout bounds how long requests in flight may take to finish after ctx is done.
	ShutdownTimeout time.Duration

	// MailTemplates is a folder of templates that replace the built-in ones (mail.LoadTemplates).
	MailTemplates string

	// --trusted-proxies, --metrics-addr and its listener, which serves metrics alone (serveflags.go).
	TrustedProxies  []netip.Prefix
	MetricsAddr     string
	MetricsListener net.Listener
	metrics         http.Handler
	// IssuerChanged (--issuer-changed) lets the server start under another issuer than the database
	// was last served under; without it that start is refused.
	IssuerChanged bool
	// Admin is the admin console's listener (admin.go).
	Admin adminServer

	social socialFlags // social.go

	DB       *db.DB
	Service  *auth.Service
	Handler  http.Handler
	Listener net.Listener
	server   *http.Server
	stop     context.CancelFunc
}

// NewMain returns a Main with the contract's defaults.
func NewMain() *Main {
	return &Main{Addr: "127.0.0.1:8000", DBPath: "shopauth.db", Config: auth.DefaultConfig(), GraphiQL: true,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil)), Stdout: os.Stdout, ShutdownTimeout: 10 * time.Second,
		MailFlags: cli.MailFlags{MailFrom: cli.DefaultMailFrom}, RecoveryURL: "http://127.0.0.1:3000/reset-password?email={email}&hash={hash}"}
}

// defaultMemoryLimit is the soft heap limit the server keeps to unless GOMEMLIMIT says otherwise:
// a backstop, since password hashes (19 MiB each, as many at once as CPUs) are most of the heap
// and the garbage collector would otherwise let it grow to three times what is live.
const defaultMemoryLimit = 192 << 20

// defaultGCPercent is the collector's GOGC unless GOGC says otherwise. A refresh allocates about
// 40 KB and keeps none of it: at the default 100 the collector ran about every 2 MB of garbage and
// the runtime handed freed pages back to the kernel only to fault them in again, 20 % of a refresh's
// server CPU (227 → 180 µs at 200). The live heap outside password hashes is a few MiB, so the
// heap it lets grow is a few MiB more (peak RSS under refresh 33 → 37 MiB); under a login flood the
// memory limit above bounds it.
const defaultGCPercent = 200

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	m := NewMain()
	m.Stdout = stdout
	logs := logwriter.New(stderr)
	defer logs.Close()
	m.Log = slog.New(slog.NewTextHandler(logs, nil))
	fs, dbPath := cli.NewFlagSet("serve", "[serve] [flags]\n\nServes GraphQL at /graphql, GraphiQL at /, the customer's page at /account, the JWKS at\n/.well-known/jwks.json, OpenID discovery at /.well-known/openid-configuration and /healthz.\nOther commands: shopauth help", stdout, stderr)
	var issuer, cors string
	m.registerServeFlags(fs, &issuer, &cors)
	if err := cli.ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	m.DBPath = *dbPath
	// A socket passed by systemd (deploy/shopauth.socket) replaces --addr: connections queue in it
	// while the server restarts.
	ln, err := systemdListener()
	if err != nil {
		return err
	}
	if ln != nil {
		m.Listener, m.Addr = ln, ln.Addr().String()
		m.Log.Info("listening on the socket systemd passed (--addr is not used)", "addr", m.Addr)
	}
	m.Config.Issuer = issuer
	if issuer == "" {
		m.Config.Issuer = "http://" + m.Addr
	}
	if err := m.Config.Validate(); err != nil {
		return cli.UsageError(fs, "invalid configuration: %v", err)
	}
	m.CORSOrigins = cli.SplitList(cors)
	if err := m.checkEdge(issuer != ""); err != nil {
		return cli.UsageError(fs, "%v", err)
	}
	if err := m.configureSocial(ctx); err != nil {
		return cli.UsageError(fs, "invalid configuration: %v", err)
	}
	if issuer == "" {
		if err := m.listenOnPickedPort(); err != nil {
			return err
		}
	}
	if err := m.Open(ctx); err != nil {
		err = errors.Join(err, m.Close())
		if c := (*refusal)(nil); errors.As(err, &c) {
			return cli.UsageError(fs, "%s", c.msg)
		}
		return err
	}
	err = m.Run(ctx)
	err = errors.Join(err, m.Close())
	// The last line, so that a log read after a restart says this process ended and how.
	if err != nil {
		m.Log.Error("stopped", "err", err)
	} else {
		m.Log.Info("stopped")
	}
	return err
}

// Open checks the settings the flags cannot check alone (the passkeys' relying party, the mail
// configuration and templates), listens on every address, then opens the database (cli.CheckDB says
// if it creates a new one), builds the service and the HTTP handlers. Listening comes before the
// database, so that a busy --addr, --metrics-addr or --admin-addr is refused before a new database
// is created (the next start would not say it made one).
func (m *Main) Open(ctx context.Context) error {
	if err := m.resolveRelyingParty(); err != nil {
		return &refusal{"invalid configuration: " + err.Error()}
	}
	if err := m.checkMail(); err != nil {
		return &refusal{err.Error()}
	}
	// Without --smtp-url the mailer writes each recovery link to the log, so a local demo works.
	// A template that does not parse, a bad sender or link is refused here.
	mailer, err := mail.New(m.mailConfig(), m.Log)
	if err != nil {
		return &refusal{err.Error()}
	}
	if err := m.listen(); err != nil {
		return err
	}
	created, err := cli.CheckDB(m.DBPath, cli.SeedDB)
	if err != nil {
		return err
	}
	if m.DB, err = db.Open(ctx, m.DBPath, schema.Migrate); err != nil {
		return err
	}
	if created {
		m.warnCreated()
	} else if from, to := m.DB.Migrated(); from > 0 && to > from {
		m.Log.Info(cli.MigratedMessage(from, to))
	}
	m.Config.CORSOrigins = m.CORSOrigins // a social login's redirect may go to them
	if m.Service, err = auth.New(ctx, m.DB, m.Config, m.Log); err != nil {
		return err
	}
	if err := m.rememberIssuer(ctx); err != nil {
		return err
	}
	if m.DB.Throttle != nil {
		m.Service.Throttle = m.DB.Throttle // PostgreSQL: the limits hold across every process
	}
	m.Service.Mailer = mailer
	schema, err := resolvers.NewSchema(schemaSDL, m.Service, m.Log)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	// Lists are weighed by what this configuration lets them hold (--sessions-per-customer).
	meter, err := cost.NewMeter(schema, resolvers.ListWeights(m.Service.Config()))
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	cfg := web.Config{Service: m.Service, Schema: schema, Cost: meter, Refresh: m.Service.Refresh, Logger: m.Log, CORSOrigins: m.CORSOrigins,
		TrustedProxies: m.TrustedProxies, NoGraphiQL: !m.GraphiQL, Social: m.Service}
	if m.Metrics || m.MetricsAddr != "" {
		metrics := web.NewMetrics(func(ctx context.Context) (int, error) {
			return m.DB.CountSessions(ctx, m.Service.Now())
		}, m.Log)
		m.Service.OnEvent = metrics.Event
		cfg.Metrics, cfg.Observe = metrics.Handler(), metrics.Observe
		if m.MetricsAddr != "" {
			m.metrics, cfg.Metrics = cfg.Metrics, nil // on its own listener only
		}
	}
	m.Handler = web.NewHandler(cfg)
	if err := m.buildAdmin(); err != nil {
		return err
	}
	m.logSummary()
	if m.Demo {
		return m.demo(ctx)
	}
	return nil
}

// listen opens the listeners not handed in already: --addr (unless systemd passed a socket, or a
// test opened one to know the issuer beforehand), --metrics-addr and --admin-addr.
func (m *Main) listen() error {
	if m.Listener == nil {
		ln, err := net.Listen("tcp", m.Addr)
		if err != nil {
			return err
		}
		m.Listener = ln
	}
	if m.MetricsAddr != "" && m.MetricsListener == nil {
		ln, err := net.Listen("tcp", m.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		m.MetricsListener = ln
	}
	if m.Admin.Addr != "" && m.Admin.Listener == nil {
		ln, err := net.Listen("tcp", m.Admin.Addr)
		if err != nil {
			return fmt.Errorf("--admin-addr: %w", err)
		}
		m.Admin.Listener = ln
	}
	return nil
}

// resolveRelyingParty applies the --webauthn-* defaults to Config.WebAuthn and says what it left out.
func (m *Main) resolveRelyingParty() error {
	if err := m.resolveConsole(); err != nil {
		return err
	}
	rp, err := auth.ResolveRelyingParty(m.Config.Issuer, m.WebAuthnRPID, m.WebAuthnOrigins, m.CORSOrigins)
	if err != nil {
		return err
	}
	m.Config.WebAuthn = rp
	switch {
	case rp.ID == "":
		m.Log.Info("passkeys are off: the issuer's host cannot be a WebAuthn RP ID; set --webauthn-rp-id", "issuer", m.Config.Issuer)
	case len(rp.Skipped) > 0:
		m.Log.Warn("passkeys: origins outside the RP ID cannot use them; set --webauthn-rp-id to a domain they share",
			"rp_id", rp.ID, "skipped", strings.Join(rp.Skipped, ","))
	}
	return nil
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

// URL is the address the server listens on, as a URL.
func (m *Main) URL() string { return "http://" + m.Listener.Addr().String() }

// Run serves until ctx is done, then stops accepting, lets requests in flight finish (for at
// most ShutdownTimeout) and returns. Close then checkpoints and closes the database.
func (m *Main) Run(ctx context.Context) error {
	m.server = &http.Server{
		Handler:           m.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
	}
	accepted := newAcceptedConns()
	m.server.ConnState = accepted.track
	listener := &closeOnce{Listener: m.Listener}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = stop
	go m.background(bg)
	fatal := make(chan error, 1)
	go m.watchDatabaseFile(bg, fatal)
	stopListeners := []func(context.Context) error{m.serveMetrics(m.metrics), m.serveAdmin()}
	stopMetrics := func(ctx context.Context) error { // and the admin console's
		return errors.Join(stopListeners[0](ctx), stopListeners[1](ctx))
	}
	if m.GraphiQL {
		fmt.Fprintf(m.Stdout, "shopauth listening on %s (GraphiQL at %s/)\n", m.URL(), m.URL())
	} else {
		fmt.Fprintf(m.Stdout, "shopauth listening on %s (GraphQL at %s/graphql; GraphiQL off)\n", m.URL(), m.URL())
	}
	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(listener) }()
	var failure error
	select {
	case err := <-errc:
		return errors.Join(err, stopMetrics(context.Background()))
	case <-ctx.Done():
	case failure = <-fatal: // serving on would answer writes that are then lost
	}
	m.Log.Info("shutting down: no new connections, finishing requests in flight", "timeout", m.ShutdownTimeout)
	shutdown, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
	defer cancel()
	// Stop accepting (a socket from systemd keeps queueing for the next process), answer what was
	// accepted, then shut down. Shutdown alone would hang up on a connection accepted just before
	// it whose request is read just after: a request dropped in a restart, though it had reached us.
	listener.Close()
	m.server.SetKeepAlivesEnabled(false) // each answer closes its connection; idle ones close now
	accepted.waitAnswered(shutdown)
	err := m.server.Shutdown(shutdown)
	err = errors.Join(err, stopMetrics(shutdown))
	if err != nil {
		// Out of time: cut the stragglers off rather than close the database under them silently.
		m.Log.Warn("requests still in flight at the shutdown deadline were cut off", "err", err)
		err = errors.Join(err, m.server.Close())
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && !errors.Is(e, net.ErrClosed) {
		err = errors.Join(err, e)
	}
	return errors.Join(failure, err)
}

// background prunes expired sessions and picks up keys rotated by `shopauth keys rotate`.
func (m *Main) background(ctx context.Context) {
	if m.DB.WatchKeys != nil { // PostgreSQL: a key added by another process or by `shopauth keys` is used at once
		go m.DB.WatchKeys(ctx, func() {
			if err := m.Service.ReloadKeys(ctx); err != nil && ctx.Err() == nil {
				m.Log.Error("reload keys", "err", err)
			}
		})
	}
	prune := time.NewTicker(time.Minute)
	reload := time.NewTicker(auth.KeyReloadInterval)
	defer prune.Stop()
	defer reload.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			if n, err := m.Service.Prune(ctx); err != nil {
				m.Log.Error("prune", "err", err)
			} else if n > 0 {
				m.Log.Info("pruned expired sessions", "count", n)
			}
		case <-reload.C:
			if err := m.Service.ReloadKeys(ctx); err != nil {
				m.Log.Error("reload keys", "err", err)
			}
		}
	}
}

// Close stops the background work and closes the database (checkpointing the WAL).
func (m *Main) Close() error {
	if m.stop != nil {
		m.stop()
	}
	var err error
	if m.Listener != nil && m.server == nil {
		err = m.Listener.Close()
		if m.MetricsListener != nil {
			m.MetricsListener.Close()
		}
		if m.Admin.Listener != nil {
			m.Admin.Listener.Close()
		}
	}
	if m.Service != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if derr := m.Service.Drain(ctx); derr != nil {
			m.Log.Warn("recovery mails still being sent at exit", "err", derr)
		}
		cancel()
	}
	if m.DB != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if m.DB.Checkpoint != nil { // SQLite's WAL
			if cerr := m.DB.Checkpoint(ctx); cerr != nil {
				m.Log.Warn("checkpoint at close", "err", cerr)
			}
		}
		err = errors.Join(err, m.DB.Close())
	}
	return err
}

// mailConfig is the recovery mail's configuration from the flags.
func (m *Main) mailConfig() mail.Config {
	c := m.MailFlags.Config()
	c.RecoveryURL, c.TemplatesDir = m.RecoveryURL, m.MailTemplates
	return c
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
	attrs := []any{"addr", m.Listener.Addr().String(), "issuer", m.Config.Issuer, "db", cli.RedactDB(m.DBPath),
		"kid", kid, "alg", alg, "cors_origins", strings.Join(m.CORSOrigins, ","), "trusted_proxies", strings.Join(proxies, ","),
		"webauthn_rp_id", m.Config.WebAuthn.ID, "webauthn_origins", strings.Join(m.Config.WebAuthn.Origins, ",")}
	if m.MetricsListener != nil {
		attrs = append(attrs, "metrics", m.MetricsListener.Addr().String())
	} else if m.Metrics {
		attrs = append(attrs, "metrics", m.Listener.Addr().String())
	}
	m.Log.Info("serving", attrs...)
}

// demo makes sure the demo customer exists and prints its credentials and the GraphiQL URL.
func (m *Main) demo(ctx context.Context) error {
	password, err := m.Service.DemoCustomer(ctx)
	if err != nil {
		return fmt.Errorf("create demo customer: %w", err)
	}
	fmt.Fprintf(m.Stdout, "demo customer: %s %s\n", auth.DemoEmail, password)
	fmt.Fprintf(m.Stdout, "GraphiQL: %s/\n", m.URL())
	return nil
}
