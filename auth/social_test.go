package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"shopauth/auth"
)

// fakeProvider is an IdentityProvider whose answers the test sets: Exchange and VerifyCredential
// return the identity stored under the code (or credential), after checking the PKCE verifier and
// the nonce the flow began with. hang makes every call wait until the test ends, ignoring ctx.
type fakeProvider struct {
	typ string
	mu  sync.Mutex
	ids map[string]auth.Identity // by code or credential
	// issued maps each state the provider was sent to the nonce and PKCE challenge.
	issued map[string][2]string
	hang   chan struct{}
	// unreachable makes AuthCodeURL answer "" (an OpenID Connect provider whose discovery failed).
	unreachable bool
}

func newFakeProvider(t *testing.T, typ string) *fakeProvider {
	p := &fakeProvider{typ: typ, ids: map[string]auth.Identity{}, issued: map[string][2]string{}}
	return p
}

func (p *fakeProvider) Type() string  { return p.typ }
func (p *fakeProvider) Label() string { return "Fake " + p.typ }

func (p *fakeProvider) AuthCodeURL(state, nonce, verifier, redirectURI string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unreachable {
		return ""
	}
	h := sha256.Sum256([]byte(verifier))
	p.issued[state] = [2]string{nonce, base64.RawURLEncoding.EncodeToString(h[:])}
	return "https://provider.test/authorize?" + url.Values{"state": {state}, "redirect_uri": {redirectURI}}.Encode()
}

// grant makes code (or a credential) stand for id.
func (p *fakeProvider) grant(code string, id auth.Identity) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id.Type = p.typ
	p.ids[code] = id
}

func (p *fakeProvider) Exchange(ctx context.Context, cb auth.Callback, verifier, redirectURI, nonce string) (auth.Identity, error) {
	if p.hang != nil {
		<-p.hang
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.ids[cb.Code]
	if !ok {
		return auth.Identity{}, fmt.Errorf("%w: unknown code", auth.ErrProvider)
	}
	h := sha256.Sum256([]byte(verifier))
	for _, v := range p.issued {
		if v[0] == nonce && v[1] == base64.RawURLEncoding.EncodeToString(h[:]) {
			return id, nil
		}
	}
	return auth.Identity{}, fmt.Errorf("%w: nonce or verifier of no flow", auth.ErrProvider)
}

func (p *fakeProvider) VerifyCredential(ctx context.Context, credential, nonce string) (auth.Identity, error) {
	if p.typ == auth.LoginTypeFacebook {
		return auth.Identity{}, auth.ErrCredentialType
	}
	if p.hang != nil {
		<-p.hang
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.ids[credential]
	if !ok {
		return auth.Identity{}, fmt.Errorf("%w: bad credential", auth.ErrProvider)
	}
	return id, nil
}

// socialEnv is a service over SQLite with fake google and facebook providers.
type socialEnv struct {
	*testEnv
	google, facebook *fakeProvider
}

func newSocialEnv(t *testing.T) *socialEnv {
	g, f := newFakeProvider(t, auth.LoginTypeGoogle), newFakeProvider(t, auth.LoginTypeFacebook)
	e := newEnv(t, func(c *auth.Config) {
		c.Issuer = "https://auth.shop.cz"
		c.SocialRedirectURL = "https://shop.cz/social-login"
		c.CORSOrigins = []string{"https://www.shop.cz"}
		c.Providers = []auth.IdentityProvider{g, f}
		c.ProviderTimeout = 100 * time.Millisecond
	})
	return &socialEnv{testEnv: e, google: g, facebook: f}
}

// flow is one browser's social login under way.
type flow struct {
	typ, state, browser string
	verifier            string // the hand-off's PKCE verifier ("" for none)
}

// start begins a login as a browser holding browser (may be "") with the query q.
func (e *socialEnv) start(typ string, q url.Values, browser string) flow {
	e.t.Helper()
	st, err := e.svc.StartSocialLogin(context.Background(), typ, q, browser)
	if err != nil {
		e.t.Fatalf("StartSocialLogin: %v", err)
	}
	u, err := url.Parse(st.URL)
	if err != nil || u.Host != "provider.test" || st.Browser == "" {
		e.t.Fatalf("start answered %q, cookie %q", st.URL, st.Browser)
	}
	return flow{typ: typ, state: u.Query().Get("state"), browser: st.Browser}
}

// startPKCE begins a login with a hand-off challenge.
func (e *socialEnv) startPKCE(typ string, q url.Values) flow {
	if q == nil {
		q = url.Values{}
	}
	verifier := strings.Repeat("v", 43)
	h := sha256.Sum256([]byte(verifier))
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(h[:]))
	q.Set("code_challenge_method", "S256")
	f := e.start(typ, q, "")
	f.verifier = verifier
	return f
}

// finish brings the provider's code back and returns the query of the page it ends on.
func (e *socialEnv) finish(f flow, code string) url.Values {
	e.t.Helper()
	target, err := e.svc.FinishSocialLogin(context.Background(), f.typ, auth.SocialCallback{State: f.state, Browser: f.browser, Code: code})
	if err != nil {
		e.t.Fatalf("FinishSocialLogin: %v", err)
	}
	u, _ := url.Parse(target)
	if got := u.Scheme + "://" + u.Host + u.Path; got != "https://shop.cz/social-login" {
		e.t.Fatalf("finish went to %s, want the social redirect page", target)
	}
	return u.Query()
}

// socialLogin runs a whole login with id and returns the tokens and whether it registered.
func (e *socialEnv) socialLogin(p *fakeProvider, id auth.Identity) (auth.TokenPair, bool) {
	e.t.Helper()
	code := fmt.Sprintf("code-%d", time.Now().UnixNano())
	p.grant(code, id)
	f := e.startPKCE(p.typ, nil)
	q := e.finish(f, code)
	if q.Get("code") == "" {
		e.t.Fatalf("the login failed: %v", q)
	}
	res, err := e.svc.LoginWithSocialCode(context.Background(), q.Get("code"), f.verifier)
	if err != nil {
		e.t.Fatalf("LoginWithSocialCode: %v", err)
	}
	return res.Tokens, q.Get("isRegistration") == "true"
}

// failure runs a login with id and returns the failure reason ("" when it succeeded).
func (e *socialEnv) failure(p *fakeProvider, id auth.Identity, q url.Values) string {
	e.t.Helper()
	code := fmt.Sprintf("code-%d", time.Now().UnixNano())
	p.grant(code, id)
	back := e.finish(e.start(p.typ, q, ""), code)
	if back.Get("code") != "" {
		return ""
	}
	if back.Get("exceptionType") != "socialNetworkLoginException" || back.Get("socialNetwork") != p.typ {
		e.t.Fatalf("failure redirect without Shopsys's parameters: %v", back)
	}
	return back.Get("reason")
}

func (e *socialEnv) audited(email string, reason auth.AuditReason) bool {
	events, err := e.svc.AuditLog(context.Background(), email, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range events {
		if strings.HasPrefix(ev.Reason, string(reason)) {
			return true
		}
	}
	return false
}

func vouched(sub, email string) auth.Identity {
	return auth.Identity{Subject: sub, Email: email, EmailVerified: true, FirstName: "Eva", LastName: "Nová"}
}

func TestSocialRegistrationThenLogin(t *testing.T) {
	e := newSocialEnv(t)
	// Configured google then facebook; listed in LoginTypeEnum's order.
	if got := e.svc.SocialTypes(); strings.Join(got, ",") != "facebook,google" {
		t.Errorf("SocialTypes = %v, want facebook,google", got)
	}
	pair, reg := e.socialLogin(e.google, vouched("g-1", "Eva@Gmail.com"))
	if !reg {
		t.Error("a first login did not register")
	}
	p := e.mustAuthenticate(pair.AccessToken)
	if p.Login.Type != auth.LoginTypeGoogle || p.Login.ExternalID != "g-1" {
		t.Errorf("loginInfo = %+v, want google g-1", p.Login)
	}
	c := e.customer("eva@gmail.com")
	if !c.EmailVerified || c.HasPassword() || c.FirstName != "Eva" || c.LastName != "Nová" {
		t.Errorf("registered customer: %+v", c)
	}
	if !e.audited("eva@gmail.com", auth.AuditSocialRegistered.Of("google")) {
		t.Error("the social registration is not audited")
	}
	_, reg = e.socialLogin(e.google, vouched("g-1", "renamed@gmail.com"))
	if reg {
		t.Error("the second login registered again")
	}
	ids, _ := e.svc.SocialIdentities(context.Background(), p)
	if len(ids) != 1 || ids[0].Subject != "g-1" || ids[0].Email != "eva@gmail.com" || ids[0].LastUsedAt.IsZero() {
		t.Errorf("identities = %+v", ids)
	}
	// No password: Login fails as a wrong password does; ChangePassword has no old one to check.
	if _, err := e.svc.Login(context.Background(), "eva@gmail.com", ""); auth.ErrorCode(err) != auth.EInvalidCredentials {
		t.Errorf("login with an empty password to a password-less account: %v", err)
	}
	if _, err := e.svc.Login(context.Background(), "eva@gmail.com", testPassword); auth.ErrorCode(err) != auth.EInvalidCredentials {
		t.Errorf("login to a password-less account: %v", err)
	}
	if _, err := e.svc.ChangePassword(context.Background(), p, "eva@gmail.com", "", "new password 1"); auth.ErrorCode(err) != auth.EValidation {
		t.Errorf("ChangePassword without an old password: %v", err)
	}
	if _, err := e.svc.ChangePassword(context.Background(), p, "eva@gmail.com", "anything", "new password 1"); auth.ErrorCode(err) != auth.EInvalidAccountOrPassword {
		t.Errorf("ChangePassword of a password-less account: %v", err)
	}
}

// TestSocialLinkingRulesOnTheStore applies every rule through the whole flow on a real store and
// checks what it changed.
func TestSocialLinkingRulesOnTheStore(t *testing.T) {
	ctx := context.Background()
	t.Run("vouched email of a verified customer links", func(t *testing.T) {
		e := newSocialEnv(t)
		e.register("jan@shop.cz")
		e.exec(`UPDATE customers SET email_verified = 1 WHERE email = 'jan@shop.cz'`)
		pair, reg := e.socialLogin(e.google, vouched("g-jan", "jan@shop.cz"))
		if reg || e.mustAuthenticate(pair.AccessToken).Customer.Email != "jan@shop.cz" {
			t.Fatal("not logged in as jan")
		}
		if _, err := e.svc.Login(ctx, "jan@shop.cz", testPassword); err != nil {
			t.Errorf("a verified customer's password stopped working: %v", err)
		}
		if !e.audited("jan@shop.cz", auth.AuditSocialLinked.Of("google")) || e.audited("jan@shop.cz", auth.AuditPreHijackCleanUp) {
			t.Error("want the link audited and no clean-up")
		}
	})
	t.Run("pre-hijacking: vouched email of an unverified customer cleans up", func(t *testing.T) {
		e := newSocialEnv(t)
		attacker := e.register("victim@gmail.com") // the attacker registered the victim's address first
		c := e.customer("victim@gmail.com")
		if err := e.db.Update(ctx, func(tx auth.Tx) error {
			return tx.CreatePasskey(auth.Passkey{CredentialID: []byte("attacker-key"), CustomerID: c.ID, Name: "a", Credential: []byte(`{}`), CreatedAt: e.clock()})
		}); err != nil {
			t.Fatal(err)
		}
		pair, reg := e.socialLogin(e.google, vouched("g-victim", "victim@gmail.com"))
		if reg || e.mustAuthenticate(pair.AccessToken).Customer.ID != c.ID {
			t.Fatal("the victim is not logged in to the account")
		}
		after := e.customer("victim@gmail.com")
		if after.HasPassword() || !after.EmailVerified {
			t.Errorf("after the clean-up: password %v, verified %v", after.HasPassword(), after.EmailVerified)
		}
		if _, err := e.svc.Login(ctx, "victim@gmail.com", testPassword); auth.ErrorCode(err) != auth.EInvalidCredentials {
			t.Errorf("the attacker's password still logs in: %v", err)
		}
		if _, err := e.svc.Authenticate(ctx, attacker.AccessToken); err == nil {
			t.Error("the attacker's session survived")
		}
		if _, err := e.svc.Refresh(ctx, attacker.RefreshToken); err == nil {
			t.Error("the attacker's refresh token survived")
		}
		if keys, _ := e.db.Passkeys(ctx, c.ID); len(keys) != 0 {
			t.Errorf("the attacker's passkey survived: %d", len(keys))
		}
		if !e.audited("victim@gmail.com", auth.AuditPreHijackCleanUp.Of("google")) {
			t.Error("the clean-up is not audited")
		}
	})
	t.Run("pre-hijacking through an unvouched provider: its identity goes too", func(t *testing.T) {
		e := newSocialEnv(t)
		// The attacker registers the victim's address with a Facebook account of their own.
		if _, reg := e.socialLogin(e.facebook, auth.Identity{Subject: "f-attacker", Email: "victim@gmail.com"}); !reg {
			t.Fatal("the attacker's registration failed")
		}
		pair, reg := e.socialLogin(e.google, vouched("g-victim", "victim@gmail.com"))
		if reg {
			t.Fatal("the victim registered a second account")
		}
		ids, _ := e.svc.SocialIdentities(ctx, e.mustAuthenticate(pair.AccessToken))
		if len(ids) != 1 || ids[0].Type != "google" {
			t.Errorf("identities after the clean-up: %+v, want only the victim's google", ids)
		}
		if r := e.failure(e.facebook, auth.Identity{Subject: "f-attacker", Email: "victim@gmail.com"}, nil); r != auth.ReasonEmailExists {
			t.Errorf("the attacker's facebook afterwards: %q, want email-exists", r)
		}
	})
	t.Run("unvouched email of an existing customer: email-exists, nothing changes", func(t *testing.T) {
		e := newSocialEnv(t)
		e.register("jan@shop.cz")
		if r := e.failure(e.facebook, auth.Identity{Subject: "f-1", Email: "jan@shop.cz"}, nil); r != auth.ReasonEmailExists {
			t.Errorf("reason %q, want email-exists", r)
		}
		if ids, _ := e.db.SocialIdentities(ctx, e.customer("jan@shop.cz").ID); len(ids) != 0 {
			t.Errorf("linked anyway: %+v", ids)
		}
		if _, err := e.svc.Login(ctx, "jan@shop.cz", testPassword); err != nil {
			t.Errorf("password: %v", err)
		}
	})
	t.Run("unvouched, unverified customer (OpenID email_verified false): email-exists", func(t *testing.T) {
		e := newSocialEnv(t)
		e.register("eva@shop.cz")
		if r := e.failure(e.google, auth.Identity{Subject: "g-1", Email: "eva@shop.cz"}, nil); r != auth.ReasonEmailExists {
			t.Errorf("reason %q, want email-exists", r)
		}
		if !e.customer("eva@shop.cz").HasPassword() {
			t.Error("the password went without the provider vouching")
		}
	})
	t.Run("unvouched, nobody has it: a new unverified customer", func(t *testing.T) {
		e := newSocialEnv(t)
		_, reg := e.socialLogin(e.facebook, auth.Identity{Subject: "f-2", Email: "new@shop.cz"})
		if c := e.customer("new@shop.cz"); !reg || c.EmailVerified {
			t.Errorf("registered %v, verified %v", reg, c.EmailVerified)
		}
	})
	t.Run("no email: email-missing", func(t *testing.T) {
		e := newSocialEnv(t)
		if r := e.failure(e.facebook, auth.Identity{Subject: "f-3"}, nil); r != auth.ReasonEmailMissing {
			t.Errorf("reason %q, want email-missing", r)
		}
	})
	t.Run("a linked identity logs in whatever email it reports now", func(t *testing.T) {
		e := newSocialEnv(t)
		e.socialLogin(e.google, vouched("g-1", "first@gmail.com"))
		e.register("other@shop.cz")
		pair, _ := e.socialLogin(e.google, vouched("g-1", "other@shop.cz"))
		if got := e.mustAuthenticate(pair.AccessToken).Customer.Email; got != "first@gmail.com" {
			t.Errorf("logged in as %s, want first@gmail.com", got)
		}
		if !e.customer("other@shop.cz").HasPassword() {
			t.Error("the other customer was touched")
		}
	})
}

func TestSocialLinkFlow(t *testing.T) {
	ctx := context.Background()
	e := newSocialEnv(t)
	jan := e.mustAuthenticate(e.register("jan@shop.cz").AccessToken)
	linkURL, err := e.svc.SocialLinkURL(ctx, jan, auth.LoginTypeGoogle, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(linkURL)
	if !strings.HasPrefix(linkURL, "https://auth.shop.cz/social-network/login/google?") || u.Query().Get("link") == "" {
		t.Fatalf("SocialLinkURL = %s", linkURL)
	}
	// The browser opens it: the identity links to jan whatever email it has.
	e.google.grant("c1", vouched("g-jan", "someone.else@gmail.com"))
	back := e.finish(e.start("google", u.Query(), ""), "c1")
	if back.Get("code") == "" || back.Get("isRegistration") != "false" {
		t.Fatalf("link flow ended with %v", back)
	}
	if ids, _ := e.svc.SocialIdentities(ctx, jan); len(ids) != 1 || ids[0].Subject != "g-jan" {
		t.Errorf("jan's identities: %+v", ids)
	}
	// The token is single use: opening the URL again fails before the provider.
	st, err := e.svc.StartSocialLogin(ctx, "google", u.Query(), "")
	if err != nil || !strings.Contains(st.URL, "reason=state-invalid") || st.Browser != "" {
		t.Errorf("a link token used twice: %+v, %v", st, err)
	}
	// Linking an identity that is someone else's: identity-linked-elsewhere.
	eva := e.mustAuthenticate(e.register("eva@shop.cz").AccessToken)
	evaLink, _ := e.svc.SocialLinkURL(ctx, eva, auth.LoginTypeGoogle, nil)
	ue, _ := url.Parse(evaLink)
	e.google.grant("c2", vouched("g-jan", "x@gmail.com"))
	if r := e.finish(e.start("google", ue.Query(), ""), "c2").Get("reason"); r != auth.ReasonIdentityLinkedElsewhere {
		t.Errorf("reason %q, want identity-linked-elsewhere", r)
	}
	// A link token is for its provider only.
	janFB, _ := e.svc.SocialLinkURL(ctx, jan, auth.LoginTypeFacebook, nil)
	uf, _ := url.Parse(janFB)
	if st, _ := e.svc.StartSocialLogin(ctx, "google", uf.Query(), ""); !strings.Contains(st.URL, "reason=state-invalid") {
		t.Errorf("a facebook link token started a google flow: %s", st.URL)
	}
	if _, err := e.svc.SocialLinkURL(ctx, nil, "google", nil); auth.ErrorCode(err) != auth.EInvalidToken {
		t.Errorf("anonymous SocialLinkUrl: %v", err)
	}
	if _, err := e.svc.SocialLinkURL(ctx, jan, "apple", nil); auth.ErrorCode(err) != auth.EValidation {
		t.Errorf("SocialLinkUrl of an unconfigured type: %v", err)
	}
	if !e.audited("jan@shop.cz", auth.AuditSocialLinked.Of("google")) {
		t.Error("the link is not audited")
	}
}

// TestSocialFlowAttacks: what a stolen or replayed piece of a flow gets.
func TestSocialFlowAttacks(t *testing.T) {
	ctx := context.Background()
	e := newSocialEnv(t)
	finishWith := func(f flow, code string) string {
		target, err := e.svc.FinishSocialLogin(ctx, f.typ, auth.SocialCallback{State: f.state, Browser: f.browser, Code: code})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(target)
		if u.Query().Get("code") != "" {
			return "ok"
		}
		return u.Query().Get("reason")
	}
	e.google.grant("c", vouched("g-1", "eva@gmail.com"))

	t.Run("state replay", func(t *testing.T) {
		f := e.start("google", nil, "")
		if r := finishWith(f, "c"); r != "ok" {
			t.Fatalf("first callback: %s", r)
		}
		if r := finishWith(f, "c"); r != auth.ReasonStateInvalid {
			t.Errorf("replayed state: %s, want state-invalid", r)
		}
	})
	t.Run("state from another browser", func(t *testing.T) {
		f := e.start("google", nil, "")
		other := e.start("google", nil, "") // the attacker's own browser cookie
		f.browser = other.browser
		if r := finishWith(f, "c"); r != auth.ReasonStateInvalid {
			t.Errorf("another browser's cookie: %s, want state-invalid", r)
		}
		f.browser = ""
		if r := finishWith(e.start("google", nil, ""), "c"); r != "ok" {
			t.Errorf("a fresh flow after the refusal: %s", r)
		}
	})
	t.Run("a browser keeps its cookie across flows", func(t *testing.T) {
		a := e.start("google", nil, "")
		b := e.start("google", nil, a.browser)
		if a.browser != b.browser || finishWith(a, "c") != "ok" || finishWith(b, "c") != "ok" {
			t.Error("two tabs of one browser cannot both finish")
		}
	})
	t.Run("another provider's state", func(t *testing.T) {
		f := e.start("google", nil, "")
		f.typ = "facebook"
		if r := finishWith(f, "c"); r != auth.ReasonStateInvalid {
			t.Errorf("google's state at facebook: %s", r)
		}
	})
	t.Run("expired flow", func(t *testing.T) {
		f := e.start("google", nil, "")
		e.advance(10 * time.Minute)
		if r := finishWith(f, "c"); r != auth.ReasonStateInvalid {
			t.Errorf("after 10 minutes: %s, want state-invalid", r)
		}
	})
	t.Run("garbage state", func(t *testing.T) {
		if r := finishWith(flow{typ: "google", state: "x'; DROP TABLE social_flows", browser: "b"}, "c"); r != auth.ReasonStateInvalid {
			t.Errorf("garbage state: %s", r)
		}
	})
	t.Run("cancelled and provider errors", func(t *testing.T) {
		for provErr, want := range map[string]string{"access_denied": auth.ReasonCancelled, "user_cancelled_authorize": auth.ReasonCancelled,
			"server_error": auth.ReasonProviderError} {
			f := e.start("google", url.Values{"redirect": {"/cart"}}, "")
			target, _ := e.svc.FinishSocialLogin(ctx, "google", auth.SocialCallback{State: f.state, Browser: f.browser, Error: provErr})
			u, _ := url.Parse(target)
			if u.Query().Get("reason") != want || u.Query().Get("redirect") != "/cart" {
				t.Errorf("error=%s: %s, want reason %s and the redirect", provErr, target, want)
			}
		}
		if r := finishWith(e.start("google", nil, ""), "unknown-code"); r != auth.ReasonProviderError {
			t.Errorf("a code the provider refuses: %s", r)
		}
	})
	t.Run("code replay and a wrong PKCE verifier", func(t *testing.T) {
		f := e.startPKCE("google", nil)
		q := e.finish(f, "c")
		if _, err := e.svc.LoginWithSocialCode(ctx, q.Get("code"), f.verifier); err != nil {
			t.Fatalf("first exchange: %v", err)
		}
		if _, err := e.svc.LoginWithSocialCode(ctx, q.Get("code"), f.verifier); auth.ErrorCode(err) != auth.EInvalidCredentials || auth.ErrorMessage(err) != auth.MsgLoginFailed {
			t.Errorf("replayed code: %v", err)
		}
		f = e.startPKCE("google", nil)
		q = e.finish(f, "c")
		for _, v := range []string{"", strings.Repeat("w", 43)} {
			if _, err := e.svc.LoginWithSocialCode(ctx, q.Get("code"), v); auth.ErrorCode(err) != auth.EInvalidCredentials {
				t.Errorf("verifier %q: %v", v, err)
			}
		}
		if _, err := e.svc.LoginWithSocialCode(ctx, q.Get("code"), f.verifier); auth.ErrorCode(err) != auth.EInvalidCredentials {
			t.Errorf("the right verifier after a wrong one: %v (the code must be used up)", err)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		f := e.start("google", nil, "")
		q := e.finish(f, "c")
		e.advance(time.Minute)
		if _, err := e.svc.LoginWithSocialCode(ctx, q.Get("code"), ""); auth.ErrorCode(err) != auth.EInvalidCredentials {
			t.Errorf("code after 60 s: %v", err)
		}
	})
	t.Run("a link token is no login code", func(t *testing.T) {
		jan := e.mustAuthenticate(e.register("jan@shop.cz").AccessToken)
		link, _ := e.svc.SocialLinkURL(ctx, jan, "google", nil)
		u, _ := url.Parse(link)
		if _, err := e.svc.LoginWithSocialCode(ctx, u.Query().Get("link"), ""); auth.ErrorCode(err) != auth.EInvalidCredentials {
			t.Errorf("a link token exchanged for tokens: %v", err)
		}
	})
	t.Run("a provider that hangs", func(t *testing.T) {
		hung := newFakeProvider(t, auth.LoginTypeGoogle)
		hung.hang = make(chan struct{})
		defer close(hung.hang)
		h := newEnv(t, func(c *auth.Config) {
			c.Providers = []auth.IdentityProvider{hung}
			c.ProviderTimeout = 50 * time.Millisecond
		})
		st, err := h.svc.StartSocialLogin(ctx, "google", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(st.URL)
		target, err := h.svc.FinishSocialLogin(ctx, "google", auth.SocialCallback{State: u.Query().Get("state"), Browser: st.Browser, Code: "c"})
		if err != nil || !strings.Contains(target, "reason=provider-error") {
			t.Errorf("hung provider: %s, %v; want provider-error", target, err)
		}
		if _, err := h.svc.LoginWithCredential(ctx, auth.CredentialInput{Type: "google", Credential: "x"}); auth.ErrorCode(err) != auth.EInvalidCredentials {
			t.Errorf("hung provider, credential: %v", err)
		}
	})
	t.Run("a provider that cannot be reached at the start", func(t *testing.T) {
		e.google.mu.Lock()
		e.google.unreachable = true
		e.google.mu.Unlock()
		defer func() { e.google.mu.Lock(); e.google.unreachable = false; e.google.mu.Unlock() }()
		st, err := e.svc.StartSocialLogin(ctx, "google", url.Values{"redirect": {"/cart"}}, "")
		if err != nil || st.Browser != "" || !strings.HasPrefix(st.URL, "https://shop.cz/social-login?") ||
			!strings.Contains(st.URL, "reason=provider-error") || !strings.Contains(st.URL, "redirect=%2Fcart") {
			t.Errorf("start with an unreachable provider: %+v, %v", st, err)
		}
	})
}

func TestSocialRedirectKept(t *testing.T) {
	e := newSocialEnv(t)
	e.google.grant("c", vouched("g-1", "eva@gmail.com"))
	for raw, kept := range map[string]bool{
		"/cart?x=1":                         true,
		"https://auth.shop.cz/account":      true,
		"https://www.shop.cz/checkout":      true,
		"https://SHOP.cz/social-login/x":    true,
		"https://evil.example/":             false,
		"//evil.example/x":                  false,
		"/\\evil.example":                   false,
		"https://www.shop.cz.evil.example/": false,
		"javascript:alert(1)":               false,
		"https://user@www.shop.cz/":         false,
		"http://www.shop.cz/":               false,
		"cart":                              false,
	} {
		back := e.finish(e.start("google", url.Values{"redirect": {raw}}, ""), "c")
		if got := back.Get("redirect"); (got == raw) != kept || (!kept && got != "") {
			t.Errorf("redirect %q: handed back %q, want kept=%v", raw, got, kept)
		}
	}
	// Cart parameters come back unchanged; others do not.
	q := url.Values{"cartUuid": {"c-1"}, "shouldOverwriteCustomerUserCart": {"true"}, "productListUuids": {"a,b"}, "evil": {"x"}}
	back := e.finish(e.start("google", q, ""), "c")
	if back.Get("cartUuid") != "c-1" || back.Get("shouldOverwriteCustomerUserCart") != "true" || back.Get("productListUuids") != "a,b" ||
		back.Has("evil") || back.Get("showCartMergeInfo") != "false" {
		t.Errorf("handed back %v", back)
	}
	for _, bad := range []url.Values{{"code_challenge": {"short"}, "code_challenge_method": {"S256"}},
		{"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"plain"}},
		{"code_challenge": {strings.Repeat("a", 43)}}} {
		if _, err := e.svc.StartSocialLogin(context.Background(), "google", bad, ""); auth.ErrorCode(err) != auth.EValidation {
			t.Errorf("start with %v: %v, want validation", bad, err)
		}
	}
	if _, err := e.svc.StartSocialLogin(context.Background(), "apple", nil, ""); !errors.Is(err, auth.ErrProviderNotConfigured) {
		t.Errorf("unconfigured type: %v", err)
	}
}

func TestLoginWithCredential(t *testing.T) {
	ctx := context.Background()
	e := newSocialEnv(t)
	e.google.grant("id-token", vouched("g-1", "eva@gmail.com"))
	res, err := e.svc.LoginWithCredential(ctx, auth.CredentialInput{Type: "google", Credential: "id-token", Nonce: "n"})
	if err != nil || res.ShowCartMergeInfo {
		t.Fatalf("LoginWithCredential: %+v, %v", res, err)
	}
	if p := e.mustAuthenticate(res.Tokens.AccessToken); p.Login.Type != "google" || p.Login.ExternalID != "g-1" {
		t.Errorf("loginInfo %+v", p.Login)
	}
	for _, typ := range []string{"facebook", "web", "passkey", "admin", "apple", "nonsense"} {
		_, err := e.svc.LoginWithCredential(ctx, auth.CredentialInput{Type: typ, Credential: "id-token"})
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Code != auth.EValidation || ae.Validation["input.type"] == nil {
			t.Errorf("type %s: %v, want validation on input.type", typ, err)
		}
	}
	e.register("jan@shop.cz")
	e.google.grant("jan-unvouched", auth.Identity{Subject: "g-2", Email: "jan@shop.cz"})
	if _, err := e.svc.LoginWithCredential(ctx, auth.CredentialInput{Type: "google", Credential: "jan-unvouched"}); auth.ErrorCode(err) != auth.EInvalidCredentials {
		t.Errorf("email-exists by credential: %v, want invalid-credentials", err)
	}
	// Failures are throttled per address like Login.
	cctx := auth.NewContextWithClient(ctx, auth.Client{IP: "203.0.113.9"})
	var last error
	for range 6 {
		_, last = e.svc.LoginWithCredential(cctx, auth.CredentialInput{Type: "google", Credential: "forged"})
	}
	if auth.ErrorCode(last) != auth.ETooManyLoginAttempts {
		t.Errorf("the 6th forged credential from one address: %v, want too-many-login-attempts", last)
	}
	if _, err := e.svc.LoginWithCredential(auth.NewContextWithClient(ctx, auth.Client{IP: "203.0.113.10"}),
		auth.CredentialInput{Type: "google", Credential: "id-token"}); err != nil {
		t.Errorf("another address: %v", err)
	}
}

func TestUnlinkSocialIdentity(t *testing.T) {
	ctx := context.Background()
	e := newSocialEnv(t)
	pair, _ := e.socialLogin(e.google, vouched("g-1", "eva@gmail.com"))
	p := e.mustAuthenticate(pair.AccessToken)
	err := e.svc.UnlinkSocialIdentity(ctx, p, "google")
	if auth.ErrorCode(err) != auth.ELastLoginMethod {
		t.Fatalf("unlinking the only way to log in: %v, want last-login-method", err)
	}
	if err := e.svc.UnlinkSocialIdentity(ctx, p, "facebook"); auth.ErrorCode(err) != auth.EValidation {
		t.Errorf("unlinking what is not linked: %v", err)
	}
	// With a second identity the first may go.
	link, _ := e.svc.SocialLinkURL(ctx, p, "facebook", nil)
	u, _ := url.Parse(link)
	e.facebook.grant("fb", auth.Identity{Subject: "f-1"})
	if e.finish(e.start("facebook", u.Query(), ""), "fb").Get("code") == "" {
		t.Fatal("linking facebook failed")
	}
	if err := e.svc.UnlinkSocialIdentity(ctx, p, "google"); err != nil {
		t.Fatalf("unlinking one of two: %v", err)
	}
	if !e.audited("eva@gmail.com", auth.AuditSocialUnlinked.Of("google")) {
		t.Error("unlink not audited")
	}
	if err := e.svc.UnlinkSocialIdentity(ctx, p, "facebook"); auth.ErrorCode(err) != auth.ELastLoginMethod {
		t.Errorf("now facebook is the last: %v", err)
	}
	// A passkey is a way to log in.
	if err := e.db.Update(ctx, func(tx auth.Tx) error {
		return tx.CreatePasskey(auth.Passkey{CredentialID: []byte("k"), CustomerID: p.Customer.ID, Name: "k", Credential: []byte(`{}`), CreatedAt: e.clock()})
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.UnlinkSocialIdentity(ctx, p, "facebook"); err != nil {
		t.Errorf("unlinking with a passkey left: %v", err)
	}
	// The unlinked identity registers anew (its email is the customer's: email-exists? no, vouched
	// and the customer is verified, so it links back).
	if _, reg := e.socialLogin(e.google, vouched("g-1", "eva@gmail.com")); reg {
		t.Error("a vouched email of a verified customer registered a second account")
	}
	if err := e.svc.UnlinkSocialIdentity(ctx, nil, "google"); auth.ErrorCode(err) != auth.EInvalidToken {
		t.Errorf("anonymous: %v", err)
	}
}
