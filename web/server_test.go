package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"shopauth/web"
)

// exchange is one HTTP exchange and what its answer must and must not contain.
type exchange struct {
	name       string
	method     string
	url        string
	header     map[string]string
	body       string
	status     int
	wantHeader map[string]string
	want       []string
	notWant    []string
}

func (sc exchange) run(t *testing.T, h http.Handler) {
	t.Helper()
	r := httptest.NewRequest(sc.method, sc.url, strings.NewReader(sc.body))
	for k, v := range sc.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != sc.status {
		t.Errorf("status = %d, want %d; body %s", w.Code, sc.status, w.Body)
	}
	for k, v := range sc.wantHeader {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, s := range sc.want {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("body lacks %q: %s", s, w.Body)
		}
	}
	for _, s := range sc.notWant {
		if strings.Contains(w.Body.String(), s) {
			t.Errorf("body has %q: %s", s, w.Body)
		}
	}
}

const jsonCT = "application/json; charset=utf-8"

func TestHTTPSurface(t *testing.T) {
	s := newServer(t)
	deep := "{ __schema { " + strings.Repeat("types { fields { type { ", 6) + "name" + strings.Repeat(" } } }", 6) + " } }"
	big := `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", 1<<20) + `"}}`
	scenarios := []exchange{
		{name: "POST query", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/json"},
			body: `{"query":"{ __typename }"}`, status: 200, wantHeader: map[string]string{"Content-Type": jsonCT},
			want: []string{`{"data":{"__typename":"Query"}}`}},
		{name: "POST to /graphql/", method: "POST", url: "/graphql/", header: map[string]string{"Content-Type": "application/json"},
			body: `{"query":"{ __typename }"}`, status: 200, want: []string{`"Query"`}},
		{name: "graphql-response+json when asked", method: "POST", url: "/graphql",
			header: map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"},
			body:   `{"query":"{ __typename }"}`, status: 200,
			wantHeader: map[string]string{"Content-Type": "application/graphql-response+json; charset=utf-8"}},
		{name: "parse error under application/json is 200", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/json"},
			body: `{"query":"{ __typename "}`, status: 200, want: []string{`"errors"`}},
		{name: "parse error under graphql-response+json is 400", method: "POST", url: "/graphql",
			header: map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"},
			body:   `{"query":"{ __typename "}`, status: 400, want: []string{`"errors"`}},
		{name: "depth over the limit is a validation error", method: "POST", url: "/graphql",
			header: map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"},
			body:   `{"query":"` + deep + `"}`, status: 400, want: []string{`exceeds max depth`}},
		{name: "GET query", method: "GET", url: "/graphql?query=%7B__typename%7D", status: 200, want: []string{`"Query"`}},
		{name: "mutation over GET is 405", method: "GET", url: "/graphql?query=mutation%7BLogout%7D", status: 405,
			wantHeader: map[string]string{"Allow": "POST", "Content-Type": jsonCT}, want: []string{`"errors"`}},
		{name: "named mutation over GET is 405", method: "GET", url: "/graphql?query=query+A%7B__typename%7D+mutation+B%7BLogout%7D&operationName=B", status: 405},
		{name: "no content type", method: "POST", url: "/graphql", body: `{"query":"{ __typename }"}`, status: 415, want: []string{`"errors"`}},
		{name: "form content type", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: `query=x`, status: 415},
		{name: "bad JSON", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/json"},
			body: `{"query":`, status: 400, wantHeader: map[string]string{"Content-Type": jsonCT}, want: []string{`"errors"`}},
		{name: "query not a string", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/json"},
			body: `{"query":42}`, status: 400},
		{name: "variables not an object", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/json"},
			body: `{"query":"{ __typename }","variables":[1]}`, status: 400},
		{name: "body over 1 MiB", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/json"},
			body: big, status: 413, want: []string{"1 MiB"}},
		{name: "query over 16 KiB", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/json"},
			body: `{"query":"{ __typename ` + strings.Repeat(" ", 17<<10) + `}"}`, status: 400, want: []string{"16 KiB"}},
		{name: "PUT is 405", method: "PUT", url: "/graphql", status: 405, wantHeader: map[string]string{"Allow": "GET, POST"}},
		{name: "Accept nothing we serve", method: "POST", url: "/graphql", header: map[string]string{"Content-Type": "application/json", "Accept": "text/xml"},
			body: `{"query":"{ __typename }"}`, status: 406},
		{name: "browser GET /graphql gets GraphiQL", method: "GET", url: "/graphql", header: map[string]string{"Accept": "text/html,application/xhtml+xml"},
			status: 200, want: []string{"<html", "graphiql"}},
		{name: "GraphiQL at /", method: "GET", url: "/", status: 200, want: []string{"graphiql.min.js"}, notWant: []string{"cdn", "unpkg", "jsdelivr"}},
		{name: "JWKS", method: "GET", url: "/.well-known/jwks.json", status: 200,
			wantHeader: map[string]string{"Content-Type": jsonCT, "Cache-Control": "public, max-age=300"},
			want:       []string{`"kty":"RSA"`, `"use":"sig"`, `"alg":"RS256"`, `"kid":"`}, notWant: []string{`"d":`, `"p":`, `"q":`}},
		{name: "health", method: "GET", url: "/healthz", status: 200, want: []string{`{"status":"ok"}`}},
		{name: "metrics off by default", method: "GET", url: "/metrics", status: 404, want: []string{`"errors"`}},
		{name: "unknown path", method: "GET", url: "/nope", status: 404, wantHeader: map[string]string{"Content-Type": jsonCT}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, s.h) })
	}
}

func TestCORS(t *testing.T) {
	s := newServer(t, func(c *web.Config) { c.CORSOrigins = []string{"https://shop.example"} })
	scenarios := []exchange{
		{name: "preflight from an allowed origin", method: "OPTIONS", url: "/graphql",
			header: map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "authorization,content-type,x-auth-token"},
			status: 204, wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://shop.example"}},
		{name: "preflight from another origin", method: "OPTIONS", url: "/graphql",
			header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
			status: 204, wantHeader: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "POST from an allowed origin", method: "POST", url: "/graphql",
			header: map[string]string{"Origin": "https://shop.example", "Content-Type": "application/json"},
			body:   `{"query":"{ __typename }"}`, status: 200, wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://shop.example"}},
		{name: "POST from another origin gets no CORS header", method: "POST", url: "/graphql",
			header: map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json"},
			body:   `{"query":"{ __typename }"}`, status: 200, wantHeader: map[string]string{"Access-Control-Allow-Origin": ""}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, s.h) })
	}
	// The preflight names the auth headers the storefront sends.
	r := httptest.NewRequest("OPTIONS", "/graphql", nil)
	r.Header.Set("Origin", "https://shop.example")
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "x-auth-token")
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if got := strings.ToLower(w.Header().Get("Access-Control-Allow-Headers")); !strings.Contains(got, "x-auth-token") {
		t.Errorf("Access-Control-Allow-Headers = %q", got)
	}
	// Without --cors-origins no origin is allowed.
	plain := newServer(t)
	w = httptest.NewRecorder()
	plain.h.ServeHTTP(w, r)
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS allowed without --cors-origins")
	}
}

func TestAccessLogNeverHoldsSecrets(t *testing.T) {
	var logs bytes.Buffer
	s := newServer(t, func(c *web.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	pair := s.tokens(`mutation { Register(input: {firstName: "Log", lastName: "Test", email: "log@shop.cz", password: "hunter2hunter2"}) { accessToken refreshToken } }`)
	s.post(`{ currentCustomerUser { email } }`, "Authorization", "Bearer "+pair.AccessToken)
	s.post(`mutation { RefreshTokens(input: {refreshToken: "` + pair.RefreshToken + `"}) { accessToken } }`)
	s.post(`{ currentCustomerUser { email } }`, "Authorization", "Bearer "+pair.AccessToken+"x")
	r := httptest.NewRequest("GET", "/graphql?query=%7B__typename%7D&variables=%7B%22password%22%3A%22hunter2hunter2%22%7D", nil)
	s.h.ServeHTTP(httptest.NewRecorder(), r)

	out := logs.String()
	if strings.Count(out, `"msg":"request"`) != 5 {
		t.Fatalf("want 5 access log lines, got:\n%s", out)
	}
	for _, want := range []string{`"method":"POST"`, `"path":"/graphql"`, `"status":200`, `"status":401`, `"duration":`} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %s", want)
		}
	}
	for _, secret := range []string{"hunter2hunter2", pair.AccessToken[:40], pair.RefreshToken[:40], "Bearer", strings.Split(pair.RefreshToken, ".")[2][:20]} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a secret (%q):\n%s", secret, out)
		}
	}
}

func TestHealthIs503WhenTheDatabaseIsGone(t *testing.T) {
	s := newServer(t)
	s.closeDB()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, "GET", "/healthz", nil)
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"status"`) {
		t.Fatalf("healthz = %d %s, want 503 with a JSON body", w.Code, w.Body)
	}
}
