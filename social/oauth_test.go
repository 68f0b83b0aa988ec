package social

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"shopauth/auth"
	"shopauth/social/socialtest"
)

// TestFacebookLogin: the code flow with PKCE and the Graph API's /me (with the appsecret_proof the
// stand-in requires); Facebook never vouches for the email, whatever it says.
func TestFacebookLogin(t *testing.T) {
	sp := socialtest.NewFacebook(t)
	sp.SetUser(socialtest.User{Subject: "10229998887776665", Email: "jan@example.com", EmailVerified: true, FirstName: "Jan", LastName: "Novák"})
	p := NewFacebook(sp.ClientID, sp.ClientSecret, sp.URL+"/", Options{})
	verifier := oauth2.GenerateVerifier()
	authURL := p.AuthCodeURL("state-1", "ignored", verifier, redirectURI)
	u, _ := url.Parse(authURL)
	if q := u.Query(); u.Path != socialtest.FacebookAuthorizePath || q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(verifier) ||
		q.Get("scope") != "email" || q.Has("nonce") {
		t.Fatalf("authorize URL %s", authURL)
	}
	back := browse(t, authURL)
	id, err := p.Exchange(context.Background(), auth.Callback{Code: back.Get("code")}, verifier, redirectURI, "")
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Identity{Type: "facebook", Subject: "10229998887776665", Email: "jan@example.com", FirstName: "Jan", LastName: "Novák"}
	if id != want {
		t.Fatalf("identity %+v, want %+v", id, want)
	}
	if p.Type() != "facebook" || p.Label() != "Facebook" {
		t.Errorf("Type %q Label %q", p.Type(), p.Label())
	}
	if _, err := p.VerifyCredential(context.Background(), "anything", ""); !errors.Is(err, auth.ErrCredentialType) {
		t.Errorf("VerifyCredential: %v, want ErrCredentialType", err)
	}
	// A wrong app secret fails at the token endpoint (and would fail the appsecret_proof).
	bad := NewFacebook(sp.ClientID, "wrong", sp.URL, Options{})
	cb, verifier := login(t, bad, "")
	_, err = bad.Exchange(context.Background(), cb, verifier, redirectURI, "")
	wantProviderError(t, err)
}

// TestFacebookDefaultEndpoints: without --facebook-url the dialog is www.facebook.com's and the
// Graph API graph.facebook.com's.
func TestFacebookDefaultEndpoints(t *testing.T) {
	p := NewFacebook("app", "secret", "", Options{})
	if got := p.AuthCodeURL("s", "", "v", redirectURI); !strings.HasPrefix(got, "https://www.facebook.com/dialog/oauth?") {
		t.Errorf("dialog %s", got)
	}
	if p.conf.Endpoint.TokenURL != "https://graph.facebook.com/oauth/access_token" || !strings.HasPrefix(p.profileURL("t"), "https://graph.facebook.com/me?") {
		t.Errorf("token %s profile %s", p.conf.Endpoint.TokenURL, p.profileURL("t"))
	}
}

// TestSeznamVouching: Seznam vouches only for the mailboxes it runs, whatever the letter case,
// and not for lookalike domains.
func TestSeznamVouching(t *testing.T) {
	sp := socialtest.NewSeznam(t)
	p := NewSeznam(sp.ClientID, sp.ClientSecret, sp.URL, Options{})
	cases := []struct {
		email string
		want  bool
	}{
		{"jana@seznam.cz", true},
		{"jana@email.cz", true},
		{"jana@post.cz", true},
		{"Jana@SEZNAM.CZ", true},
		{"jana@gmail.com", false},
		{"jana@seznam.cz.evil.example", false},
		{"jana@notseznam.cz", false},
		{"jana@mail.seznam.cz", false},
		{"jana@seznam.cz@evil.example", false},
		{"seznam.cz", false},
		{"@seznam.cz", false},
		{"", false},
	}
	for _, tc := range cases {
		t.Run(tc.email, func(t *testing.T) {
			sp.SetUser(socialtest.User{Subject: "8f14e45f", Email: tc.email, EmailVerified: true, FirstName: "Jana"})
			cb, verifier := login(t, p, "")
			id, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "")
			if err != nil {
				t.Fatal(err)
			}
			if id.EmailVerified != tc.want || id.Email != tc.email || id.Subject != "8f14e45f" || id.Type != "seznam" {
				t.Fatalf("identity %+v, want verified %v", id, tc.want)
			}
		})
	}
}

// TestSeznamProfile: the subject is oauth_user_id (a string or a number); a profile without one,
// or one that is not JSON, is a provider error; no email but username and domain give the mailbox.
func TestSeznamProfile(t *testing.T) {
	cases := []struct {
		body string
		want auth.Identity
		ok   bool
	}{
		{`{"oauth_user_id":"abc","email":"a@email.cz","firstname":"A","lastname":"B"}`, auth.Identity{Subject: "abc", Email: "a@email.cz", EmailVerified: true, FirstName: "A", LastName: "B"}, true},
		{`{"oauth_user_id":12345,"email":"a@gmail.com"}`, auth.Identity{Subject: "12345", Email: "a@gmail.com"}, true},
		{`{"oauth_user_id":"abc","username":"jana","domain":"seznam.cz"}`, auth.Identity{Subject: "abc", Email: "jana@seznam.cz", EmailVerified: true}, true},
		{`{"oauth_user_id":"abc"}`, auth.Identity{Subject: "abc"}, true},
		{`{"oauth_user_id":{"x":1}}`, auth.Identity{}, false},
		{`<html>`, auth.Identity{}, false},
	}
	for _, tc := range cases {
		id, err := seznamIdentity([]byte(tc.body))
		if (err == nil) != tc.ok || (tc.ok && id != tc.want) {
			t.Errorf("%s: %+v, %v; want %+v ok=%v", tc.body, id, err, tc.want, tc.ok)
		}
	}
	sp := socialtest.NewSeznam(t)
	sp.SetUser(socialtest.User{Email: "no-id@seznam.cz"})
	p := NewSeznam(sp.ClientID, sp.ClientSecret, sp.URL, Options{})
	cb, verifier := login(t, p, "")
	_, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "")
	wantProviderError(t, err)
}

// TestSeznamFedCM: LoginWithCredential's Seznam code is exchanged without redirect_uri or PKCE
// (the stand-in refuses a redirect_uri the code was not issued with), once.
func TestSeznamFedCM(t *testing.T) {
	sp := socialtest.NewSeznam(t)
	p := NewSeznam(sp.ClientID, sp.ClientSecret, sp.URL, Options{})
	code := sp.IssueCode()
	id, err := p.VerifyCredential(context.Background(), code, "")
	if err != nil {
		t.Fatal(err)
	}
	if id.Type != "seznam" || id.Subject != "8f14e45fceea167a5a36dedd4bea2543" || !id.EmailVerified {
		t.Fatalf("identity %+v", id)
	}
	_, err = p.VerifyCredential(context.Background(), code, "")
	wantProviderError(t, err)
	_, err = p.VerifyCredential(context.Background(), "", "")
	wantProviderError(t, err)
	// A browser-flow code is bound to its redirect_uri and challenge: it is no FedCM credential.
	cb, _ := login(t, p, "")
	_, err = p.VerifyCredential(context.Background(), cb.Code, "")
	wantProviderError(t, err)
}

// standIn is one provider adapter against its stand-in, for the tests every provider must pass.
type standIn struct {
	name     string
	provider func(o Options) auth.IdentityProvider
	fault    func(socialtest.Fault)
	// ready makes the provider discover first where it has discovery, so a fault hits the exchange.
	ready func(p auth.IdentityProvider)
}

func standIns(t *testing.T) []standIn {
	g := socialtest.NewOIDC(t)
	a, keyPEM := socialtest.NewApple(t)
	fb := socialtest.NewFacebook(t)
	sz := socialtest.NewSeznam(t)
	discover := func(p auth.IdentityProvider) {
		if err := p.(*OIDC).Discover(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	appleKey, err := ParseAppleKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return []standIn{
		{"google", func(o Options) auth.IdentityProvider { return NewGoogle(g.ClientID, g.ClientSecret, g.URL, o) }, g.SetFault, discover},
		{"apple", func(o Options) auth.IdentityProvider {
			p, _ := NewApple(AppleConfig{ClientIDs: []string{a.ClientID}, TeamID: socialtest.AppleTeamID,
				KeyID: socialtest.AppleKeyID, Key: appleKey, Issuer: a.URL}, o)
			return p
		}, a.SetFault, discover},
		{"oidc", func(o Options) auth.IdentityProvider { return NewGenericOIDC(g.URL, g.ClientID, g.ClientSecret, "", o) }, g.SetFault, discover},
		{"facebook", func(o Options) auth.IdentityProvider { return NewFacebook(fb.ClientID, fb.ClientSecret, fb.URL, o) }, fb.SetFault, func(auth.IdentityProvider) {}},
		{"seznam", func(o Options) auth.IdentityProvider { return NewSeznam(sz.ClientID, sz.ClientSecret, sz.URL, o) }, sz.SetFault, func(auth.IdentityProvider) {}},
	}
}

// TestProviderHangs: a provider that stops answering (token, JWKS, profile) is a provider error
// once the timeout passes, for every provider; the error says the deadline passed.
func TestProviderHangs(t *testing.T) {
	for _, s := range standIns(t) {
		t.Run(s.name, func(t *testing.T) {
			s.fault(socialtest.NoFault)
			p := s.provider(Options{Timeout: 300 * time.Millisecond})
			s.ready(p)
			cb, verifier := login(t, p, "n")
			s.fault(socialtest.Hang)
			defer s.fault(socialtest.NoFault)
			_, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "n")
			wantProviderError(t, err)
			if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "Timeout") {
				t.Errorf("error %v does not say the provider timed out", err)
			}
		})
	}
}

// TestProviderOversizedAnswers: a token or profile answer over Options.MaxResponseBytes is a
// provider error naming the limit (below x/oauth2's own 1 MiB cut, which would only truncate).
func TestProviderOversizedAnswers(t *testing.T) {
	for _, s := range standIns(t) {
		for _, fault := range []socialtest.Fault{socialtest.HugeToken, socialtest.HugeProfile} {
			if fault == socialtest.HugeProfile && (s.name != "facebook" && s.name != "seznam") {
				continue // OpenID Connect providers read no profile
			}
			t.Run(s.name+"/"+string(fault), func(t *testing.T) {
				s.fault(socialtest.NoFault)
				p := s.provider(Options{MaxResponseBytes: 64 << 10})
				s.ready(p)
				cb, verifier := login(t, p, "n")
				s.fault(fault)
				defer s.fault(socialtest.NoFault)
				_, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "n")
				wantProviderError(t, err)
				if !strings.Contains(err.Error(), "size limit") {
					t.Errorf("error %v does not name the size limit", err)
				}
			})
		}
	}
}

// TestProviderCancelledContext: a request whose client went away stops the exchange.
func TestProviderCancelledContext(t *testing.T) {
	for _, s := range standIns(t) {
		t.Run(s.name, func(t *testing.T) {
			p := s.provider(Options{})
			s.ready(p)
			cb, verifier := login(t, p, "n")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := p.Exchange(ctx, cb, verifier, redirectURI, "n")
			wantProviderError(t, err)
		})
	}
}

// TestLimitedBody: a body of exactly the limit reads whole; one byte more is an error, not a
// truncation that might still parse.
func TestLimitedBody(t *testing.T) {
	for _, tc := range []struct {
		size int
		ok   bool
	}{{0, true}, {99, true}, {100, true}, {101, false}, {5000, false}} {
		b := &limitedBody{ReadCloser: io.NopCloser(strings.NewReader(strings.Repeat("x", tc.size))), left: 100}
		got, err := io.ReadAll(b)
		if tc.ok && (err != nil || len(got) != tc.size) {
			t.Errorf("%d bytes: read %d, %v", tc.size, len(got), err)
		}
		if !tc.ok && !errors.Is(err, errTooLarge) {
			t.Errorf("%d bytes: err %v, want errTooLarge", tc.size, err)
		}
	}
}
