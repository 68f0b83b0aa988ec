package social

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"golang.org/x/oauth2"

	"shopauth/auth"
)

const redirectURI = "https://auth.shop.cz/social-network/login/x"

// browse follows authURL to the stand-in's authorize endpoint, as a browser would, and returns
// what it sends back to the redirect URI: the query of its 302, or the fields of its form_post page.
func browse(t *testing.T, authURL string) url.Values {
	t.Helper()
	if authURL == "" {
		t.Fatal("AuthCodeURL returned no URL")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusFound:
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		return loc.Query()
	case http.StatusOK:
		fields := url.Values{}
		for _, m := range regexp.MustCompile(`name="([^"]*)" value="([^"]*)"`).FindAllStringSubmatch(string(body), -1) {
			fields.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		return fields
	}
	t.Fatalf("authorize answered %s: %s", resp.Status, body)
	return nil
}

// login runs the browser half of a flow and returns the callback and the verifier it used.
func login(t *testing.T, p auth.IdentityProvider, nonce string) (auth.Callback, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	back := browse(t, p.AuthCodeURL("state-1", nonce, verifier, redirectURI))
	if back.Get("state") != "state-1" {
		t.Fatalf("state came back as %q", back.Get("state"))
	}
	return auth.Callback{Code: back.Get("code"), User: back.Get("user")}, verifier
}

func wantProviderError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, auth.ErrProvider) {
		t.Fatalf("error %v does not wrap auth.ErrProvider", err)
	}
}
