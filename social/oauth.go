package social

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"shopauth/auth"
)

// OAuth2 is a provider without OpenID Connect (Facebook, Seznam): the code flow with PKCE, then
// the identity from its profile API.
type OAuth2 struct {
	typ, label string
	conf       oauth2.Config
	// profileURL is where the profile is read with the access token.
	profileURL func(accessToken string) string
	identity   func(profile []byte) (auth.Identity, error)
	// credential: VerifyCredential exchanges a FedCM code (Seznam); otherwise it takes none.
	credential bool
	opts       Options
	client     *http.Client
}

func (p *OAuth2) Type() string  { return p.typ }
func (p *OAuth2) Label() string { return p.label }

// AuthCodeURL ignores nonce: a plain OAuth 2 provider has no id_token to carry it.
func (p *OAuth2) AuthCodeURL(state, _, verifier, redirectURI string) string {
	conf := p.conf
	conf.RedirectURL = redirectURI
	return conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

func (p *OAuth2) Exchange(ctx context.Context, cb auth.Callback, verifier, redirectURI, _ string) (auth.Identity, error) {
	if cb.Code == "" {
		return auth.Identity{}, providerError(p.typ, "callback", errors.New("no code"))
	}
	return p.exchange(ctx, cb.Code, verifier, redirectURI)
}

// VerifyCredential exchanges Seznam's FedCM authorization code, without redirect_uri and PKCE as
// FedCM issues it; Facebook takes no credential.
func (p *OAuth2) VerifyCredential(ctx context.Context, credential, _ string) (auth.Identity, error) {
	if !p.credential {
		return auth.Identity{}, auth.ErrCredentialType
	}
	if credential == "" {
		return auth.Identity{}, providerError(p.typ, "credential", errors.New("no code"))
	}
	return p.exchange(ctx, credential, "", "")
}

func (p *OAuth2) exchange(ctx context.Context, code, verifier, redirectURI string) (auth.Identity, error) {
	ctx, cancel := p.opts.bounded(ctx, p.client)
	defer cancel()
	conf := p.conf
	conf.RedirectURL = redirectURI // "" leaves redirect_uri out of the request
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	tok, err := conf.Exchange(ctx, code, opts...)
	if err != nil {
		return auth.Identity{}, providerError(p.typ, "token", err)
	}
	body, err := getJSON(ctx, p.client, p.profileURL(tok.AccessToken), tok.AccessToken)
	if err != nil {
		return auth.Identity{}, providerError(p.typ, "profile", err)
	}
	id, err := p.identity(body)
	if err != nil {
		return auth.Identity{}, providerError(p.typ, "profile", err)
	}
	id.Type = p.typ
	id.Email = strings.TrimSpace(id.Email)
	if id.Subject == "" {
		return auth.Identity{}, providerError(p.typ, "profile", errors.New("no user id"))
	}
	return id, nil
}

// Facebook's endpoints (unversioned: the app's own Graph API version applies).
const (
	facebookDialogURL = "https://www.facebook.com"
	facebookGraphURL  = "https://graph.facebook.com"
)

// NewFacebook is Facebook Login: OAuth 2, then the Graph API's /me. baseURL, when set (a stand-in,
// a proxy), replaces both www.facebook.com and graph.facebook.com. Facebook never vouches for the
// email: a Facebook account's address may never have been confirmed.
func NewFacebook(clientID, clientSecret, baseURL string, o Options) *OAuth2 {
	dialog, graph := facebookDialogURL, facebookGraphURL
	if baseURL != "" {
		dialog, graph = strings.TrimSuffix(baseURL, "/"), strings.TrimSuffix(baseURL, "/")
	}
	o = o.withDefaults()
	return &OAuth2{typ: auth.LoginTypeFacebook, label: "Facebook",
		conf: oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Scopes: []string{"email"},
			Endpoint: oauth2.Endpoint{AuthURL: dialog + "/dialog/oauth", TokenURL: graph + "/oauth/access_token",
				AuthStyle: oauth2.AuthStyleInParams}},
		profileURL: func(accessToken string) string {
			// appsecret_proof ties the call to this app's secret, so a token stolen from another
			// app cannot read the profile through us.
			mac := hmac.New(sha256.New, []byte(clientSecret))
			mac.Write([]byte(accessToken))
			return graph + "/me?" + url.Values{"fields": {"id,email,first_name,last_name"},
				"appsecret_proof": {hex.EncodeToString(mac.Sum(nil))}}.Encode()
		},
		identity: func(body []byte) (auth.Identity, error) {
			var me struct {
				ID        idString `json:"id"`
				Email     string   `json:"email"`
				FirstName string   `json:"first_name"`
				LastName  string   `json:"last_name"`
			}
			if err := decodeJSON(body, &me); err != nil {
				return auth.Identity{}, err
			}
			return auth.Identity{Subject: string(me.ID), Email: me.Email, FirstName: me.FirstName, LastName: me.LastName}, nil
		},
		opts: o, client: o.httpClient()}
}

// SeznamURL is Seznam's OAuth server.
const SeznamURL = "https://login.szn.cz"

// seznamMailboxes are the domains whose mailboxes Seznam itself runs: only for them does a Seznam
// login prove the address.
var seznamMailboxes = []string{"seznam.cz", "email.cz", "post.cz"}

// NewSeznam is Přihlášení přes Seznam: OAuth 2 at baseURL (SeznamURL unless a stand-in), scope
// identity, the profile from /api/v1/user. Seznam vouches only for its own mailboxes.
func NewSeznam(clientID, clientSecret, baseURL string, o Options) *OAuth2 {
	if baseURL == "" {
		baseURL = SeznamURL
	}
	baseURL = strings.TrimSuffix(baseURL, "/")
	o = o.withDefaults()
	return &OAuth2{typ: auth.LoginTypeSeznam, label: "Seznam", credential: true,
		conf: oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Scopes: []string{"identity"},
			Endpoint: oauth2.Endpoint{AuthURL: baseURL + "/api/v1/oauth/auth", TokenURL: baseURL + "/api/v1/oauth/token",
				AuthStyle: oauth2.AuthStyleInParams}},
		profileURL: func(string) string { return baseURL + "/api/v1/user" },
		identity:   seznamIdentity,
		opts:       o, client: o.httpClient()}
}

func seznamIdentity(body []byte) (auth.Identity, error) {
	var u struct {
		ID        idString `json:"oauth_user_id"`
		Email     string   `json:"email"`
		Username  string   `json:"username"`
		Domain    string   `json:"domain"`
		FirstName string   `json:"firstname"`
		LastName  string   `json:"lastname"`
	}
	if err := decodeJSON(body, &u); err != nil {
		return auth.Identity{}, err
	}
	email := strings.TrimSpace(u.Email)
	if email == "" && u.Username != "" && u.Domain != "" {
		email = u.Username + "@" + u.Domain // the account's own mailbox, as Shopsys reads it
	}
	return auth.Identity{Subject: string(u.ID), Email: email, EmailVerified: SeznamVouches(email),
		FirstName: u.FirstName, LastName: u.LastName}, nil
}

// SeznamVouches reports whether a Seznam login proves the address: only for a mailbox Seznam runs.
func SeznamVouches(email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return false
	}
	domain := strings.ToLower(email[at+1:])
	for _, d := range seznamMailboxes {
		if domain == d {
			return true
		}
	}
	return false
}

func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("profile is not the expected JSON: %w", err)
	}
	return nil
}

// idString is a user id sent as a JSON string or number; anything else is an error.
type idString string

func (s *idString) UnmarshalJSON(data []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		*s = idString(v)
	case json.Number:
		*s = idString(v.String())
	case nil:
		*s = ""
	default:
		return fmt.Errorf("user id %s is neither a string nor a number", data)
	}
	return nil
}
