package social

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"shopauth/auth"
	"shopauth/social/socialtest"
)

func newGoogle(sp *socialtest.OIDC, o Options) *OIDC {
	return NewGoogle(sp.ClientID, sp.ClientSecret, sp.URL, o)
}

// TestOIDCLogin: the browser flow against the stand-in, which refuses an authorization request
// without S256 PKCE and a token request whose verifier does not match. The identity comes from the
// id_token: the stand-in's userinfo reports another email, which must not appear.
func TestOIDCLogin(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	p := newGoogle(sp, Options{})
	verifier := oauth2.GenerateVerifier()
	authURL := p.AuthCodeURL("state-1", "nonce-1", verifier, redirectURI)
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{"client_id": sp.ClientID, "redirect_uri": redirectURI, "state": "state-1",
		"nonce": "nonce-1", "code_challenge_method": "S256", "code_challenge": oauth2.S256ChallengeFromVerifier(verifier),
		"scope": "openid email profile", "response_type": "code"} {
		if q.Get(k) != want {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if !strings.HasPrefix(authURL, sp.URL+socialtest.OIDCAuthorizePath+"?") {
		t.Errorf("AuthCodeURL %s is not the discovered authorization endpoint", authURL)
	}
	back := browse(t, authURL)
	id, err := p.Exchange(context.Background(), auth.Callback{Code: back.Get("code")}, verifier, redirectURI, "nonce-1")
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Identity{Type: "google", Subject: socialtest.DefaultUser.Subject, Email: "jane@example.com",
		EmailVerified: true, FirstName: "Jane", LastName: "Doe"}
	if id != want {
		t.Fatalf("identity %+v, want %+v", id, want)
	}
	if p.Type() != "google" || p.Label() != "Google" {
		t.Errorf("Type %q Label %q", p.Type(), p.Label())
	}
	// The code is single use at the provider: a replayed callback is a provider error.
	_, err = p.Exchange(context.Background(), auth.Callback{Code: back.Get("code")}, verifier, redirectURI, "nonce-1")
	wantProviderError(t, err)
}

// TestOIDCTokenEndpointRefusals: what the provider's token endpoint refuses is a provider error:
// a PKCE verifier that is not the one whose challenge went to authorize, another redirect URI, a
// wrong client secret, an empty code, and a provider that fails.
func TestOIDCTokenEndpointRefusals(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	cases := []struct {
		name    string
		secret  string
		fault   socialtest.Fault
		tamper  func(cb *auth.Callback, verifier, redirect *string)
		noNonce bool
	}{
		{name: "PKCE verifier mismatch", tamper: func(_ *auth.Callback, v, _ *string) { *v = oauth2.GenerateVerifier() }},
		{name: "no PKCE verifier", tamper: func(_ *auth.Callback, v, _ *string) { *v = "" }},
		{name: "another redirect URI", tamper: func(_ *auth.Callback, _, r *string) { *r = "https://evil.example/cb" }},
		{name: "wrong client secret", secret: "not-the-secret"},
		{name: "empty code", tamper: func(cb *auth.Callback, _, _ *string) { cb.Code = "" }},
		{name: "unknown code", tamper: func(cb *auth.Callback, _, _ *string) { cb.Code = "forged" }},
		{name: "provider answers 500", fault: socialtest.ServerError},
		{name: "no nonce to check against", noNonce: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp.SetFault(socialtest.NoFault)
			secret := sp.ClientSecret
			if tc.secret != "" {
				secret = tc.secret
			}
			p := NewGoogle(sp.ClientID, secret, sp.URL, Options{})
			cb, verifier := login(t, p, "n")
			redirect := redirectURI
			if tc.tamper != nil {
				tc.tamper(&cb, &verifier, &redirect)
			}
			sp.SetFault(tc.fault)
			nonce := "n"
			if tc.noNonce {
				nonce = ""
			}
			id, err := p.Exchange(context.Background(), cb, verifier, redirect, nonce)
			wantProviderError(t, err)
			if id != (auth.Identity{}) {
				t.Errorf("an identity came with the error: %+v", id)
			}
		})
	}
}

// TestOIDCRejectsBadIDTokens: every id_token a provider (or someone in its place) can get wrong
// is refused, in the browser flow and as a LoginWithCredential credential.
func TestOIDCRejectsBadIDTokens(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	p := newGoogle(sp, Options{})
	for _, fault := range []socialtest.Fault{socialtest.WrongNonce, socialtest.WrongAudience, socialtest.WrongIssuer,
		socialtest.Expired, socialtest.WrongKey, socialtest.UnknownKey, socialtest.AlgNone, socialtest.Tampered, socialtest.ForeignParty} {
		t.Run(string(fault), func(t *testing.T) {
			sp.SetFault(socialtest.NoFault)
			cb, verifier := login(t, p, "nonce-1")
			sp.SetFault(fault)
			_, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "nonce-1")
			wantProviderError(t, err)
			_, err = p.VerifyCredential(context.Background(), sp.IDToken("nonce-1"), "nonce-1")
			wantProviderError(t, err)
		})
	}
	// The same tokens unharmed pass, so the refusals above are the faults' doing.
	sp.SetFault(socialtest.NoFault)
	if _, err := p.VerifyCredential(context.Background(), sp.IDToken("nonce-1"), "nonce-1"); err != nil {
		t.Fatalf("a good id_token was refused: %v", err)
	}
}

// TestOIDCCredentialNonce: LoginWithCredential checks the nonce only when one is given, and then
// it must be the id_token's; an id_token without a nonce does not match a given one.
func TestOIDCCredentialNonce(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	p := newGoogle(sp, Options{})
	cases := []struct {
		tokenNonce, given string
		ok                bool
	}{
		{"abc", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"", "abc", false},
		{"", "", true},
	}
	for _, tc := range cases {
		_, err := p.VerifyCredential(context.Background(), sp.IDToken(tc.tokenNonce), tc.given)
		if (err == nil) != tc.ok {
			t.Errorf("token nonce %q, given %q: err %v, want ok=%v", tc.tokenNonce, tc.given, err, tc.ok)
		}
	}
	for _, junk := range []string{"", "not.a.jwt", "a.b", strings.Repeat("x", 5000)} {
		_, err := p.VerifyCredential(context.Background(), junk, "")
		wantProviderError(t, err)
	}
}

// TestOIDCEmailVerified: email_verified as true, "true" (Apple), false, "false", missing or
// anything else; and no email at all is never verified.
func TestOIDCEmailVerified(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	p := newGoogle(sp, Options{})
	cases := []struct {
		name     string
		email    string
		verified any
		want     bool
	}{
		{"bool true", "a@example.com", true, true},
		{"string true", "a@example.com", "true", true},
		{"string TRUE", "a@example.com", "TRUE", true},
		{"bool false", "a@example.com", false, false},
		{"string false", "a@example.com", "false", false},
		{"missing", "a@example.com", nil, false},
		{"number 1", "a@example.com", 1, false},
		{"string yes", "a@example.com", "yes", false},
		{"no email, verified true", "", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp.SetUser(socialtest.User{Subject: "s", Email: tc.email, EmailVerified: tc.verified})
			id, err := p.VerifyCredential(context.Background(), sp.IDToken(""), "")
			if err != nil {
				t.Fatal(err)
			}
			if id.EmailVerified != tc.want || id.Email != tc.email {
				t.Fatalf("email %q verified %v, want %q %v", id.Email, id.EmailVerified, tc.email, tc.want)
			}
		})
	}
}

// TestOIDCClock: the id_token's exp is checked against Options.Now, the injectable clock.
func TestOIDCClock(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	now := time.Now()
	sp.Now = func() time.Time { return now }
	tok := sp.IDToken("")
	cases := []struct {
		at time.Time
		ok bool
	}{{now, true}, {now.Add(10*time.Minute - time.Second), true}, {now.Add(10*time.Minute + time.Second), false}}
	for _, tc := range cases {
		p := newGoogle(sp, Options{Now: func() time.Time { return tc.at }})
		if _, err := p.VerifyCredential(context.Background(), tok, ""); (err == nil) != tc.ok {
			t.Errorf("at exp%+v: err %v, want ok=%v", tc.at.Sub(now.Add(10*time.Minute)), err, tc.ok)
		}
	}
}

// TestOIDCDiscoveryFailureIsRetried: a provider whose discovery fails (here: hangs past the
// timeout) makes AuthCodeURL return "" and Exchange a provider error; once it answers, the next
// login discovers it. Nothing is asked of it before the first login.
func TestOIDCDiscoveryFailureIsRetried(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	sp.SetFault(socialtest.Hang)
	p := newGoogle(sp, Options{Timeout: 200 * time.Millisecond})
	if n := sp.Requests(socialtest.OIDCDiscoveryPath); n != 0 {
		t.Fatalf("constructing the provider made %d discovery requests", n)
	}
	if got := p.AuthCodeURL("s", "n", oauth2.GenerateVerifier(), redirectURI); got != "" {
		t.Fatalf("AuthCodeURL with discovery hanging = %q, want \"\"", got)
	}
	_, err := p.Exchange(context.Background(), auth.Callback{Code: "c"}, "v", redirectURI, "n")
	wantProviderError(t, err)
	wantProviderError(t, p.Discover(context.Background()))
	sp.SetFault(socialtest.NoFault)
	cb, verifier := login(t, p, "n")
	if _, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "n"); err != nil {
		t.Fatalf("after the provider recovered: %v", err)
	}
}

// TestOIDCUnreachableIssuer: an issuer nothing listens on, or one whose discovery document names
// another issuer, is a provider error.
func TestOIDCUnreachableIssuer(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	for name, issuer := range map[string]string{
		"nothing listens": "http://127.0.0.1:1",
		"issuer mismatch": sp.URL + "/",
		"not a URL":       "::",
	} {
		t.Run(name, func(t *testing.T) {
			p := NewGoogle("id", "secret", issuer, Options{})
			wantProviderError(t, p.Discover(context.Background()))
			_, err := p.VerifyCredential(context.Background(), sp.IDToken(""), "")
			wantProviderError(t, err)
		})
	}
}

// TestGenericOIDC: type oidc, its label (or the issuer's host), and client_secret_post when the
// provider's discovery names only that.
func TestGenericOIDC(t *testing.T) {
	sp := socialtest.NewOIDC(t)
	p := NewGenericOIDC(sp.URL, sp.ClientID, sp.ClientSecret, "Shop SSO", Options{})
	if p.Type() != "oidc" || p.Label() != "Shop SSO" {
		t.Fatalf("Type %q Label %q", p.Type(), p.Label())
	}
	if l := NewGenericOIDC("https://sso.example.com/realms/shop", "i", "s", "", Options{}).Label(); l != "sso.example.com" {
		t.Errorf("default label %q, want the issuer's host", l)
	}
	cb, verifier := login(t, p, "n")
	id, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "n")
	if err != nil || id.Type != "oidc" || id.Subject != socialtest.DefaultUser.Subject {
		t.Fatalf("identity %+v, err %v", id, err)
	}
}
