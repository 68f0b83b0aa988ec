package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shopauth/auth"
	"shopauth/social/socialtest"
)

// TestSocialLinkURLNeedsConfirmation: a SocialLinkUrl sent to someone else (link CSRF) must not
// take their provider account straight to the maker's shop account. Opening it answers a page of
// shopauth's own naming the shop account; only that page's form, posted with its cookie, goes on.
func TestSocialLinkURLNeedsConfirmation(t *testing.T) {
	m, _ := socialServer(t)
	attacker := register(t, m.URL(), "attacker@example.com", "password-1")
	linkURL := func(redirect string) string {
		t.Helper()
		r := gql(t, m.URL(), `mutation ($r: String) { SocialLinkUrl(type: google, redirect: $r) }`,
			map[string]any{"r": redirect}, bearer(attacker.AccessToken))
		var u string
		if json.Unmarshal(r.Data["SocialLinkUrl"], &u) != nil || u == "" {
			t.Fatalf("SocialLinkUrl: %s", r.Raw)
		}
		return u
	}
	victim := newBrowser(t)
	raw := linkURL(`/cart"><script>alert(1)</script>`)
	res, err := victim.client.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != http.StatusOK || res.Header.Get("Location") != "" {
		t.Fatalf("opening a link URL: %d to %q, want the confirmation page", res.StatusCode, res.Header.Get("Location"))
	}
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("confirmation page CSP %q lacks %s", csp, want)
		}
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "a***@example.com") {
		t.Errorf("the page does not name the masked shop account: %s", body)
	}
	if strings.Contains(string(body), "<script>") || strings.Contains(string(body), "attacker@example.com") {
		t.Errorf("the page carries markup from the URL or the full address: %s", body)
	}

	// A cross-site form post carries no SameSite=Strict cookie; a forged token is refused too.
	base := strings.SplitN(raw, "?", 2)[0]
	link := must(url.Parse(raw)).Query().Get("link")
	for name, b := range map[string]*browser{"no cookie": newBrowser(t), "wrong token": victim} {
		res, err := b.client.PostForm(base, url.Values{"link": {link}, "csrf": {strings.Repeat("A", 43)}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: POST of the link form: %d (Location %q), want 403", name, res.StatusCode, res.Header.Get("Location"))
		}
	}

	// The confirmed link still works, once: it links the provider account to the maker.
	landed, _ := victim.visit(raw, m.URL()+"/account")
	if landed.Query().Get("code") == "" {
		t.Fatalf("confirmed link: %s", landed)
	}
	ids := gql(t, m.URL(), `{ socialIdentities { type } }`, nil, bearer(attacker.AccessToken))
	if !strings.Contains(string(ids.Data["socialIdentities"]), "google") {
		t.Errorf("the confirmed link linked nothing: %s", ids.Raw)
	}
	// A used or unknown link token answers the failure page, not a confirmation.
	for _, bad := range []string{raw, base + "?link=" + strings.Repeat("B", 43), base + "?link=x"} {
		res, err := newBrowser(t).client.Get(bad)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.Contains(loc, "reason="+auth.ReasonStateInvalid) {
			t.Errorf("GET %s: %d to %q, want the state-invalid failure", bad, res.StatusCode, loc)
		}
	}
}

// TestPreHijackerLinkedSameProvider: an attacker registers the victim's address with a password
// (never proven) and links their own Google account to it. The victim's Google login, which
// vouches for the address, must take the account back (linked, verified, the attacker's password,
// sessions and Google identity gone), not be refused as email-exists while the attacker keeps it.
func TestPreHijackerLinkedSameProvider(t *testing.T) {
	m, provider := socialServer(t)
	attacker := register(t, m.URL(), "victim@example.com", "attacker-password")
	r := gql(t, m.URL(), `mutation { SocialLinkUrl(type: google) }`, nil, bearer(attacker.AccessToken))
	var linkURL string
	if json.Unmarshal(r.Data["SocialLinkUrl"], &linkURL) != nil {
		t.Fatalf("SocialLinkUrl: %s", r.Raw)
	}
	provider.SetUser(socialtest.User{Subject: "sub-attacker", Email: "attacker@example.com", EmailVerified: true})
	if landed, _ := newBrowser(t).visit(linkURL, m.URL()+"/account"); landed.Query().Get("code") == "" {
		t.Fatalf("the attacker's link: %s", landed)
	}

	provider.SetUser(socialtest.User{Subject: "sub-victim", Email: "victim@example.com", EmailVerified: true})
	landed, _ := newBrowser(t).login(m, url.Values{})
	if landed.Query().Get("code") == "" {
		t.Fatalf("the victim's Google login was refused: %s", landed)
	}
	victim := exchange(t, m, landed.Query().Get("code"), "").loginResult(t, "LoginWithSocialCode")
	me := gql(t, m.URL(), `{ currentCustomerUser { email emailVerified } socialIdentities { externalId } }`, nil, bearer(victim.AccessToken))
	if !strings.Contains(string(me.Raw), `"emailVerified":true`) || !strings.Contains(string(me.Raw), `[{"externalId":"sub-victim"}]`) {
		t.Errorf("the victim's account: %s", me.Raw)
	}
	if r := login(t, m.URL(), "victim@example.com", "attacker-password"); len(r.Errors) == 0 {
		t.Errorf("the attacker's password still logs in: %s", r.Raw)
	}
	if r := refresh(t, m.URL(), attacker.RefreshToken); len(r.Errors) == 0 {
		t.Errorf("the attacker's session lives on: %s", r.Raw)
	}
	provider.SetUser(socialtest.User{Subject: "sub-attacker", Email: "attacker@example.com", EmailVerified: true})
	if landed, _ := newBrowser(t).login(m, url.Values{}); landed.Query().Get("isRegistration") != "true" {
		t.Errorf("the attacker's Google account still reaches an account: %s", landed)
	}
}

// TestSocialPathMalformed: whatever a client sends to the social path is a 4xx with a JSON body
// or the failure redirect, never a 5xx, a panic or a flow begun.
func TestSocialPathMalformed(t *testing.T) {
	m, _ := socialServer(t)
	path := m.URL() + auth.SocialPath
	huge := strings.Repeat("x", 200<<10)
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, url, contentType, body string
		want                                 int
	}{
		{"unknown type", "GET", path + "myspace", "", "", 404},
		{"unknown type, callback", "POST", path + "myspace", form, "state=a&code=b", 404},
		{"long type", "GET", path + strings.Repeat("g", 5000), "", "", 404},
		{"no type", "GET", path, "", "", 404},
		{"POST without a form", "POST", path + "google", "", "", 400},
		{"POST, JSON body", "POST", path + "google", "application/json", `{"state":"a"}`, 400},
		{"POST, multipart", "POST", path + "google", "multipart/form-data; boundary=x", "--x--", 400},
		{"POST, bad escape", "POST", path + "google", form, "state=%zz", 400},
		{"POST, over 64 KiB", "POST", path + "google", form, "state=" + huge, 400},
		{"GET, bad escape", "GET", path + "google?redirect=%zz", "", "", 400},
		{"PUT", "PUT", path + "google", form, "state=a", 405},
		{"plain PKCE", "GET", path + "google?code_challenge=abc&code_challenge_method=plain", "", "", 400},
		{"PKCE method without a challenge", "GET", path + "google?code_challenge_method=S256", "", "", 400},
		{"callback, repeated state", "GET", path + "google?state=a&state=b&code=c&code=d", "", "", 302},
		{"callback, huge state", "GET", path + "google?code=c&state=" + strings.Repeat("s", 60<<10), "", "", 302},
		{"callback, error only", "GET", path + "google?error=" + strings.Repeat("%0a", 1000), "", "", 302},
		{"link form without its cookie", "POST", path + "google", form, "link=x&csrf=y", 403},
		{"start, huge redirect", "GET", path + "google?redirect=/" + strings.Repeat("r", 60<<10), "", "", 302},
		{"link with a huge token", "GET", path + "google?link=" + strings.Repeat("l", 60<<10), "", "", 302},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			res, err := newBrowser(t).client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Fatalf("%d %s, want %d", res.StatusCode, cut(string(body), 300), tt.want)
			}
			if res.StatusCode >= 400 && res.StatusCode != 404 && !strings.Contains(string(body), `"errors"`) {
				t.Errorf("%d without a JSON error: %s", res.StatusCode, body)
			}
			if loc := res.Header.Get("Location"); res.StatusCode == 302 && len(loc) > 8<<10 {
				t.Errorf("a redirect of %d bytes", len(loc))
			}
		})
	}
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// TestImpersonationAddsNoWayToLogIn: an operator's "log in as" session lasts an hour; it must not
// leave the operator a way back in beyond it (their own Google account linked, their own passkey
// added), which would also be a backdoor no audit names them for.
func TestImpersonationAddsNoWayToLogIn(t *testing.T) {
	m, _ := socialServer(t)
	register(t, m.URL(), "jana@example.com", "password-1")
	ctx := context.Background()
	if _, err := m.Service.AddConsoleOperator(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	link, err := m.Service.ImpersonateAs(ctx, "ana", "jana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	code := must(url.Parse(link)).Query().Get("code")
	staff := exchange(t, m, code, "").loginResult(t, "LoginWithSocialCode")
	for _, op := range []string{`mutation { SocialLinkUrl(type: google) }`, `mutation { PasskeyRegistrationOptions }`,
		`mutation { RegisterPasskey(input: {credential: "{}"}) { id } }`} {
		r := gql(t, m.URL(), op, nil, bearer(staff.AccessToken))
		if len(r.Errors) == 0 || !strings.Contains(string(r.Raw), auth.EAdministratorLogin) {
			t.Errorf("%s as the staff: %s", op, r.Raw)
		}
	}
	// The customer's own session still may.
	own := login(t, m.URL(), "jana@example.com", "password-1")
	var tok struct{ AccessToken string }
	json.Unmarshal(own.Data["Login"], &tok)
	if r := gql(t, m.URL(), `mutation { SocialLinkUrl(type: google) }`, nil, bearer(tok.AccessToken)); len(r.Errors) > 0 {
		t.Errorf("the customer's own SocialLinkUrl: %s", r.Raw)
	}
}

// TestPreHijackerSendsLinkURL: an attacker registers the victim's address with a password and sends
// the victim the account's link URL. Its confirmation page shows the victim's own masked address, so
// the victim may well continue; their Google account vouching for the address must then take the
// account back (password and sessions gone), not leave the attacker a password to it.
func TestPreHijackerSendsLinkURL(t *testing.T) {
	m, provider := socialServer(t)
	attacker := register(t, m.URL(), "victim@example.com", "attacker-password")
	r := gql(t, m.URL(), `mutation { SocialLinkUrl(type: google) }`, nil, bearer(attacker.AccessToken))
	var linkURL string
	if json.Unmarshal(r.Data["SocialLinkUrl"], &linkURL) != nil {
		t.Fatalf("SocialLinkUrl: %s", r.Raw)
	}
	provider.SetUser(socialtest.User{Subject: "sub-victim", Email: "victim@example.com", EmailVerified: true})
	if landed, _ := newBrowser(t).visit(linkURL, m.URL()+"/account"); landed.Query().Get("code") == "" {
		t.Fatalf("the victim's confirmed link: %s", landed)
	}
	if r := login(t, m.URL(), "victim@example.com", "attacker-password"); len(r.Errors) == 0 {
		t.Errorf("the attacker's password still logs in: %s", r.Raw)
	}
	if r := refresh(t, m.URL(), attacker.RefreshToken); len(r.Errors) == 0 {
		t.Errorf("the attacker's session lives on: %s", r.Raw)
	}
	landed, _ := newBrowser(t).login(m, url.Values{})
	victim := exchange(t, m, landed.Query().Get("code"), "").loginResult(t, "LoginWithSocialCode")
	if me := gql(t, m.URL(), `{ currentCustomerUser { emailVerified } }`, nil, bearer(victim.AccessToken)); !strings.Contains(string(me.Raw), `"emailVerified":true`) {
		t.Errorf("the victim's account: %s", me.Raw)
	}
}

// TestLinkConfirmationThrottled: each look at a link token takes a write transaction, so an address
// looks as often as it may start flows (--login-failures-per-ip a minute), then 429.
func TestLinkConfirmationThrottled(t *testing.T) {
	m, _ := socialServer(t, func(m *Main) { m.Config.LoginFailuresPerIP = 3 })
	statuses := []int{}
	for range 4 {
		res, err := newBrowser(t).client.Get(m.URL() + auth.SocialPath + "google?link=" + strings.Repeat("B", 43))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
	}
	if fmt.Sprint(statuses) != "[302 302 302 429]" {
		t.Errorf("statuses %v, want [302 302 302 429]", statuses)
	}
}
