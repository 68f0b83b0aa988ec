package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/cli"
	"shopauth/social/socialtest"
)

// socialFlagsMain parses serve's flags from args and builds the social login providers.
func socialFlagsMain(t *testing.T, args ...string) (*Main, error) {
	t.Helper()
	m := NewMain()
	m.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("db", "", "")
	var issuer, cors string
	m.registerServeFlags(fs, &issuer, &cors)
	if err := cli.ParseFlags(fs, args); err != nil {
		t.Fatalf("flags %v: %v", args, err)
	}
	return m, m.configureSocial(context.Background())
}

func appleKeyFile(t *testing.T) string {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	path := filepath.Join(t.TempDir(), "apple.p8")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSocialFlags: which flags turn which provider on, in LoginTypeEnum's order; a provider
// with some of its settings (or only its endpoint override) is refused naming what it lacks.
func TestSocialFlags(t *testing.T) {
	p8 := appleKeyFile(t)
	notKey := filepath.Join(t.TempDir(), "not.p8")
	os.WriteFile(notKey, []byte("hello"), 0o600)
	all := []string{"--google-client-id", "g", "--google-client-secret", "gs",
		"--apple-client-id", "cz.shop.login,cz.shop.ios", "--apple-team-id", "T", "--apple-key-id", "K", "--apple-private-key", p8,
		"--facebook-client-id", "f", "--facebook-client-secret", "fs",
		"--seznam-client-id", "s", "--seznam-client-secret", "ss",
		"--oidc-issuer", "https://sso.example.com", "--oidc-client-id", "o", "--oidc-client-secret", "os", "--oidc-label", "Shop SSO"}
	cases := []struct {
		name    string
		args    []string
		types   []string
		wantErr string
	}{
		{name: "none", types: nil},
		{name: "all", args: all, types: []string{"facebook", "google", "seznam", "apple", "oidc"}},
		{name: "google", args: []string{"--google-client-id", "g", "--google-client-secret", "gs"}, types: []string{"google"}},
		{name: "google without secret", args: []string{"--google-client-id", "g"}, wantErr: "--google-client-secret"},
		{name: "google secret only", args: []string{"--google-client-secret", "gs"}, wantErr: "--google-client-id"},
		{name: "google issuer only", args: []string{"--google-issuer", "http://127.0.0.1:9"}, wantErr: "--google-client-id"},
		{name: "facebook without id", args: []string{"--facebook-client-secret", "x"}, wantErr: "--facebook-client-id"},
		{name: "facebook url only", args: []string{"--facebook-url", "http://127.0.0.1:9"}, wantErr: "--facebook-url is set"},
		{name: "seznam without secret", args: []string{"--seznam-client-id", "s"}, wantErr: "--seznam-client-secret"},
		{name: "apple without key", args: []string{"--apple-client-id", "a", "--apple-team-id", "T", "--apple-key-id", "K"}, wantErr: "--apple-private-key"},
		{name: "apple without team", args: []string{"--apple-client-id", "a", "--apple-key-id", "K", "--apple-private-key", p8}, wantErr: "--apple-team-id"},
		{name: "apple key missing", args: []string{"--apple-client-id", "a", "--apple-team-id", "T", "--apple-key-id", "K", "--apple-private-key", "/nonexistent/apple.p8"}, wantErr: "--apple-private-key: open /nonexistent/apple.p8"},
		{name: "apple key not a key", args: []string{"--apple-client-id", "a", "--apple-team-id", "T", "--apple-key-id", "K", "--apple-private-key", notKey}, wantErr: "not a PEM file"},
		{name: "oidc without issuer", args: []string{"--oidc-client-id", "o", "--oidc-client-secret", "os"}, wantErr: "--oidc-issuer"},
		{name: "oidc label only", args: []string{"--oidc-label", "SSO"}, wantErr: "--oidc-label is set"},
		{name: "oidc issuer not a URL", args: []string{"--oidc-issuer", "sso.example.com", "--oidc-client-id", "o", "--oidc-client-secret", "os"}, wantErr: `--oidc-issuer "sso.example.com" must be an absolute http(s) URL`},
		{name: "redirect URL relative", args: []string{"--social-redirect-url", "/social-login"}, wantErr: "--social-redirect-url"},
		{name: "redirect URL", args: []string{"--social-redirect-url", "https://shop.cz/social-login"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := socialFlagsMain(t, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, p := range m.Config.Providers {
				types = append(types, p.Type())
			}
			if !slices.Equal(types, tc.types) {
				t.Fatalf("providers %v, want %v", types, tc.types)
			}
		})
	}
	m, err := socialFlagsMain(t, all...)
	if err != nil {
		t.Fatal(err)
	}
	if l := m.Config.Providers[4].Label(); l != "Shop SSO" {
		t.Errorf("oidc label %q", l)
	}
}

// TestSocialFlagsFromEnvironment: the SHOPAUTH_* variables configure a provider as the flags do,
// and a half-configured one from the environment is refused the same way.
func TestSocialFlagsFromEnvironment(t *testing.T) {
	t.Setenv("SHOPAUTH_SEZNAM_CLIENT_ID", "s")
	t.Setenv("SHOPAUTH_SEZNAM_CLIENT_SECRET", "ss")
	t.Setenv("SHOPAUTH_SOCIAL_REDIRECT_URL", "https://shop.cz/social-login")
	m, err := socialFlagsMain(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Config.Providers) != 1 || m.Config.Providers[0].Type() != auth.LoginTypeSeznam || m.Config.SocialRedirectURL != "https://shop.cz/social-login" {
		t.Fatalf("providers %v, redirect %q", m.Config.Providers, m.Config.SocialRedirectURL)
	}
	t.Setenv("SHOPAUTH_SEZNAM_CLIENT_SECRET", "")
	if _, err := socialFlagsMain(t); err == nil || !strings.Contains(err.Error(), "--seznam-client-secret") {
		t.Fatalf("half-configured Seznam from the environment: %v", err)
	}
}

// TestServeRefusesHalfConfiguredProvider: serve exits 2 naming the missing flag, before it creates
// a database.
func TestServeRefusesHalfConfiguredProvider(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shopauth.db")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath,
		"--apple-client-id", "cz.shop.login", "--apple-team-id", "T"}, nil, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "--apple-key-id") {
		t.Fatalf("exit %d, stderr %q: want 2 naming --apple-key-id", code, errOut.String())
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Fatalf("a refused start left a database: %v", err)
	}
}

// socialStandIns starts a stand-in of every provider and returns the serve flags that point
// shopauth at them, as an operator would at a private deployment.
func socialStandIns(t *testing.T) (flags []string, google, oidc *socialtest.OIDC, apple *socialtest.OIDC, fb *socialtest.Facebook, szn *socialtest.Seznam) {
	google, oidc, fb, szn = socialtest.NewOIDC(t), socialtest.NewOIDC(t), socialtest.NewFacebook(t), socialtest.NewSeznam(t)
	apple, p8 := socialtest.NewApple(t)
	keyFile := filepath.Join(t.TempDir(), "apple.p8")
	if err := os.WriteFile(keyFile, p8, 0o600); err != nil {
		t.Fatal(err)
	}
	flags = []string{
		"--google-issuer", google.URL, "--google-client-id", google.ClientID, "--google-client-secret", google.ClientSecret,
		"--apple-issuer", apple.URL, "--apple-client-id", apple.ClientID, "--apple-team-id", socialtest.AppleTeamID,
		"--apple-key-id", socialtest.AppleKeyID, "--apple-private-key", keyFile,
		"--facebook-url", fb.URL, "--facebook-client-id", fb.ClientID, "--facebook-client-secret", fb.ClientSecret,
		"--seznam-url", szn.URL, "--seznam-client-id", szn.ClientID, "--seznam-client-secret", szn.ClientSecret,
		"--oidc-issuer", oidc.URL, "--oidc-client-id", oidc.ClientID, "--oidc-client-secret", oidc.ClientSecret, "--oidc-label", "Shop SSO",
	}
	return
}

// TestSocialLoginThroughEachProvider: with every provider configured by its flags and pointed at
// its stand-in, a login through each (start, the provider, the callback, the hand-off code) first
// registers the customer, then logs the same identity in again; the stand-ins check the PKCE
// verifier, the client secret (Apple's signed one) and the redirect URI. A provider that hangs or
// sends a bad id_token ends the login with reason=provider-error.
func TestSocialLoginThroughEachProvider(t *testing.T) {
	flags, google, oidc, apple, fb, szn := socialStandIns(t)
	configured, err := socialFlagsMain(t, flags...)
	if err != nil {
		t.Fatal(err)
	}
	m := startServer(t, func(m *Main) {
		m.Config.Providers = configured.Config.Providers
		m.Config.ProviderTimeout = 2 * time.Second
	})
	ctx := context.Background()
	login := func(t *testing.T, typ string) url.Values {
		t.Helper()
		start, err := m.Service.StartSocialLogin(ctx, typ, url.Values{}, "")
		if err != nil {
			t.Fatal(err)
		}
		back, err := socialtest.Authorize(start.URL)
		if err != nil {
			t.Fatalf("%s: %v", start.URL, err)
		}
		end, err := m.Service.FinishSocialLogin(ctx, typ, auth.SocialCallback{State: back.Get("state"), Browser: start.Browser,
			Code: back.Get("code"), User: back.Get("user"), Error: back.Get("error")})
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(end)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query()
	}
	users := map[string]func(socialtest.User){"google": google.SetUser, "apple": apple.SetUser, "oidc": oidc.SetUser,
		"facebook": fb.SetUser, "seznam": szn.SetUser}
	for _, typ := range auth.SocialTypes {
		t.Run(typ, func(t *testing.T) {
			users[typ](socialtest.User{Subject: "sub-" + typ, Email: typ + "@seznam.cz", EmailVerified: true, FirstName: "Jana", LastName: "Nováková"})
			for i, registration := range []string{"true", "false"} {
				q := login(t, typ)
				if q.Get("code") == "" || q.Get("isRegistration") != registration {
					t.Fatalf("login %d ended with %v, want a code and isRegistration=%s", i+1, q, registration)
				}
				res, err := m.Service.LoginWithSocialCode(ctx, q.Get("code"), "")
				if err != nil || res.Tokens.AccessToken == "" {
					t.Fatalf("LoginWithSocialCode: %v", err)
				}
			}
		})
	}
	faults := []struct {
		typ   string
		fault func(socialtest.Fault)
		f     socialtest.Fault
	}{
		{"google", google.SetFault, socialtest.WrongNonce},
		{"apple", apple.SetFault, socialtest.Expired},
		{"oidc", oidc.SetFault, socialtest.WrongKey},
		{"facebook", fb.SetFault, socialtest.Hang},
		{"seznam", szn.SetFault, socialtest.HugeProfile},
	}
	for _, tc := range faults {
		t.Run(tc.typ+"/"+string(tc.f), func(t *testing.T) {
			tc.fault(tc.f)
			defer tc.fault(socialtest.NoFault)
			if q := login(t, tc.typ); q.Get("reason") != "provider-error" || q.Has("code") {
				t.Fatalf("ended with %v, want reason=provider-error", q)
			}
		})
	}
	t.Run("credentials", func(t *testing.T) {
		for typ, cred := range map[string]string{"google": google.IDToken("n"), "apple": apple.IDToken("n"), "oidc": oidc.IDToken("n"), "seznam": szn.IssueCode()} {
			res, err := m.Service.LoginWithCredential(ctx, auth.CredentialInput{Type: typ, Credential: cred, Nonce: "n"})
			if err != nil || res.Tokens.AccessToken == "" {
				t.Errorf("%s credential: %v", typ, err)
			}
		}
		google.SetFault(socialtest.WrongAudience)
		defer google.SetFault(socialtest.NoFault)
		if _, err := m.Service.LoginWithCredential(ctx, auth.CredentialInput{Type: "google", Credential: google.IDToken("n"), Nonce: "n"}); err == nil {
			t.Error("an id_token for another client logged in")
		}
	})
}

// TestAppleLoginThroughFormPost: Sign in with Apple through the real server: the start redirects to
// the Apple stand-in with response_mode=form_post, the stand-in's page posts code, state and the
// user field back to the same path, and the customer registered from it has Apple's name (sent
// only then) and a verified email (Apple's email_verified is the string "true").
func TestAppleLoginThroughFormPost(t *testing.T) {
	apple, p8 := socialtest.NewApple(t)
	keyFile := filepath.Join(t.TempDir(), "apple.p8")
	if err := os.WriteFile(keyFile, p8, 0o600); err != nil {
		t.Fatal(err)
	}
	apple.SetUser(socialtest.User{Subject: "001234.abcd", Email: "jana@privaterelay.appleid.com", EmailVerified: "true", FirstName: "Jana", LastName: "Nováková"})
	configured, err := socialFlagsMain(t, "--apple-issuer", apple.URL, "--apple-client-id", apple.ClientID+",cz.shop.ios",
		"--apple-team-id", socialtest.AppleTeamID, "--apple-key-id", socialtest.AppleKeyID, "--apple-private-key", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	m := startServer(t, func(m *Main) { m.Config.Providers = configured.Config.Providers })
	b := newBrowser(t)
	res, err := b.client.Get(m.URL() + auth.SocialPath + "apple")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	authorize := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(authorize, apple.URL) || !strings.Contains(authorize, "response_mode=form_post") {
		t.Fatalf("start answered %d to %q", res.StatusCode, authorize)
	}
	form, err := socialtest.Authorize(authorize)
	if err != nil || form.Get("user") == "" {
		t.Fatalf("the stand-in's form_post page: %v, %v", form, err)
	}
	res, err = b.client.PostForm(m.URL()+auth.SocialPath+"apple", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	landed, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || landed.Query().Get("code") == "" || landed.Query().Get("isRegistration") != "true" {
		t.Fatalf("callback answered %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	result, err := m.Service.LoginWithSocialCode(context.Background(), landed.Query().Get("code"), "")
	if err != nil {
		t.Fatal(err)
	}
	me := gql(t, m.URL()+"/graphql", `{ currentCustomerUser { firstName lastName email emailVerified } }`, nil, bearer(result.Tokens.AccessToken))
	var got struct {
		CurrentCustomerUser struct {
			FirstName, LastName, Email string
			EmailVerified              bool
		}
	}
	if err := json.Unmarshal(me.Raw, &struct{ Data any }{&got}); err != nil {
		t.Fatalf("%s: %v", me.Raw, err)
	}
	if c := got.CurrentCustomerUser; c.FirstName != "Jana" || c.LastName != "Nováková" || c.Email != "jana@privaterelay.appleid.com" || !c.EmailVerified {
		t.Fatalf("customer %+v from %s", c, me.Raw)
	}
}
