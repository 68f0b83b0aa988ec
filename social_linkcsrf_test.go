package main

import (
	"encoding/json"
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
