package social

import (
	"errors"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"shopauth/auth"
	"shopauth/social/socialtest"
)

const redirectURI = "https://auth.shop.cz/social-network/login/x"

// browse follows authURL to the stand-in's authorize endpoint, as a browser would, and returns
// what it sends back to the redirect URI.
func browse(t *testing.T, authURL string) url.Values {
	t.Helper()
	if authURL == "" {
		t.Fatal("AuthCodeURL returned no URL")
	}
	back, err := socialtest.Authorize(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return back
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
