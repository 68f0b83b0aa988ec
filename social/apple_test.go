package social

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"shopauth/auth"
	"shopauth/social/socialtest"
)

func newApple(t *testing.T, sp *socialtest.OIDC, keyPEM []byte, clientIDs ...string) *OIDC {
	t.Helper()
	key, err := ParseAppleKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewApple(AppleConfig{ClientIDs: append([]string{sp.ClientID}, clientIDs...), TeamID: socialtest.AppleTeamID,
		KeyID: socialtest.AppleKeyID, Key: key, Issuer: sp.URL}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAppleLogin: response_mode=form_post and scope "name email"; the client secret is an ES256
// JWT the stand-in verifies as Apple does; the name arrives in the user field of the first
// callback only, the email (verified as the string "true") from the id_token only.
func TestAppleLogin(t *testing.T) {
	sp, keyPEM := socialtest.NewApple(t)
	p := newApple(t, sp, keyPEM)
	u, _ := url.Parse(p.AuthCodeURL("state-1", "n", "verifier-verifier-verifier-verifier-verifier", redirectURI))
	if q := u.Query(); q.Get("response_mode") != "form_post" || q.Get("scope") != "name email" {
		t.Fatalf("authorize query %v: want response_mode=form_post and scope \"name email\"", q)
	}
	cb, verifier := login(t, p, "n")
	if cb.User == "" {
		t.Fatal("the first callback carried no user field")
	}
	id, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "n")
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Identity{Type: "apple", Subject: socialtest.DefaultUser.Subject, Email: "jane@example.com",
		EmailVerified: true, FirstName: "Jane", LastName: "Doe"}
	if id != want {
		t.Fatalf("identity %+v, want %+v", id, want)
	}
	cb, verifier = login(t, p, "n")
	if cb.User != "" {
		t.Fatalf("the second callback carried the name again: %s", cb.User)
	}
	id, err = p.Exchange(context.Background(), cb, verifier, redirectURI, "n")
	if err != nil || id.FirstName != "" || id.Email != "jane@example.com" {
		t.Fatalf("second login: %+v, %v", id, err)
	}
}

// TestAppleUserField: the user field only ever gives names; its email is ignored and a field that
// does not parse leaves the names empty rather than failing the login.
func TestAppleUserField(t *testing.T) {
	cases := []struct{ user, first, last string }{
		{`{"name":{"firstName":"Jan","lastName":"Novák"},"email":"attacker@example.com"}`, "Jan", "Novák"},
		{`{"name":{"firstName":"Jan"}}`, "Jan", ""},
		{`not json`, "", ""},
		{`{"name":"Jan"}`, "", ""},
	}
	for _, tc := range cases {
		if first, last := appleName(tc.user, "", ""); first != tc.first || last != tc.last {
			t.Errorf("%s: %q %q, want %q %q", tc.user, first, last, tc.first, tc.last)
		}
	}
	sp, keyPEM := socialtest.NewApple(t)
	p := newApple(t, sp, keyPEM)
	cb, verifier := login(t, p, "n")
	cb.User = `{"name":{"firstName":"Eve"},"email":"attacker@example.com"}`
	id, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "n")
	if err != nil || id.Email != "jane@example.com" || id.FirstName != "Eve" {
		t.Fatalf("identity %+v, %v: the email must be the id_token's", id, err)
	}
}

// TestAppleClientSecret: another team's key is refused by Apple (the stand-in); the secret's
// header and claims are what Apple requires, and it lives minutes.
func TestAppleClientSecret(t *testing.T) {
	sp, _ := socialtest.NewApple(t)
	_, otherPEM := socialtest.NewApple(t)
	p := newApple(t, sp, otherPEM)
	cb, verifier := login(t, p, "n")
	_, err := p.Exchange(context.Background(), cb, verifier, redirectURI, "n")
	wantProviderError(t, err)

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	secret, err := appleClientSecret(AppleConfig{ClientIDs: []string{"cz.shop.login", "cz.shop.app"}, TeamID: "T", KeyID: "K", Key: key, Issuer: AppleIssuer}, now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(secret, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if h := tok.Headers[0]; h.KeyID != "K" || h.Algorithm != "ES256" {
		t.Errorf("header kid %q alg %q", h.KeyID, h.Algorithm)
	}
	var c jwt.Claims
	if err := tok.Claims(&key.PublicKey, &c); err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "T" || c.Subject != "cz.shop.login" || len(c.Audience) != 1 || c.Audience[0] != AppleIssuer ||
		c.IssuedAt.Time() != now || c.Expiry.Time() != now.Add(5*time.Minute) {
		t.Errorf("claims %+v", c)
	}
}

// TestAppleAudiences: an id_token for any of the configured client ids (the Services ID, an app's
// bundle id) is accepted; one for a client id not configured is not.
func TestAppleAudiences(t *testing.T) {
	sp, keyPEM := socialtest.NewApple(t)
	p := newApple(t, sp, keyPEM, "cz.shop.ios")
	services := sp.ClientID
	for _, tc := range []struct {
		aud string
		ok  bool
	}{{services, true}, {"cz.shop.ios", true}, {"cz.other.app", false}} {
		sp.ClientID = tc.aud // the stand-in signs for its client id
		_, err := p.VerifyCredential(context.Background(), sp.IDToken(""), "")
		if (err == nil) != tc.ok {
			t.Errorf("aud %q: err %v, want ok=%v", tc.aud, err, tc.ok)
		}
	}
	sp.ClientID = services
}

// TestParseAppleKey: only a PEM PKCS #8 P-256 key is taken.
func TestParseAppleKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, _ := x509.MarshalECPrivateKey(ec)
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"P-256 PKCS #8", pkcs8(ec), true},
		{"P-384", pkcs8(p384), false},
		{"RSA", pkcs8(rsaKey), false},
		{"SEC 1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), false},
		{"not PEM", []byte("hello"), false},
		{"empty", nil, false},
	}
	for _, tc := range cases {
		if _, err := ParseAppleKey(tc.data); (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if _, err := NewApple(AppleConfig{ClientIDs: []string{"x"}, TeamID: "T", KeyID: ""}, Options{}); err == nil {
		t.Error("NewApple without a key id was accepted")
	}
}
