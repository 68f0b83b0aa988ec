// Package socialtest holds stand-in identity providers for tests, all offline: an OpenID Connect
// provider (also in Apple's manner), Facebook and Seznam. Each is a real listener (httptest), so a
// server under test and a browser (Chromium tests) can both reach it; point the server at it with
// --google-issuer / --apple-issuer / --oidc-issuer, --facebook-url or --seznam-url.
//
// A stand-in's authorize endpoint logs in at once as its current User (SetUser) and sends the
// browser straight back with code and state. Its token endpoint checks the client's secret, the
// redirect_uri and the PKCE verifier, and honours each code once. SetFault makes it misbehave in
// one of the ways a provider (or an attacker in its place) can.
package socialtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// User is who the stand-in says logged in.
type User struct {
	Subject string
	Email   string
	// EmailVerified is the OpenID Connect email_verified claim as sent: true, false, "true",
	// "false", or nil to leave it out. Facebook and Seznam stand-ins ignore it.
	EmailVerified       any
	FirstName, LastName string
}

// DefaultUser is the stand-ins' user until SetUser.
var DefaultUser = User{Subject: "248289761001", Email: "jane@example.com", EmailVerified: true, FirstName: "Jane", LastName: "Doe"}

// Fault is a way the stand-in misbehaves, until the next SetFault.
type Fault string

const (
	NoFault Fault = ""
	// Hang: discovery, JWKS, token, userinfo and profile answer nothing until the client gives up.
	Hang Fault = "hang"
	// Cancel: authorize sends the browser back with error=access_denied (the person cancelled).
	Cancel Fault = "cancel"
	// ServerError: the token endpoint answers 500.
	ServerError Fault = "server-error"
	// HugeToken, HugeProfile: the token or profile answer is over 2 MiB.
	HugeToken   Fault = "huge-token"
	HugeProfile Fault = "huge-profile"

	// The id_token faults (OpenID Connect stand-in only).
	WrongNonce    Fault = "wrong-nonce"    // nonce is not the one the login sent
	WrongAudience Fault = "wrong-audience" // aud is another client
	WrongIssuer   Fault = "wrong-issuer"   // iss is another issuer
	Expired       Fault = "expired"        // exp a minute ago
	WrongKey      Fault = "wrong-key"      // signed by a key not in the JWKS, under the kid of one that is
	UnknownKey    Fault = "unknown-key"    // signed by a key not in the JWKS, under a kid it does not list
	AlgNone       Fault = "alg-none"       // "alg":"none" and no signature
	Tampered      Fault = "tampered"       // signed, then the claims changed (another email)
	ForeignParty  Fault = "foreign-party"  // aud lists the client among others, azp is another client
)

const hugeSize = 2<<20 + 1

// server is what every stand-in shares: the OAuth 2 code flow with PKCE.
type server struct {
	// URL is the stand-in's base URL (the OpenID Connect stand-in's issuer).
	URL          string
	ClientID     string
	ClientSecret string
	srv          *httptest.Server
	closing      chan struct{}
	authorize    string // paths
	token        string
	// checkSecret replaces the comparison with ClientSecret (Apple: a signed JWT).
	checkSecret func(string) error
	// tokenExtra adds fields to the token answer (the id_token) for a grant.
	tokenExtra func(g grant, fault Fault) (map[string]any, error)

	mu       sync.Mutex
	user     User
	fault    Fault
	codes    map[string]grant
	access   map[string]User
	requests map[string]int  // by path
	named    map[string]bool // subjects whose name a form_post callback has carried (Apple: once)
}

type grant struct {
	redirectURI, challenge, nonce string
	user                          User
}

// profileFunc renders the profile (or userinfo) answer of user for the request that presented
// accessToken; an error is answered as the provider's 400.
type profileFunc func(user User, r *http.Request, accessToken string) (map[string]any, error)

// newServer starts a stand-in serving authorize, token and profile at those paths, and mux's
// other routes.
func newServer(t testing.TB, mux *http.ServeMux, authorize, token, profile string, render profileFunc) *server {
	s := &server{ClientID: "shopauth-test", ClientSecret: "test-secret-" + random(8), closing: make(chan struct{}),
		authorize: authorize, token: token, user: DefaultUser,
		codes: map[string]grant{}, access: map[string]User{}, requests: map[string]int{}, named: map[string]bool{}}
	s.checkSecret = func(secret string) error {
		if subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret)) != 1 {
			return fmt.Errorf("wrong client secret")
		}
		return nil
	}
	mux.HandleFunc("GET "+authorize, s.serveAuthorize)
	mux.HandleFunc("POST "+token, s.serveToken)
	mux.HandleFunc("GET "+profile, func(w http.ResponseWriter, r *http.Request) { s.serveProfile(w, r, render) })
	s.srv = httptest.NewServer(s.count(mux))
	s.URL = s.srv.URL
	t.Cleanup(s.close)
	return s
}

func (s *server) close() {
	close(s.closing) // releases hanging handlers, which Close waits for
	s.srv.Close()
}

func (s *server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// SetUser sets who the next logins are.
func (s *server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = u
}

// SetFault makes the stand-in misbehave from now on (NoFault to stop).
func (s *server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Requests is how many requests path has had.
func (s *server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

func (s *server) current() (User, Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current0()
}

func (s *server) current0() (User, Fault) { return s.user, s.fault } // with s.mu held

// hang blocks, when the fault says so, until the client gives up or the stand-in closes.
func (s *server) hang(r *http.Request) bool {
	if _, f := s.current(); f != Hang {
		return false
	}
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
	return true
}

// IssueCode logs the current user in without a browser, as FedCM does: a code bound to no
// redirect_uri and no PKCE challenge.
func (s *server) IssueCode() string {
	user, _ := s.current()
	return s.issue(grant{user: user})
}

func (s *server) issue(g grant) string {
	code := random(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = g
	return code
}

func (s *server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != s.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || !redirect.IsAbs():
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "PKCE with code_challenge_method=S256 is required", http.StatusBadRequest)
		return
	}
	user, fault := s.current()
	back := url.Values{"state": {q.Get("state")}}
	if fault == Cancel {
		back.Set("error", "access_denied")
	} else {
		back.Set("code", s.issue(grant{redirectURI: redirect.String(), challenge: q.Get("code_challenge"),
			nonce: q.Get("nonce"), user: user}))
	}
	if q.Get("response_mode") == "form_post" {
		s.mu.Lock()
		first := !s.named[user.Subject]
		s.named[user.Subject] = true
		s.mu.Unlock()
		if fault != Cancel && first && user.FirstName+user.LastName != "" {
			name, _ := json.Marshal(map[string]any{"name": map[string]string{"firstName": user.FirstName, "lastName": user.LastName}, "email": user.Email})
			back.Set("user", string(name))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		formPost.Execute(w, struct {
			Action string
			Fields url.Values
		}{redirect.String(), back})
		return
	}
	sep := "?"
	if redirect.RawQuery != "" {
		sep = "&"
	}
	http.Redirect(w, r, redirect.String()+sep+back.Encode(), http.StatusFound)
}

// formPost is Apple's response_mode=form_post: a page whose form posts itself to the redirect URI.
var formPost = template.Must(template.New("").Parse(`<!doctype html><title>Signing in</title>
<body onload="document.forms[0].submit()"><form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}{{range $v}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button type="submit">Continue</button></form>`))

func (s *server) serveToken(w http.ResponseWriter, r *http.Request) {
	if s.hang(r) {
		return
	}
	_, fault := s.current()
	if fault == ServerError {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", err.Error())
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.ClientID {
		oauthError(w, "invalid_client", "unknown client_id")
		return
	}
	if err := s.checkSecret(secret); err != nil {
		oauthError(w, "invalid_client", err.Error())
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, "unsupported_grant_type", "only authorization_code")
		return
	}
	code := r.PostForm.Get("code")
	s.mu.Lock()
	g, ok := s.codes[code]
	delete(s.codes, code) // once, whatever happens next
	s.mu.Unlock()
	switch {
	case !ok:
		oauthError(w, "invalid_grant", "unknown or used code")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		oauthError(w, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	case g.challenge != "" && !pkceMatches(r.PostForm.Get("code_verifier"), g.challenge):
		oauthError(w, "invalid_grant", "PKCE verifier does not match the challenge")
		return
	}
	access := random(16)
	s.mu.Lock()
	s.access[access] = g.user
	s.mu.Unlock()
	answer := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600}
	if s.tokenExtra != nil {
		extra, err := s.tokenExtra(g, fault)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for k, v := range extra {
			answer[k] = v
		}
	}
	if fault == HugeToken {
		answer["padding"] = strings.Repeat("x", hugeSize)
	}
	writeJSON(w, answer)
}

// serveProfile answers with the profile of the user the bearer token was issued for.
func (s *server) serveProfile(w http.ResponseWriter, r *http.Request, render profileFunc) {
	if s.hang(r) {
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	user, known := s.access[token]
	_, fault := s.current0()
	s.mu.Unlock()
	if !strings.EqualFold(scheme, "Bearer") || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	profile, err := render(user, r, token)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error":{"message":%q}}`, err.Error()), http.StatusBadRequest)
		return
	}
	if fault == HugeProfile {
		profile["padding"] = strings.Repeat("x", hugeSize)
	}
	writeJSON(w, profile)
}

func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func oauthError(w http.ResponseWriter, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
