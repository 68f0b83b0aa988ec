// Package web is shopauth's HTTP face: GraphQL over HTTP, the GraphiQL page, the JWKS and
// discovery documents, health and metrics, the account page, social login's redirects and the
// admin console, composed as plain http.Handlers. Each handler depends on the small interface it
// uses (TokenVerifier, KeySet, Pinger, DiscoverySource), not on *auth.Service; the schema comes
// ready-made from main.
package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	"github.com/rs/cors"

	"shopauth/auth"
	"shopauth/web/cost"
)

// The HTTP layer's needs of the domain, one small interface per handler, so a test can hand it a
// fake; *auth.Service satisfies them all.
type (
	// TokenVerifier checks a bearer access token (WithPrincipal).
	TokenVerifier interface {
		Authenticate(ctx context.Context, accessToken string) (*auth.Principal, error)
	}
	// KeySet publishes the verification keys (JWKSHandler).
	KeySet interface{ JWKS() auth.JWKS }
	// Pinger reports whether storage answers (HealthHandler).
	Pinger interface {
		Ping(ctx context.Context) error
	}
	// Service is all of them, as NewHandler needs it.
	Service interface {
		TokenVerifier
		KeySet
		Pinger
		DiscoverySource
	}
)

// Config is what the HTTP layer is built from.
type Config struct {
	Service Service
	Schema  *graphql.Schema
	// Cost weighs each document against Schema: cost.NewMeter(Schema, resolvers.ListWeights(…)).
	Cost *cost.Meter
	// Refresh, when set, answers a RefreshTokens document seen before without running it through
	// graphql-go again (WithPreparedRefresh). It must be the Refresh that Schema's resolvers call.
	Refresh     func(ctx context.Context, token string) (auth.TokenPair, error)
	Logger      *slog.Logger
	CORSOrigins []string
	// TrustedProxies are the peers whose X-Forwarded-For names the client (--trusted-proxies).
	TrustedProxies []netip.Prefix
	// Metrics serves /metrics when set.
	Metrics http.Handler
	// Social, when set, serves social login at auth.SocialPath{type}; without it every type is 404.
	Social SocialLogin
	// Observe, when set, is told of every finished request (for the latency histogram).
	Observe func(route string, status int, d time.Duration)
	// NoGraphiQL (--graphiql=false) serves no GraphiQL page or assets: / and /graphiql/ answer 404
	// and a browser's GET /graphql goes to the API. Production sites need no explorer.
	NoGraphiQL bool
}

// NewHandler returns the whole HTTP surface.
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var opts []GraphQLOption
	if cfg.Refresh != nil {
		opts = append(opts, WithPreparedRefresh(cfg.Refresh))
	}
	api := WithPrincipal(cfg.Service, cfg.Logger, GraphQLHandler(cfg.Schema, cfg.Cost, opts...))
	mux := http.NewServeMux()
	var page http.Handler
	if !cfg.NoGraphiQL {
		page = GraphiQLHandler()
		mux.Handle("GET /{$}", page)
		mux.Handle("GET "+GraphiQLAssetPrefix, page)
	}
	for _, path := range []string{"/graphql", "/graphql/"} {
		mux.Handle("POST "+path, api)
		mux.Handle("GET "+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if page != nil && wantsHTML(r) {
				page.ServeHTTP(w, r)
				return
			}
			api.ServeHTTP(w, r)
		}))
		mux.Handle(path, api) // other methods: the GraphQL handler answers 405 with Allow
	}
	account := AccountHandler()
	mux.Handle(AccountPath, account) // other methods: 405
	mux.Handle(AccountPath+"/", account)
	mux.Handle("GET /.well-known/jwks.json", JWKSHandler(cfg.Service))
	mux.Handle("GET /.well-known/openid-configuration", DiscoveryHandler(cfg.Service))
	mux.Handle("GET /healthz", HealthHandler(cfg.Service))
	if cfg.Social != nil {
		mux.Handle(auth.SocialPath+"{type}", SocialHandler(cfg.Social, cfg.Logger))
	}
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found.", "")
	}))
	var h http.Handler = mux
	if len(cfg.CORSOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins: cfg.CORSOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Authorization", "X-Auth-Token", "Content-Type", "Accept"},
			MaxAge:         600,
		}).Handler(h)
		h = canonicalRequestHeaders(h)
	}
	return Recover(cfg.Logger, WithClient(cfg.TrustedProxies, AccessLog(cfg.Logger, cfg.Observe, h)))
}

// wantsHTML is true for a browser navigating to /graphql: text/html is asked for, JSON is not.
func wantsHTML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "text/html") && !strings.Contains(accept, mediaJSON) &&
		!strings.Contains(accept, mediaGraphQLResponse) && r.URL.Query().Get("query") == ""
}

// bearer returns the token of `Authorization: Bearer …` or `X-Auth-Token: Bearer …`. A header
// that does not start with "Bearer " is ignored, as Shopsys ignores it.
func bearer(r *http.Request) (string, bool) {
	for _, name := range []string{"Authorization", "X-Auth-Token"} {
		if v, ok := strings.CutPrefix(r.Header.Get(name), "Bearer "); ok {
			return v, true
		}
	}
	return "", false
}

// WithPrincipal verifies a bearer access token before anything else runs: a bad one is answered
// 401 at once; a good one puts the caller into the context. A request without one goes on as is.
func WithPrincipal(verifier TokenVerifier, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		p, err := verifier.Authenticate(r.Context(), token)
		if err != nil {
			switch auth.ErrorCode(err) {
			case auth.EUnavailable:
				log.WarnContext(r.Context(), "authenticate: database unavailable", "err", err)
				w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
				writeError(w, http.StatusServiceUnavailable, auth.MsgUnavailable, auth.EUnavailable)
				return
			case auth.EInternal:
				log.ErrorContext(r.Context(), "authenticate", "err", err)
				writeError(w, http.StatusServiceUnavailable, auth.MsgInternal, auth.EInternal)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, auth.MsgInvalidToken, auth.EInvalidToken)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.NewContextWithPrincipal(r.Context(), p)))
	})
}

// JWKSHandler serves the public keys of every key whose tokens may still be live.
func JWKSHandler(keys KeySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := json.Marshal(keys.JWKS())
		if err != nil {
			writeError(w, http.StatusInternalServerError, auth.MsgInternal, "")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(body)
	})
}

// HealthHandler answers 200 when the database answers, 503 otherwise.
func HealthHandler(storage Pinger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := storage.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"unavailable"}`))
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// AccessLog logs one line per request: method, path (never the query string, which may carry a
// GraphQL document with a password), status and duration. Headers are never logged.
func AccessLog(log *slog.Logger, observe func(string, int, time.Duration), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", d), slog.String("remote", clientIP(r)))
		if observe != nil {
			observe(route(r.URL.Path), sw.status, d)
		}
	})
}

// route folds paths into a few labels, so metrics stay bounded whatever clients ask for.
func route(path string) string {
	switch path {
	case "/graphql", "/graphql/":
		return "/graphql"
	case "/.well-known/jwks.json", "/.well-known/openid-configuration", "/healthz", "/metrics", "/":
		return path
	}
	if strings.HasPrefix(path, GraphiQLAssetPrefix) {
		return GraphiQLAssetPrefix
	}
	if strings.HasPrefix(path, auth.SocialPath) {
		return auth.SocialPath
	}
	if path == AccountPath || strings.HasPrefix(path, AccountPath+"/") {
		return AccountPath
	}
	return "other"
}

// Recover turns a panic into a 500 with a JSON body; the stack goes to the log, never the client.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic serving request", "path", r.URL.Path, "panic", v)
				writeError(w, http.StatusInternalServerError, auth.MsgInternal, "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
