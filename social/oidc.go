package social

import (
	"context"
	"crypto/ecdsa"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"shopauth/auth"
)

// Default issuers of the OpenID Connect providers.
const (
	GoogleIssuer = "https://accounts.google.com"
	AppleIssuer  = "https://appleid.apple.com"
)

// OIDC is an OpenID Connect provider (Google, Apple or the generic one). Discovery happens on
// first use (or at Discover), bounded by the timeout, and is retried at the next login when it
// failed: a provider that is down when the server starts is provider-error at login, not a server
// that cannot start.
type OIDC struct {
	typ, label, issuer string
	// clientIDs: the first logs in through the browser; every one is accepted as an id_token's aud
	// (Apple: the Services ID and the apps' bundle ids).
	clientIDs []string
	secret    func() (string, error)
	scopes    []string
	formPost  bool // Apple: the callback is a POST form, so the name field can come along
	opts      Options
	client    *http.Client
	log       *slog.Logger

	found       atomic.Pointer[discovered]
	discovering chan struct{} // one discovery at a time, waited for under the caller's context
}

type discovered struct {
	provider *oidc.Provider
	endpoint oauth2.Endpoint
}

// NewGoogle is Google's OpenID Connect provider at issuer (GoogleIssuer unless a stand-in).
func NewGoogle(clientID, clientSecret, issuer string, o Options) *OIDC {
	if issuer == "" {
		issuer = GoogleIssuer
	}
	return newOIDC(auth.LoginTypeGoogle, "Google", issuer, []string{clientID}, staticSecret(clientSecret), o)
}

// NewGenericOIDC is the one generic OpenID Connect provider (type oidc); label is its button's
// text (default: the issuer's host).
func NewGenericOIDC(issuer, clientID, clientSecret, label string, o Options) *OIDC {
	if label == "" {
		label = issuer
		if u, err := url.Parse(issuer); err == nil && u.Host != "" {
			label = u.Host
		}
	}
	return newOIDC(auth.LoginTypeOIDC, label, issuer, []string{clientID}, staticSecret(clientSecret), o)
}

// AppleConfig is Sign in with Apple's configuration.
type AppleConfig struct {
	// ClientIDs: the Services ID first (the browser flow's client_id), then any app bundle ids
	// whose id_tokens LoginWithCredential accepts.
	ClientIDs []string
	TeamID    string
	KeyID     string
	Key       *ecdsa.PrivateKey // the .p8 key (ParseAppleKey)
	Issuer    string            // AppleIssuer unless a stand-in
}

// NewApple is Sign in with Apple: OpenID Connect with a client secret shopauth signs itself, the
// callback as a POST form (response_mode=form_post) and the name only in the first callback.
func NewApple(c AppleConfig, o Options) (*OIDC, error) {
	if len(c.ClientIDs) == 0 || c.TeamID == "" || c.KeyID == "" || c.Key == nil {
		return nil, errors.New("apple: client id, team id, key id and key are all required")
	}
	if c.Issuer == "" {
		c.Issuer = AppleIssuer
	}
	p := newOIDC(auth.LoginTypeApple, "Apple", c.Issuer, c.ClientIDs, nil, o)
	p.secret = func() (string, error) { return appleClientSecret(c, p.opts.Now()) }
	p.scopes = []string{"name", "email"}
	p.formPost = true
	return p, nil
}

func newOIDC(typ, label, issuer string, clientIDs []string, secret func() (string, error), o Options) *OIDC {
	o = o.withDefaults()
	return &OIDC{typ: typ, label: label, issuer: issuer, clientIDs: clientIDs, secret: secret,
		scopes: []string{oidc.ScopeOpenID, "email", "profile"}, opts: o, client: o.httpClient(), log: o.logger(),
		discovering: make(chan struct{}, 1)}
}

func staticSecret(s string) func() (string, error) { return func() (string, error) { return s, nil } }

func (p *OIDC) Type() string  { return p.typ }
func (p *OIDC) Label() string { return p.label }

// Discover fetches the discovery document unless it is already known. The server calls it at
// start so that the first login does not wait; a failure there is only logged.
func (p *OIDC) Discover(ctx context.Context) error {
	_, err := p.discover(ctx)
	return err
}

func (p *OIDC) discover(ctx context.Context) (*discovered, error) {
	if d := p.found.Load(); d != nil {
		return d, nil
	}
	select {
	case p.discovering <- struct{}{}:
		defer func() { <-p.discovering }()
	case <-ctx.Done():
		return nil, providerError(p.typ, "discovery", ctx.Err())
	}
	if d := p.found.Load(); d != nil { // found while this call waited
		return d, nil
	}
	ctx, cancel := p.opts.bounded(ctx, p.client)
	defer cancel()
	prov, err := oidc.NewProvider(ctx, p.issuer)
	if err != nil {
		return nil, providerError(p.typ, "discovery", err)
	}
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := prov.Claims(&meta); err != nil {
		return nil, providerError(p.typ, "discovery", err)
	}
	endpoint := prov.Endpoint()
	if endpoint.AuthURL == "" || endpoint.TokenURL == "" {
		return nil, providerError(p.typ, "discovery", errors.New("the document names no authorization or token endpoint"))
	}
	// client_secret_basic is the default (OpenID Connect Discovery §3); Apple only takes the form.
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	if len(meta.AuthMethods) > 0 && !slices.Contains(meta.AuthMethods, "client_secret_basic") &&
		slices.Contains(meta.AuthMethods, "client_secret_post") {
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	d := &discovered{provider: prov, endpoint: endpoint}
	p.found.Store(d)
	return d, nil
}

// AuthCodeURL returns "" when the provider's discovery fails (logged): the caller ends the flow
// with provider-error.
func (p *OIDC) AuthCodeURL(state, nonce, verifier, redirectURI string) string {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.Timeout)
	defer cancel()
	d, err := p.discover(ctx)
	if err != nil {
		p.log.Warn("social login provider unavailable", "type", p.typ, "err", err)
		return ""
	}
	conf := oauth2.Config{ClientID: p.clientIDs[0], Endpoint: d.endpoint, RedirectURL: redirectURI, Scopes: p.scopes}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if nonce != "" {
		opts = append(opts, oidc.Nonce(nonce))
	}
	if p.formPost {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", "form_post"))
	}
	return conf.AuthCodeURL(state, opts...)
}

// Exchange trades the code for tokens and takes the identity from the id_token alone (never from
// userinfo: email and email_verified must come from the same signed document).
func (p *OIDC) Exchange(ctx context.Context, cb auth.Callback, verifier, redirectURI, nonce string) (auth.Identity, error) {
	if cb.Code == "" {
		return auth.Identity{}, providerError(p.typ, "callback", errors.New("no code"))
	}
	if nonce == "" { // a browser flow always sends one; without it a replayed id_token would pass
		return auth.Identity{}, providerError(p.typ, "callback", errors.New("no nonce to check the id_token against"))
	}
	ctx, cancel := p.opts.bounded(ctx, p.client)
	defer cancel()
	d, err := p.discover(ctx)
	if err != nil {
		return auth.Identity{}, err
	}
	secret, err := p.secret()
	if err != nil {
		return auth.Identity{}, providerError(p.typ, "client secret", err)
	}
	conf := oauth2.Config{ClientID: p.clientIDs[0], ClientSecret: secret, Endpoint: d.endpoint, RedirectURL: redirectURI}
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	tok, err := conf.Exchange(ctx, cb.Code, opts...)
	if err != nil {
		return auth.Identity{}, providerError(p.typ, "token", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return auth.Identity{}, providerError(p.typ, "token", errors.New("the answer holds no id_token"))
	}
	id, err := p.verify(ctx, d, raw, nonce)
	if err != nil {
		return auth.Identity{}, err
	}
	if p.formPost && cb.User != "" {
		id.FirstName, id.LastName = appleName(cb.User, id.FirstName, id.LastName)
	}
	return id, nil
}

// VerifyCredential checks an id_token presented directly (Google One Tap or FedCM, Sign in with
// Apple in an app, the generic provider's), its nonce when one is given.
func (p *OIDC) VerifyCredential(ctx context.Context, credential, nonce string) (auth.Identity, error) {
	ctx, cancel := p.opts.bounded(ctx, p.client)
	defer cancel()
	d, err := p.discover(ctx)
	if err != nil {
		return auth.Identity{}, err
	}
	return p.verify(ctx, d, credential, nonce)
}

// verify checks the id_token's signature (by the provider's JWKS, with the algorithms its
// discovery names: never none), iss, exp and nbf (go-oidc), then aud against every client id and
// the nonce (which go-oidc leaves to its caller).
func (p *OIDC) verify(ctx context.Context, d *discovered, raw, nonce string) (auth.Identity, error) {
	tok, err := d.provider.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: p.opts.Now}).Verify(ctx, raw)
	if err != nil {
		return auth.Identity{}, providerError(p.typ, "id_token", err)
	}
	var claims struct {
		AuthorizedParty string   `json:"azp"`
		Email           string   `json:"email"`
		EmailVerified   flexBool `json:"email_verified"`
		GivenName       string   `json:"given_name"`
		FamilyName      string   `json:"family_name"`
	}
	if err := tok.Claims(&claims); err != nil {
		return auth.Identity{}, providerError(p.typ, "id_token", err)
	}
	if !slices.ContainsFunc(tok.Audience, func(aud string) bool { return slices.Contains(p.clientIDs, aud) }) {
		return auth.Identity{}, providerError(p.typ, "id_token", fmt.Errorf("audience %q is none of this server's client ids", tok.Audience))
	}
	// With several audiences the token was issued to its azp (OpenID Connect Core §3.1.3.7).
	if len(tok.Audience) > 1 && !slices.Contains(p.clientIDs, claims.AuthorizedParty) {
		return auth.Identity{}, providerError(p.typ, "id_token", fmt.Errorf("authorized party %q is none of this server's client ids", claims.AuthorizedParty))
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
		return auth.Identity{}, providerError(p.typ, "id_token", errors.New("nonce does not match the one this login sent"))
	}
	if tok.Subject == "" {
		return auth.Identity{}, providerError(p.typ, "id_token", errors.New("no sub"))
	}
	return auth.Identity{Type: p.typ, Subject: tok.Subject, Email: strings.TrimSpace(claims.Email),
		EmailVerified: claims.Email != "" && bool(claims.EmailVerified),
		FirstName:     claims.GivenName, LastName: claims.FamilyName}, nil
}

// flexBool is email_verified as providers send it: true, or Apple's "true". Anything else,
// missing included, is false.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*b = flexBool(v)
	case string:
		*b = flexBool(strings.EqualFold(v, "true"))
	default:
		*b = false
	}
	return nil
}

// appleName reads the name from Apple's user form field ({"name":{"firstName":..,"lastName":..}}),
// sent on the first authorisation only. The email in that field is ignored: only the id_token's
// counts. A field that does not parse leaves the names as they were: they are cosmetic.
func appleName(user, first, last string) (string, string) {
	var u struct {
		Name struct {
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		} `json:"name"`
	}
	if len(user) > 4096 || json.Unmarshal([]byte(user), &u) != nil {
		return first, last
	}
	if f := strings.TrimSpace(u.Name.FirstName); f != "" {
		first = f
	}
	if l := strings.TrimSpace(u.Name.LastName); l != "" {
		last = l
	}
	return first, last
}
