package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/db/sqlite"
	"shopauth/internal/testkit"
	"shopauth/resolvers"
	"shopauth/web"
)

// testServer is the HTTP surface as main.go builds it, over a real SQLite file and a movable clock.
type testServer struct {
	t   testing.TB
	svc *auth.Service
	h   http.Handler
	db  *sqlite.DB
	clk *testkit.Clock
}

func newServer(t testing.TB, options ...func(*web.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	sdl, err := os.ReadFile("../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	d, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.DiscardHandler)
	svc, err := auth.New(ctx, d, auth.DefaultConfig(), log)
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, svc: svc, db: d, clk: testkit.NewClock(time.Now().Add(time.Minute))}
	svc.Now = s.clk.Now
	schema, err := resolvers.NewSchema(string(sdl), svc, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := web.Config{Service: svc, Schema: schema, Cost: mustMeter(t, schema, resolvers.ListWeights(auth.DefaultConfig())),
		Refresh: svc.Refresh, Logger: log} // as main.go builds it: prepared RefreshTokens documents
	for _, o := range options {
		o(&cfg)
	}
	s.h = web.NewHandler(cfg)
	return s
}

// closeDB closes the database under the running handler, as a failed disk would take it away.
func (s *testServer) closeDB() { s.db.Close() }

func (s *testServer) advance(d time.Duration) { s.clk.Advance(d) }

// post sends a GraphQL document with the given headers (name, value, name, value…).
func (s *testServer) post(query string, headers ...string) *httptest.ResponseRecorder {
	return s.postVars(query, nil, headers...)
}

// postVars sends a GraphQL document with variables (none when vars is nil).
func (s *testServer) postVars(query string, vars map[string]any, headers ...string) *httptest.ResponseRecorder {
	params := map[string]any{"query": query}
	if vars != nil {
		params["variables"] = vars
	}
	body, _ := json.Marshal(params)
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

// tokens runs a mutation answering a Token and returns it.
func (s *testServer) tokens(query string, headers ...string) auth.TokenPair {
	s.t.Helper()
	w := s.post(query, headers...)
	var resp struct {
		Data map[string]struct{ AccessToken, RefreshToken string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != 200 {
		s.t.Fatalf("%s: %d %s", query, w.Code, w.Body)
	}
	for _, v := range resp.Data {
		if v.AccessToken != "" {
			return auth.TokenPair{AccessToken: v.AccessToken, RefreshToken: v.RefreshToken}
		}
	}
	s.t.Fatalf("%s: no tokens in %s", query, w.Body)
	return auth.TokenPair{}
}

const (
	testEmail = "http@shop.cz"
	password  = "correct horse battery"
	whoAmI    = `{ currentCustomerUser { email } }`
	// The contract's 401 body, byte for byte.
	body401 = `{"errors":[{"message":"Token is not valid.","extensions":{"userCode":"invalid-token"}}]}`
)

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func login(s *testServer, pw string) auth.TokenPair {
	return s.tokens(`mutation { Login(input: {email: "` + testEmail + `", password: "` + pw + `"}) { accessToken refreshToken } }`)
}

// scenario is one request and what its answer must and must not contain.
type scenario struct {
	name       string
	query      string
	headers    []string
	wantStatus int
	want       []string
	notWant    []string
	count      map[string]int // substring: how many times the body must contain it
}

func (s *testServer) run(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			q := sc.query
			if q == "" {
				q = whoAmI
			}
			w := s.post(q, sc.headers...)
			if w.Code != sc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, sc.wantStatus, w.Body)
			}
			body := w.Body.String()
			if sc.wantStatus == http.StatusUnauthorized {
				if body != body401 {
					t.Errorf("401 body = %s, want %s", body, body401)
				}
				if got := w.Header().Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
			}
			for _, want := range sc.want {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q: %s", want, body)
				}
			}
			for sub, n := range sc.count {
				if got := strings.Count(body, sub); got != n {
					t.Errorf("body has %q %d times, want %d: %.2000s", sub, got, n, body)
				}
			}
			for _, not := range append(sc.notWant, "Internal error.") {
				if strings.Contains(body, not) {
					t.Errorf("body contains %q: %s", not, body)
				}
			}
		})
	}
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestBearerAuthentication: what a bearer header does before any resolver runs.
func TestBearerAuthentication(t *testing.T) {
	s := newServer(t)
	pair := s.tokens(`mutation { Register(input: {firstName: "Jan", lastName: "Novák", email: "` + testEmail +
		`", password: "` + password + `"}) { accessToken refreshToken } }`)
	parts := strings.Split(pair.AccessToken, ".")
	var hdr map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(raw, &hdr)
	none := b64(map[string]any{"alg": "none", "kid": hdr["kid"]}) + "." + parts[1] + "."
	pathKid := b64(map[string]any{"alg": "RS256", "kid": "../../../etc/passwd"}) + "." + parts[1] + "." + parts[2]

	s.run(t, []scenario{
		{name: "anonymous", wantStatus: 200, want: []string{`"No customer user is currently logged in."`, `"userCode":"invalid-token"`}},
		{name: "valid Authorization", headers: bearer(pair.AccessToken), wantStatus: 200, want: []string{`"email":"` + testEmail + `"`}},
		{name: "valid X-Auth-Token", headers: []string{"X-Auth-Token", "Bearer " + pair.AccessToken}, wantStatus: 200, want: []string{testEmail}},
		{name: "not Bearer: ignored", headers: []string{"Authorization", "Basic dXNlcjpwYXNz"}, wantStatus: 200, want: []string{"No customer user"}},
		{name: "lower-case bearer: ignored", headers: []string{"Authorization", "bearer " + pair.AccessToken}, wantStatus: 200, notWant: []string{testEmail}},
		{name: "garbage", headers: bearer("garbage"), wantStatus: 401},
		{name: "empty", headers: bearer(""), wantStatus: 401},
		{name: "alg none", headers: bearer(none), wantStatus: 401},
		{name: "kid as a path", headers: bearer(pathKid), wantStatus: 401},
		{name: "tampered payload", headers: bearer(parts[0] + "." + b64(map[string]any{"uuid": "x"}) + "." + parts[2]), wantStatus: 401},
		{name: "refresh token as bearer", headers: bearer(pair.RefreshToken), wantStatus: 401},
		{name: "1 MB", headers: bearer(strings.Repeat("A", 1<<20)), wantStatus: 401},
		{name: "non-ASCII", headers: bearer("žluťoučký.kůň.úpěl"), wantStatus: 401},
		{name: "garbage on a mutation", query: `mutation { Logout }`, headers: bearer("x.y.z"), wantStatus: 401},
		{name: "Logout anonymous", query: `mutation { Logout }`, wantStatus: 200, want: []string{`"message":"Token is not valid."`, `"userCode":"invalid-token"`}},
		{name: "RefreshTokens with garbage", query: `mutation { RefreshTokens(input: {refreshToken: "x.y.z"}) { accessToken refreshToken } }`,
			wantStatus: 200, want: []string{`"message":"Token is not valid."`, `"userCode":"invalid-token"`, `"data":null`}},
		{name: "RefreshTokens with an access token", query: `mutation { RefreshTokens(input: {refreshToken: "` + pair.AccessToken + `"}) { accessToken } }`,
			wantStatus: 200, want: []string{`"userCode":"invalid-token"`}},
	})

	s.advance(auth.DefaultConfig().AccessTTL)
	s.run(t, []scenario{{name: "expired at exp", headers: bearer(pair.AccessToken), wantStatus: 401}})
}

// TestAccessTokensDieWithSessionOverHTTP: after Logout, RevokeSessions OTHERS and ALL, a
// password change and reuse detection, the ended sessions' access tokens get the 401 at once.
func TestAccessTokensDieWithSessionOverHTTP(t *testing.T) {
	s := newServer(t)
	a := s.tokens(`mutation { Register(input: {firstName: "Jan", lastName: "Novák", email: "` + testEmail +
		`", password: "` + password + `"}) { accessToken refreshToken } }`)
	b := login(s, password)
	c := login(s, password)

	s.run(t, []scenario{
		{name: "Logout", query: `mutation { Logout }`, headers: bearer(a.AccessToken), wantStatus: 200, want: []string{`{"data":{"Logout":true}}`}},
		{name: "after Logout", headers: bearer(a.AccessToken), wantStatus: 401},
		{name: "RefreshTokens after Logout", query: `mutation { RefreshTokens(input: {refreshToken: "` + a.RefreshToken + `"}) { accessToken } }`,
			wantStatus: 200, want: []string{`"userCode":"invalid-token"`}},
		{name: "other session still fine", headers: bearer(b.AccessToken), wantStatus: 200, want: []string{testEmail}},
		{name: "RevokeSessions OTHERS", query: `mutation { RevokeSessions(scope: OTHERS) }`, headers: bearer(c.AccessToken),
			wantStatus: 200, want: []string{`{"data":{"RevokeSessions":1}}`}},
		{name: "revoked other", headers: bearer(b.AccessToken), wantStatus: 401},
		{name: "caller kept", headers: bearer(c.AccessToken), wantStatus: 200, want: []string{testEmail}},
		{name: "ChangePassword", query: `mutation { ChangePassword(input: {email: "` + testEmail + `", oldPassword: "` + password +
			`", newPassword: "a new passphrase"}) { email } }`, headers: bearer(c.AccessToken), wantStatus: 200, want: []string{testEmail}},
		{name: "after ChangePassword", headers: bearer(c.AccessToken), wantStatus: 401},
	})

	d := login(s, "a new passphrase")
	s.run(t, []scenario{
		{name: "RevokeSessions ALL", query: `mutation { RevokeSessions(scope: ALL) }`, headers: bearer(d.AccessToken),
			wantStatus: 200, want: []string{`{"data":{"RevokeSessions":1}}`}},
		{name: "after RevokeSessions ALL", headers: bearer(d.AccessToken), wantStatus: 401},
	})

	e := login(s, "a new passphrase")
	refresh := `mutation { RefreshTokens(input: {refreshToken: "` + e.RefreshToken + `"}) { accessToken refreshToken } }`
	e1 := s.tokens(refresh)
	if again := s.tokens(refresh); again.RefreshToken != e1.RefreshToken {
		t.Fatal("grace replay over HTTP did not return the same refresh token")
	}
	s.advance(auth.DefaultConfig().ReuseInterval)
	s.run(t, []scenario{
		{name: "reuse after the grace interval", query: refresh, wantStatus: 200, want: []string{`"message":"Token is not valid."`, `"userCode":"invalid-token"`}},
		{name: "successor's access token after reuse", headers: bearer(e1.AccessToken), wantStatus: 401},
	})
}

// TestJWKSOverHTTP: the JWKS lists every live key with kid, use and alg, and no private member.
func TestJWKSOverHTTP(t *testing.T) {
	s := newServer(t)
	get := func() []map[string]any {
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("JWKS: %d %s", w.Code, w.Header().Get("Content-Type"))
		}
		var doc struct{ Keys []map[string]any }
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, k := range doc.Keys {
			if k["kid"] == "" || k["use"] != "sig" || k["alg"] != "RS256" || k["kty"] != "RSA" || k["d"] != nil {
				t.Errorf("JWKS entry %v", k)
			}
		}
		return doc.Keys
	}
	if n := len(get()); n != 1 {
		t.Fatalf("%d keys, want 1", n)
	}
	if _, err := s.svc.RotateKey(context.Background(), auth.RS256, auth.SignNow); err != nil {
		t.Fatal(err)
	}
	if n := len(get()); n != 2 {
		t.Fatalf("%d keys after rotation, want 2", n)
	}
}
