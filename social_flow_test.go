package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/internal/pgtest"
	"shopauth/social"
	"shopauth/social/socialtest"
)

// The browser flow of social login end to end: a real server, the OpenID Connect stand-in as
// Google, and a browser played by an http.Client with a cookie jar that follows redirects by hand
// until it lands on the social redirect page.

// browser is one browser: its own cookies.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// visit goes to raw and follows redirects while they stay off landing; it returns the landing
// URL reached (or the last response's URL when it never got there) and the last callback URL
// it passed through (the provider's redirect back to us).
func (b *browser) visit(raw, landing string) (landed *url.URL, callback string) {
	b.t.Helper()
	for range 10 {
		if strings.HasPrefix(raw, landing) {
			u, _ := url.Parse(raw)
			return u, callback
		}
		if strings.Contains(raw, auth.SocialPath) && strings.Contains(raw, "state=") {
			callback = raw
		}
		res, err := b.client.Get(raw)
		if err != nil {
			b.t.Fatal(err)
		}
		if res.StatusCode == http.StatusOK && strings.Contains(raw, "link=") {
			res = b.confirmLink(raw, res) // a SocialLinkUrl's confirmation page: continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		next := res.Header.Get("Location")
		if res.StatusCode != http.StatusFound || next == "" {
			b.t.Fatalf("GET %s: %d (no redirect)", raw, res.StatusCode)
		}
		u, _ := res.Request.URL.Parse(next)
		raw = u.String()
	}
	b.t.Fatalf("too many redirects, at %s", raw)
	return nil, ""
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// confirmLink submits the link confirmation page res (of the link URL raw) as its button does.
func (b *browser) confirmLink(raw string, res *http.Response) *http.Response {
	b.t.Helper()
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if !form.Has("csrf") || !form.Has("link") {
		b.t.Fatalf("GET %s: 200 without the confirmation form: %s", raw, body)
	}
	res, err := b.client.PostForm(strings.SplitN(raw, "?", 2)[0], form)
	if err != nil {
		b.t.Fatal(err)
	}
	return res
}

// untilCallback starts a google login and returns the provider's redirect back to us, unvisited.
func (b *browser) untilCallback(m *Main) string {
	b.t.Helper()
	next := m.URL() + auth.SocialPath + "google"
	for range 2 {
		res, err := b.client.Get(next)
		if err != nil {
			b.t.Fatal(err)
		}
		res.Body.Close()
		next = res.Header.Get("Location")
	}
	return next
}

// socialServer is a server with the stand-in as its Google, ending logins on ISSUER/account; on
// the SQLite file of newTestMain unless configure says otherwise.
func socialServer(t *testing.T, configure ...func(*Main)) (*Main, *socialtest.OIDC) {
	provider := socialtest.NewOIDC(t)
	m := startAtIssuer(t, func(m *Main) {
		for _, f := range configure {
			f(m)
		}
		m.Config.ProviderTimeout = 2 * time.Second
		m.Config.Providers = []auth.IdentityProvider{social.NewGoogle(provider.ClientID, provider.ClientSecret, provider.URL,
			social.Options{Timeout: time.Second})}
	})
	return m, provider
}

func pkce() (verifier, challenge string) {
	verifier = strings.Repeat("Verifier-", 5)
	h := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(h[:])
}

// login runs the browser flow from the start URL with q and returns where it landed.
func (b *browser) login(m *Main, q url.Values) (*url.URL, string) {
	return b.visit(m.URL()+auth.SocialPath+"google?"+q.Encode(), m.URL()+"/account")
}

func exchange(t *testing.T, m *Main, code, verifier string) gqlResponse {
	return gql(t, m.URL(), `mutation ($c: String!, $v: String) { LoginWithSocialCode(input: {code: $c, codeVerifier: $v}) {
		showCartMergeInfo tokens { accessToken refreshToken } } }`, map[string]any{"c": code, "v": verifier}, nil)
}

func (r gqlResponse) loginResult(t *testing.T, field string) auth.TokenPair {
	t.Helper()
	var res struct {
		ShowCartMergeInfo bool
		Tokens            struct{ AccessToken, RefreshToken string }
	}
	if r.Status != 200 || len(r.Errors) > 0 || json.Unmarshal(r.Data[field], &res) != nil || res.Tokens.AccessToken == "" || res.ShowCartMergeInfo {
		t.Fatalf("%s: want a LoginResult, got %d %s", field, r.Status, r.Raw)
	}
	return auth.TokenPair{AccessToken: res.Tokens.AccessToken, RefreshToken: res.Tokens.RefreshToken}
}

func TestSocialBrowserFlow(t *testing.T) {
	m, provider := socialServer(t)
	provider.SetUser(socialtest.User{Subject: "sub-eva", Email: "eva@example.com", EmailVerified: true, FirstName: "Eva", LastName: "Nová"})
	b := newBrowser(t)
	verifier, challenge := pkce()
	landed, _ := b.login(m, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "redirect": {"/cart"},
		"cartUuid": {"8a2f9d1e-0000-4000-8000-000000000001"}, "productListUuids": {"a,b"}})
	q := landed.Query()
	if q.Get("code") == "" || q.Get("isRegistration") != "true" || q.Get("showCartMergeInfo") != "false" || q.Get("redirect") != "/cart" ||
		q.Get("cartUuid") != "8a2f9d1e-0000-4000-8000-000000000001" || q.Get("productListUuids") != "a,b" {
		t.Fatalf("landed on %s", landed)
	}
	pair := exchange(t, m, q.Get("code"), verifier).loginResult(t, "LoginWithSocialCode")
	me := gql(t, m.URL(), `{ currentCustomerUser { email firstName emailVerified loginInfo { loginType externalId } }
		socialIdentities { type externalId email } settings { socialNetworkLoginConfig } }`, nil, bearer(pair.AccessToken))
	for _, want := range []string{`"email":"eva@example.com"`, `"firstName":"Eva"`, `"emailVerified":true`,
		`"loginInfo":{"loginType":"google","externalId":"sub-eva"}`, `"socialIdentities":[{"type":"google","externalId":"sub-eva","email":"eva@example.com"}]`,
		`"socialNetworkLoginConfig":["google"]`} {
		if !strings.Contains(string(me.Raw), want) {
			t.Errorf("the customer's view lacks %s: %s", want, me.Raw)
		}
	}
	// A password login says web; the refresh keeps the session's login type.
	again, _ := b.login(m, url.Values{})
	if again.Query().Get("isRegistration") != "false" {
		t.Errorf("the second login registered: %s", again)
	}
	second := exchange(t, m, again.Query().Get("code"), "").loginResult(t, "LoginWithSocialCode")
	rotated := refresh(t, m.URL(), second.RefreshToken).Token(t, "RefreshTokens")
	if r := gql(t, m.URL(), `{ currentCustomerUser { loginInfo { loginType } } }`, nil, bearer(rotated.AccessToken)); !strings.Contains(string(r.Raw), `"loginType":"google"`) {
		t.Errorf("after a refresh: %s", r.Raw)
	}
}

func TestSocialBrowserFlowAttacks(t *testing.T) {
	m, provider := socialServer(t)
	provider.SetUser(socialtest.User{Subject: "sub-victim", Email: "victim@example.com", EmailVerified: true})
	verifier, challenge := pkce()
	withPKCE := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}

	t.Run("pre-hijacking", func(t *testing.T) {
		attacker := register(t, m.URL(), "victim@example.com", "attacker-password")
		landed, _ := newBrowser(t).login(m, withPKCE)
		if landed.Query().Get("isRegistration") != "false" {
			t.Fatalf("landed on %s", landed)
		}
		victim := exchange(t, m, landed.Query().Get("code"), verifier).loginResult(t, "LoginWithSocialCode")
		gql(t, m.URL(), `mutation { Login(input: {email: "victim@example.com", password: "attacker-password"}) { accessToken } }`, nil, nil).
			WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
		if r := gql(t, m.URL(), `{ currentCustomerUser { email } }`, nil, bearer(attacker.AccessToken)); r.Status != http.StatusUnauthorized {
			t.Errorf("the attacker's access token: %d %s, want 401", r.Status, r.Raw)
		}
		if r := refresh(t, m.URL(), attacker.RefreshToken); len(r.Errors) == 0 {
			t.Errorf("the attacker's refresh token still works: %s", r.Raw)
		}
		if r := gql(t, m.URL(), `{ currentCustomerUser { emailVerified } }`, nil, bearer(victim.AccessToken)); !strings.Contains(string(r.Raw), `"emailVerified":true`) {
			t.Errorf("the victim's account: %s", r.Raw)
		}
	})
	t.Run("state replay", func(t *testing.T) {
		b := newBrowser(t)
		_, callback := b.login(m, url.Values{})
		if callback == "" {
			t.Fatal("no callback seen")
		}
		landed, _ := b.visit(callback, m.URL()+"/account")
		if landed.Query().Get("reason") != auth.ReasonStateInvalid || landed.Query().Get("code") != "" {
			t.Errorf("a replayed callback landed on %s", landed)
		}
	})
	t.Run("state from another browser", func(t *testing.T) {
		victim, attacker := newBrowser(t), newBrowser(t)
		// The attacker begins a flow and stops at the callback, then makes the victim's browser open it.
		callback := attacker.untilCallback(m)
		landed, _ := victim.visit(callback, m.URL()+"/account")
		if landed.Query().Get("reason") != auth.ReasonStateInvalid {
			t.Errorf("another browser's callback landed on %s", landed)
		}
		if landed, _ := attacker.visit(callback, m.URL()+"/account"); landed.Query().Get("reason") != auth.ReasonStateInvalid {
			t.Errorf("the flow survived the victim's use of it: %s", landed)
		}
	})
	t.Run("code replay and a wrong PKCE verifier", func(t *testing.T) {
		landed, _ := newBrowser(t).login(m, withPKCE)
		code := landed.Query().Get("code")
		exchange(t, m, code, verifier).loginResult(t, "LoginWithSocialCode")
		exchange(t, m, code, verifier).WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
		landed, _ = newBrowser(t).login(m, withPKCE)
		code = landed.Query().Get("code")
		exchange(t, m, code, "not-the-verifier-not-the-verifier-not-the-v").WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
		exchange(t, m, code, verifier).WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
	})
	t.Run("off-site redirect ignored", func(t *testing.T) {
		for _, r := range []string{"https://evil.example/steal", "//evil.example/x", "javascript:alert(1)"} {
			landed, _ := newBrowser(t).login(m, url.Values{"redirect": {r}})
			if landed.Query().Get("code") == "" || landed.Query().Has("redirect") {
				t.Errorf("redirect %q: landed on %s", r, landed)
			}
		}
		own := m.URL() + "/account#orders"
		if landed, _ := newBrowser(t).login(m, url.Values{"redirect": {own}}); landed.Query().Get("redirect") != own {
			t.Errorf("the issuer's own URL was dropped: %s", landed)
		}
	})
	t.Run("Apple's form_post callback", func(t *testing.T) {
		b := newBrowser(t)
		back, _ := url.Parse(b.untilCallback(m))
		res, err := b.client.PostForm(m.URL()+auth.SocialPath+"google", back.Query())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		landed, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || landed.Query().Get("code") == "" {
			t.Errorf("POST callback: %d to %s", res.StatusCode, landed)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		provider.SetFault(socialtest.Cancel)
		defer provider.SetFault(socialtest.NoFault)
		if landed, _ := newBrowser(t).login(m, url.Values{}); landed.Query().Get("reason") != auth.ReasonCancelled ||
			landed.Query().Get("exceptionType") != "socialNetworkLoginException" || landed.Query().Get("socialNetwork") != "google" {
			t.Errorf("cancelled: landed on %s", landed)
		}
	})
	t.Run("a provider that hangs", func(t *testing.T) {
		provider.SetFault(socialtest.Hang)
		defer provider.SetFault(socialtest.NoFault)
		if landed, _ := newBrowser(t).login(m, url.Values{}); landed.Query().Get("reason") != auth.ReasonProviderError {
			t.Errorf("hanging provider: landed on %s", landed)
		}
	})
}

func TestSocialPathErrors(t *testing.T) {
	m, _ := socialServer(t)
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "apple", "", 404, `"errors"`},
		{"GET", "nonsense", "", 404, `"errors"`},
		{"PUT", "google", "", 405, `"errors"`},
		{"POST", "google", "nothing=here", 400, "state and code are missing"},
		{"GET", "google?code_challenge=abc&code_challenge_method=plain", "", 400, "code_challenge"},
		{"POST", "google", strings.Repeat("a", 70<<10), 400, `"errors"`},
	} {
		req, _ := http.NewRequest(c.method, m.URL()+auth.SocialPath+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status || !strings.Contains(string(body), c.want) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %s, want %d with %s", c.method, c.path, res.StatusCode, body, c.status, c.want)
		}
	}
	// The start sets the flow cookie: HttpOnly, on the social path, Lax for an http issuer.
	res, err := http.DefaultTransport.RoundTrip(must(http.NewRequest("GET", m.URL()+auth.SocialPath+"google", nil)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"shopauth_social=", "Path=/social-network/login/", "HttpOnly", "SameSite=Lax", "Max-Age=600"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %s", cookie, want)
		}
	}
	if res.StatusCode != http.StatusFound || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("start: %d, Referrer-Policy %q", res.StatusCode, res.Header.Get("Referrer-Policy"))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSocialLinkingRulesOnBothStores runs every linking rule through the browser flow on SQLite and
// on PostgreSQL, and checks what each left in the store.
func TestSocialLinkingRulesOnBothStores(t *testing.T) {
	stores := map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "shop.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) },
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			path := store(t)
			m, provider := socialServer(t, func(m *Main) { m.DBPath = path })
			ctx := context.Background()
			verify := func(email string) {
				err := m.DB.Update(ctx, func(tx auth.Tx) error {
					c, err := tx.CustomerByEmail(email)
					if err != nil {
						return err
					}
					c.EmailVerified = true
					return tx.UpdateCustomer(c)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			outcome := func(u socialtest.User) url.Values {
				provider.SetUser(u)
				landed, _ := newBrowser(t).login(m, url.Values{})
				return landed.Query()
			}
			customer := func(email string) auth.Customer {
				c, err := m.DB.CustomerByEmail(ctx, email)
				if err != nil {
					t.Fatalf("%s: %v", email, err)
				}
				return c
			}
			// Vouched for, nobody has it: a new verified customer without a password.
			if q := outcome(socialtest.User{Subject: "s1", Email: "new@example.com", EmailVerified: true}); q.Get("isRegistration") != "true" {
				t.Errorf("vouched, absent: %v", q)
			}
			if c := customer("new@example.com"); !c.EmailVerified || c.HasPassword() {
				t.Errorf("vouched, absent: %+v", c)
			}
			// Vouched for, a verified customer has it: linked, the password kept.
			register(t, m.URL(), "verified@example.com", "password-1")
			verify("verified@example.com")
			if q := outcome(socialtest.User{Subject: "s2", Email: "verified@example.com", EmailVerified: "true"}); q.Get("isRegistration") != "false" {
				t.Errorf("vouched, verified: %v", q)
			}
			if c := customer("verified@example.com"); !c.HasPassword() {
				t.Error("vouched, verified: the password went")
			}
			// Vouched for, an unverified customer has it: linked, verified, cleaned up.
			register(t, m.URL(), "unverified@example.com", "password-1")
			if q := outcome(socialtest.User{Subject: "s3", Email: "unverified@example.com", EmailVerified: true}); q.Get("code") == "" {
				t.Errorf("vouched, unverified: %v", q)
			}
			if c := customer("unverified@example.com"); !c.EmailVerified || c.HasPassword() {
				t.Errorf("vouched, unverified: %+v", c)
			}
			// Not vouched for: email-exists for anyone who has it, verified or not; a new
			// unverified customer otherwise; email-missing without an address.
			for _, email := range []string{"verified@example.com", "new@example.com"} {
				if q := outcome(socialtest.User{Subject: "x-" + email, Email: email, EmailVerified: false}); q.Get("reason") != auth.ReasonEmailExists {
					t.Errorf("unvouched, %s: %v", email, q)
				}
			}
			if q := outcome(socialtest.User{Subject: "s4", Email: "fresh@example.com"}); q.Get("isRegistration") != "true" || customer("fresh@example.com").EmailVerified {
				t.Errorf("unvouched, absent: %v", q)
			}
			if q := outcome(socialtest.User{Subject: "s5", Email: ""}); q.Get("reason") != auth.ReasonEmailMissing {
				t.Errorf("no email: %v", q)
			}
			// Linked already: logs its customer in whatever email it reports now.
			q := outcome(socialtest.User{Subject: "s1", Email: "verified@example.com", EmailVerified: true})
			tokens := exchange(t, m, q.Get("code"), "").loginResult(t, "LoginWithSocialCode")
			if r := gql(t, m.URL(), `{ currentCustomerUser { email } }`, nil, bearer(tokens.AccessToken)); !strings.Contains(string(r.Raw), "new@example.com") {
				t.Errorf("a linked identity with another email now: %s", r.Raw)
			}
			// The link flow: someone else's identity is identity-linked-elsewhere.
			me := register(t, m.URL(), "linker@example.com", "password-1")
			link := gql(t, m.URL(), `mutation { SocialLinkUrl(type: google) }`, nil, bearer(me.AccessToken))
			var linkURL string
			if json.Unmarshal(link.Data["SocialLinkUrl"], &linkURL) != nil || linkURL == "" {
				t.Fatalf("SocialLinkUrl: %s", link.Raw)
			}
			provider.SetUser(socialtest.User{Subject: "s2", Email: "whatever@example.com", EmailVerified: true})
			if landed, _ := newBrowser(t).visit(linkURL, m.URL()+"/account"); landed.Query().Get("reason") != auth.ReasonIdentityLinkedElsewhere {
				t.Errorf("linking another's identity: %s", landed)
			}
		})
	}
}

// TestLoginWithCredentialOverGraphQL: an id_token of the stand-in (as Google One Tap sends it)
// logs in; a wrong nonce, another type or a forged token does not.
func TestLoginWithCredentialOverGraphQL(t *testing.T) {
	m, provider := socialServer(t)
	provider.SetUser(socialtest.User{Subject: "sub-1", Email: "tap@example.com", EmailVerified: true})
	login := func(typ, credential, nonce string) gqlResponse {
		return gql(t, m.URL(), `mutation ($t: LoginTypeEnum!, $c: String!, $n: String) {
			LoginWithCredential(input: {type: $t, credential: $c, nonce: $n, productListsUuids: []}) {
			showCartMergeInfo tokens { accessToken refreshToken } } }`, map[string]any{"t": typ, "c": credential, "n": nonce}, nil)
	}
	pair := login("google", provider.IDToken("n-1"), "n-1").loginResult(t, "LoginWithCredential")
	if r := gql(t, m.URL(), `{ currentCustomerUser { loginInfo { loginType externalId } } }`, nil, bearer(pair.AccessToken)); !strings.Contains(string(r.Raw), `{"loginType":"google","externalId":"sub-1"}`) {
		t.Errorf("loginInfo: %s", r.Raw)
	}
	login("google", provider.IDToken("n-1"), "n-2").WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
	login("google", "forged.id.token", "").WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
	r := login("facebook", provider.IDToken(""), "")
	if len(r.Errors) == 0 || r.Errors[0].Extensions["userCode"] != auth.EValidation || !strings.Contains(string(r.Raw), `"input.type"`) {
		t.Errorf("facebook credential: %s", r.Raw)
	}
}

// TestCustomersShowSocial: customers show lists the linked identities and whether the email is
// verified; customers delete erases the identity, so it registers anew afterwards.
func TestCustomersShowSocial(t *testing.T) {
	m, provider := socialServer(t)
	provider.SetUser(socialtest.User{Subject: "sub-show", Email: "show@example.com", EmailVerified: true})
	if landed, _ := newBrowser(t).login(m, url.Values{}); landed.Query().Get("isRegistration") != "true" {
		t.Fatalf("landed on %s", landed)
	}
	code, stdout, stderr := runArgs(t, "", "customers", "show", "show@example.com", "--db", m.DBPath)
	if code != 0 || !regexp.MustCompile(`(?m)^verified +yes\npassword +no\n`).MatchString(stdout) ||
		!regexp.MustCompile(`(?m)^google +sub-show +show@example\.com +`).MatchString(stdout) {
		t.Errorf("customers show: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runArgs(t, "", "customers", "show", "show@example.com", "--json", "--db", m.DBPath)
	if code != 0 || !strings.Contains(stdout, `"emailVerified": true`) || !strings.Contains(stdout, `"externalId": "sub-show"`) {
		t.Errorf("customers show --json: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := runArgs(t, "", "customers", "delete", "show@example.com", "--db", m.DBPath); code != 0 {
		t.Fatalf("customers delete: %s", stderr)
	}
	if landed, _ := newBrowser(t).login(m, url.Values{}); landed.Query().Get("isRegistration") != "true" {
		t.Errorf("after delete, the identity did not register anew: %s", landed)
	}
}

// TestSeznamFedCMCredential: Seznam's FedCM code logs in through LoginWithCredential; Seznam
// vouches only for its own mailboxes, so a seznam.cz address registers verified and another not.
func TestSeznamFedCMCredential(t *testing.T) {
	szn := socialtest.NewSeznam(t)
	m := startAtIssuer(t, func(m *Main) {
		m.Config.Providers = []auth.IdentityProvider{social.NewSeznam(szn.ClientID, szn.ClientSecret, szn.URL, social.Options{Timeout: time.Second})}
	})
	for _, c := range []struct {
		email    string
		verified bool
	}{{"jan@seznam.cz", true}, {"jan@gmail.com", false}} {
		szn.SetUser(socialtest.User{Subject: "szn-" + c.email, Email: c.email})
		r := gql(t, m.URL(), `mutation ($c: String!) { LoginWithCredential(input: {type: seznam, credential: $c}) {
			showCartMergeInfo tokens { accessToken refreshToken } } }`, map[string]any{"c": szn.IssueCode()}, nil)
		pair := r.loginResult(t, "LoginWithCredential")
		me := gql(t, m.URL(), `{ currentCustomerUser { email emailVerified } }`, nil, bearer(pair.AccessToken))
		if want := fmt.Sprintf(`"emailVerified":%v`, c.verified); !strings.Contains(string(me.Raw), want) {
			t.Errorf("%s: %s, want %s", c.email, me.Raw, want)
		}
	}
	gql(t, m.URL(), `mutation { LoginWithCredential(input: {type: seznam, credential: "used-or-forged"}) { showCartMergeInfo } }`, nil, nil).
		WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
}
