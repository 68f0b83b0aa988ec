package auth

import (
	"context"
	"errors"
)

// Social login types, as LoginTypeEnum names them. The order is the enum's, and the order in which
// settings { socialNetworkLoginConfig } lists the configured providers.
const (
	LoginTypeAdmin    = "admin"
	LoginTypeFacebook = "facebook"
	LoginTypeGoogle   = "google"
	LoginTypeSeznam   = "seznam"
	LoginTypeWeb      = "web"
	LoginTypeApple    = "apple"
	LoginTypeOIDC     = "oidc"
	LoginTypePasskey  = "passkey"
)

// SocialTypes are the login types an IdentityProvider can have, in the enum's order.
var SocialTypes = []string{LoginTypeFacebook, LoginTypeGoogle, LoginTypeSeznam, LoginTypeApple, LoginTypeOIDC}

// Identity is who a social network says the person is. An adapter (package social) fills it from
// the provider's answer and decides nothing; the linking rules decide what it means.
type Identity struct {
	Type    string // one of SocialTypes
	Subject string // the provider's stable id: OpenID Connect sub, Facebook id, Seznam oauth_user_id
	Email   string // as the provider reports it, "" when it gave none
	// EmailVerified is true only when the provider vouches for Email, read from the same document
	// as Email: OpenID Connect email_verified true; Seznam only for its own mailboxes; Facebook never.
	EmailVerified       bool
	FirstName, LastName string // "" when the provider gave none (Apple sends names only once)
}

// Callback is what the provider sent back to the redirect URI.
type Callback struct {
	Code string
	// User is Apple's "user" form field (JSON with the name), sent on the first authorisation only.
	User string
}

// IdentityProvider is one configured social network. Every call is bounded in time and size by the
// adapter; any failure (a refusal, a timeout, a malformed answer, a bad id_token) is returned as an
// error wrapping ErrProvider, so that a slow or broken provider is "provider-error", never a hang.
type IdentityProvider interface {
	// Type is the LoginTypeEnum value (one of SocialTypes).
	Type() string
	// Label is the text of the provider's button ("Google", or --oidc-label for oidc).
	Label() string
	// AuthCodeURL is where the browser goes to log in: with state, the OpenID Connect nonce
	// (ignored by plain OAuth 2 providers) and the PKCE S256 challenge of verifier; redirectURI is
	// the callback, ISSUER/social-network/login/{type}. It returns "" when the provider cannot be
	// reached (an OpenID Connect provider whose discovery failed within the timeout; the adapter
	// logs why): the flow then ends with provider-error.
	AuthCodeURL(state, nonce, verifier, redirectURI string) string
	// Exchange trades the callback's code (with the PKCE verifier) for the identity. An OpenID
	// Connect provider verifies the id_token (signature by its JWKS, iss, aud, exp) and its nonce
	// against the one given.
	Exchange(ctx context.Context, cb Callback, verifier, redirectURI, nonce string) (Identity, error)
	// VerifyCredential checks what LoginWithCredential presents: an id_token (google, apple, oidc;
	// nonce checked when not empty) or a FedCM authorization code (seznam, exchanged without a
	// redirect_uri). ErrCredentialType for a provider that takes no credential (facebook).
	VerifyCredential(ctx context.Context, credential, nonce string) (Identity, error)
}

var (
	// ErrProvider marks any failure of an identity provider call.
	ErrProvider = errors.New("identity provider failed")
	// ErrCredentialType is VerifyCredential's answer for a provider that takes no credential.
	ErrCredentialType = errors.New("this provider takes no credential")
)
