package web

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/auth"
	"shopauth/resolvers"
	"shopauth/web/cost"
)

// The admin console: its page and its API, on the --admin-addr listener only. NewHandler (the
// public listener) never routes /admin, so there it is the 404 every unknown path gets.

//go:embed admin
var adminFS embed.FS

// Paths of the console.
const (
	AdminPath        = "/admin"
	AdminGraphQLPath = "/admin/graphql"
	// AdminCookie holds the operator's console session secret: HttpOnly, SameSite=Strict, path
	// /admin, never readable by the page's script.
	AdminCookie = "shopauth_admin"
)

// ConsoleAuthenticator checks a console session cookie (*auth.Service).
type ConsoleAuthenticator interface {
	AuthenticateConsole(ctx context.Context, secret string) (*auth.ConsolePrincipal, error)
}

// AdminConfig is what the console's listener is built from.
type AdminConfig struct {
	Service ConsoleAuthenticator
	Schema  *graphql.Schema // from resolvers.NewAdminSchema
	Cost    *cost.Meter     // cost.NewMeter(Schema, resolvers.AdminListWeights(…))
	Logger  *slog.Logger
	// TrustedProxies, as on the public listener (the console is normally reached directly).
	TrustedProxies []netip.Prefix
}

// NewAdminHandler returns the console's HTTP surface: GET /admin (the page and its two assets)
// and POST /admin/graphql; anything else is 404.
func NewAdminHandler(cfg AdminConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	page := pageHandler(adminFS, "admin", AdminPath)
	mux := http.NewServeMux()
	mux.Handle(AdminGraphQLPath, AdminAPIHandler(cfg.Service, cfg.Logger, GraphQLHandler(cfg.Schema, cfg.Cost)))
	mux.Handle(AdminPath, page)
	mux.Handle(AdminPath+"/", page)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found.", "")
	}))
	return Recover(cfg.Logger, WithClient(cfg.TrustedProxies, AccessLog(cfg.Logger, nil, mux)))
}

// Answers of the console API's guard.
const (
	codeCrossSite     = "cross-site-request"
	msgNeedsXRW       = "The admin API takes POST requests with a JSON body and the X-Requested-With header."
	msgCrossSite      = "The admin API answers its own page only."
	consoleCookiePath = AdminPath
)

// AdminAPIHandler guards the console's GraphQL endpoint against cross-site requests and puts the
// operator of a live console session into the context. A cross-site form can send neither a
// JSON content type nor a custom header without a CORS preflight, which this listener never
// grants, so POST + X-Requested-With + same origin (when the browser says) is what gets through;
// the SameSite=Strict cookie is a second wall.
func AdminAPIHandler(svc ConsoleAuthenticator, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, msgNeedsXRW, "")
			return
		}
		if r.Header.Get("X-Requested-With") == "" {
			writeError(w, http.StatusForbidden, msgNeedsXRW, codeCrossSite)
			return
		}
		if !sameOrigin(r) {
			writeError(w, http.StatusForbidden, msgCrossSite, codeCrossSite)
			return
		}
		jar := &consoleJar{w: w}
		ctx := resolvers.WithConsoleSessionSink(r.Context(), jar)
		if c, err := r.Cookie(AdminCookie); err == nil && c.Value != "" {
			p, err := svc.AuthenticateConsole(ctx, c.Value)
			switch {
			case err == nil:
				ctx = auth.NewContextWithConsoleOperator(ctx, p)
			case auth.ErrorCode(err) == auth.EInternal:
				log.ErrorContext(ctx, "authenticate console session", "err", err)
				writeError(w, http.StatusServiceUnavailable, auth.MsgInternal, auth.EInternal)
				return
			default:
				jar.ClearConsoleSession() // expired, idle or ended: the browser may forget it
			}
		}
		next.ServeHTTP(jar, r.WithContext(ctx))
	})
}

// sameOrigin refuses what the browser says came from another site: Sec-Fetch-Site other than
// same-origin (or none, typed by the user), or an Origin whose host is not the request's.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser's cross-origin request (curl, a test): the header guard holds
	}
	host, ok := strings.CutPrefix(origin, "http://")
	if !ok {
		host, ok = strings.CutPrefix(origin, "https://")
	}
	return ok && strings.EqualFold(host, r.Host)
}

// consoleJar is the response writer of a console API request: a session the resolvers start or
// end becomes a Set-Cookie header when the answer's header is written. The resolvers run in
// their own goroutine, so the pending cookie is behind a mutex.
type consoleJar struct {
	w       http.ResponseWriter
	mu      sync.Mutex
	pending *http.Cookie
	wrote   bool
}

func (j *consoleJar) SetConsoleSession(secret string, maxAge time.Duration) {
	j.set(&http.Cookie{Name: AdminCookie, Value: secret, Path: consoleCookiePath, MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (j *consoleJar) ClearConsoleSession() {
	j.set(&http.Cookie{Name: AdminCookie, Value: "", Path: consoleCookiePath, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
}

func (j *consoleJar) set(c *http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.wrote {
		j.pending = c
	}
}

func (j *consoleJar) Header() http.Header { return j.w.Header() }

func (j *consoleJar) WriteHeader(status int) {
	j.mu.Lock()
	if !j.wrote {
		j.wrote = true
		if j.pending != nil {
			http.SetCookie(j.w, j.pending)
		}
	}
	j.mu.Unlock()
	j.w.WriteHeader(status)
}

func (j *consoleJar) Write(b []byte) (int, error) {
	j.mu.Lock()
	first := !j.wrote
	j.mu.Unlock()
	if first {
		j.WriteHeader(http.StatusOK)
	}
	return j.w.Write(b)
}

func (j *consoleJar) Unwrap() http.ResponseWriter { return j.w }
