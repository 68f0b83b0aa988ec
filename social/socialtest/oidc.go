package socialtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// OIDC is a stand-in OpenID Connect provider: discovery at URL/.well-known/openid-configuration,
// authorize, token (with an id_token), JWKS and userinfo. Its userinfo deliberately disagrees with
// the id_token (another email, always "verified"), so a client that mixes the two is caught.
type OIDC struct {
	*server
	key, otherKey *rsa.PrivateKey
	apple         *appleCheck
	// Now is the stand-in's clock for the id_tokens it signs (default time.Now).
	Now func() time.Time
}

// Path of each endpoint of the OpenID Connect stand-in.
const (
	OIDCAuthorizePath = "/authorize"
	OIDCTokenPath     = "/token"
	OIDCJWKSPath      = "/jwks"
	OIDCUserinfoPath  = "/userinfo"
	OIDCDiscoveryPath = "/.well-known/openid-configuration"
)

// NewOIDC starts an OpenID Connect stand-in, closed when the test ends. Use URL as the issuer,
// ClientID and ClientSecret as the client.
func NewOIDC(t testing.TB) *OIDC {
	t.Helper()
	keys := rsaKeys()
	p := &OIDC{key: keys[0], otherKey: keys[1], Now: time.Now}
	mux := http.NewServeMux()
	p.server = newServer(t, mux, OIDCAuthorizePath, OIDCTokenPath, OIDCUserinfoPath,
		func(user User, _ *http.Request, _ string) (map[string]any, error) {
			return map[string]any{"sub": user.Subject, "email": "userinfo-" + user.Email, "email_verified": true}, nil
		})
	p.tokenExtra = func(g grant, fault Fault) (map[string]any, error) {
		tok, err := p.sign(g.user, g.nonce, fault)
		return map[string]any{"id_token": tok}, err
	}
	mux.HandleFunc("GET "+OIDCDiscoveryPath, p.serveDiscovery)
	mux.HandleFunc("GET "+OIDCJWKSPath, p.serveJWKS)
	return p
}

// Apple-style stand-in: its fixed identifiers, which the server's --apple-* flags must name.
const (
	AppleTeamID = "TEAM123456"
	AppleKeyID  = "KEY1234567"
)

// NewApple starts a stand-in in Apple's manner: the client secret must be an ES256 JWT signed with
// KeyPEM's key (kid AppleKeyID, iss AppleTeamID, sub the client id, aud the issuer, at most 6
// months), the callback is a form_post carrying the name in the user field, and the id_token has
// no names and says email_verified as the string "true" (by default).
func NewApple(t testing.TB) (p *OIDC, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p = NewOIDC(t)
	p.ClientID = "cz.shop.login"
	p.apple = &appleCheck{key: &key.PublicKey, issuer: p.URL, clientID: p.ClientID}
	p.checkSecret = p.apple.check
	p.user.EmailVerified = "true"
	return p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// rsaKeys are the signing key and the one not in the JWKS, made once per process: RSA key
// generation is slow, and every stand-in has its own issuer, which the id_token names.
var rsaKeys = sync.OnceValue(func() (keys [2]*rsa.PrivateKey) {
	for i := range keys {
		var err error
		if keys[i], err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	}
	return keys
})

func (p *OIDC) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if p.hang(r) {
		return
	}
	auth := []string{"client_secret_basic", "client_secret_post"}
	if p.apple != nil {
		auth = []string{"client_secret_post"}
	}
	writeJSON(w, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + OIDCAuthorizePath,
		"token_endpoint":                        p.URL + OIDCTokenPath,
		"jwks_uri":                              p.URL + OIDCJWKSPath,
		"userinfo_endpoint":                     p.URL + OIDCUserinfoPath,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "form_post"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": auth,
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "email", "profile", "name"},
	})
}

func (p *OIDC) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if p.hang(r) {
		return
	}
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

// IDToken signs an id_token for the current user and fault, as Google One Tap, FedCM or an app
// hands one over for LoginWithCredential.
func (p *OIDC) IDToken(nonce string) string {
	user, fault := p.current()
	tok, err := p.sign(user, nonce, fault)
	if err != nil {
		panic(err) // only a broken key can fail here
	}
	return tok
}

func (p *OIDC) sign(u User, nonce string, fault Fault) (string, error) {
	now := p.Now()
	claims := map[string]any{"iss": p.URL, "aud": p.ClientID, "sub": u.Subject,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if u.Email != "" {
		claims["email"] = u.Email
	}
	if u.EmailVerified != nil {
		claims["email_verified"] = u.EmailVerified
	}
	if p.apple == nil {
		claims["given_name"], claims["family_name"] = u.FirstName, u.LastName
		claims["name"] = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	switch fault {
	case WrongNonce:
		claims["nonce"] = "not-" + nonce
	case WrongAudience:
		claims["aud"] = "another-client"
	case WrongIssuer:
		claims["iss"] = p.URL + "/other"
	case ForeignParty:
		claims["aud"], claims["azp"] = []string{p.ClientID, "another-client"}, "another-client"
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-11*time.Minute).Unix(), now.Add(-time.Minute).Unix()
	case AlgNone:
		return unsigned(claims)
	}
	key, kid := p.key, "k1"
	switch fault {
	case WrongKey:
		key = p.otherKey
	case UnknownKey:
		key, kid = p.otherKey, "k2"
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return "", err
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil || fault != Tampered {
		return tok, err
	}
	claims["email"] = "attacker@example.com"
	payload, _ := json.Marshal(claims)
	parts := strings.Split(tok, ".")
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2], nil
}

func unsigned(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + ".", err
}

// appleCheck verifies the client secret as Apple does.
type appleCheck struct {
	key              *ecdsa.PublicKey
	issuer, clientID string
}

func (a *appleCheck) check(secret string) error {
	tok, err := jwt.ParseSigned(secret, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return fmt.Errorf("client secret is not an ES256 JWT: %w", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID != AppleKeyID {
		return errors.New("client secret's kid is not the key id")
	}
	var c jwt.Claims
	if err := tok.Claims(a.key, &c); err != nil {
		return fmt.Errorf("client secret's signature: %w", err)
	}
	if err := c.Validate(jwt.Expected{Issuer: AppleTeamID, Subject: a.clientID, AnyAudience: jwt.Audience{a.issuer}}); err != nil {
		return fmt.Errorf("client secret's claims: %w", err)
	}
	if c.Expiry == nil || c.IssuedAt == nil || c.Expiry.Time().Sub(c.IssuedAt.Time()) > 180*24*time.Hour {
		return errors.New("client secret must have iat and exp at most 6 months apart")
	}
	return nil
}
