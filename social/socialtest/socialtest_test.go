package socialtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAuthorizeRefusals: the stand-ins refuse an authorization request a real provider would (or
// that an adapter must never send: no S256 PKCE), so an adapter that sends one fails its tests.
func TestAuthorizeRefusals(t *testing.T) {
	p := NewSeznam(t)
	good := url.Values{"client_id": {p.ClientID}, "response_type": {"code"}, "redirect_uri": {"https://shop.cz/cb"},
		"state": {"s"}, "code_challenge": {"abc"}, "code_challenge_method": {"S256"}}
	cases := []struct {
		name   string
		change func(url.Values)
		status int
	}{
		{"good", func(url.Values) {}, http.StatusFound},
		{"unknown client", func(q url.Values) { q.Set("client_id", "x") }, http.StatusBadRequest},
		{"relative redirect_uri", func(q url.Values) { q.Set("redirect_uri", "/cb") }, http.StatusBadRequest},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge") }, http.StatusBadRequest},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, http.StatusBadRequest},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "token") }, http.StatusBadRequest},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range cases {
		q := url.Values{}
		for k, v := range good {
			q[k] = append([]string(nil), v...)
		}
		tc.change(q)
		resp, err := client.Get(p.URL + SeznamAuthorizePath + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
	p.SetFault(Cancel)
	resp, err := client.Get(p.URL + SeznamAuthorizePath + "?" + good.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=access_denied") || strings.Contains(loc, "code=") {
		t.Errorf("cancelled login went back to %s", loc)
	}
}

// TestTokenClientAuthentication: the token endpoint takes the client's secret by HTTP Basic or in
// the form, and refuses a wrong one either way.
func TestTokenClientAuthentication(t *testing.T) {
	p := NewFacebook(t)
	for _, tc := range []struct {
		name   string
		basic  bool
		secret string
		ok     bool
	}{{"basic", true, p.ClientSecret, true}, {"form", false, p.ClientSecret, true},
		{"basic, wrong", true, "wrong", false}, {"form, wrong", false, "wrong", false}} {
		code := p.IssueCode()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
		if !tc.basic {
			form.Set("client_id", p.ClientID)
			form.Set("client_secret", tc.secret)
		}
		req, _ := http.NewRequest(http.MethodPost, p.URL+FacebookTokenPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.basic {
			req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(tc.secret))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if (resp.StatusCode == http.StatusOK) != tc.ok {
			t.Errorf("%s: %d", tc.name, resp.StatusCode)
		}
	}
}
