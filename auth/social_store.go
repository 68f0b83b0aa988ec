package auth

import (
	"context"
	"errors"
	"time"
)

// SocialIdentity is a social network account linked to a customer: the pair Type + Subject is
// the identity, whatever email the provider reports later.
type SocialIdentity struct {
	Type       string
	Subject    string
	CustomerID int64
	Email      string    // as the provider reported it when the identity was linked; "" if none
	LinkedAt   time.Time //
	LastUsedAt time.Time // zero until it is first used to log in after linking
}

// SocialFlow is a browser login with a provider begun and not yet finished. It is stored so that
// any instance can finish it; the state and the browser-binding cookie are kept only as hashes.
type SocialFlow struct {
	StateHash   []byte // SHA-256 of the state sent to the provider: the lookup key
	Type        string
	Nonce       string // the OpenID Connect nonce the id_token must carry
	Verifier    string // the PKCE verifier towards the provider
	BrowserHash []byte // SHA-256 of the cookie value that binds the flow to the browser
	// LinkCustomerID is the customer who asked for SocialLinkUrl; 0 for a login.
	LinkCustomerID int64
	Redirect       string // the kept redirect parameter ("" when none or refused)
	CodeChallenge  string // the client's PKCE S256 challenge for the hand-off; "" when none
	Params         string // Shopsys's cart parameters, URL-encoded, handed back unchanged
	ExpiresAt      time.Time
}

// Purposes of a HandOff.
const (
	HandOffLogin = "login" // a one-time code that LoginWithSocialCode exchanges for a session
	HandOffLink  = "link"  // the token SocialLinkUrl puts in its URL
)

// HandOff is a single-use secret handed to the browser in a URL: a login code for the
// --social-redirect-url page, or the token of a SocialLinkUrl. Only its SHA-256 is stored.
type HandOff struct {
	Hash       []byte
	Purpose    string // HandOffLogin or HandOffLink
	CustomerID int64
	// What the session to start is: LoginType (a social type, or admin), ExternalID (the
	// provider's subject) and, for an operator's "log in as", AdministratorUUID. For a link token,
	// LoginType is the social type to link.
	LoginType         string
	ExternalID        string
	AdministratorUUID string
	IsRegistration    bool
	CodeChallenge     string // the client's PKCE S256 challenge; "" when none was given
	ExpiresAt         time.Time
}

// ErrIdentityTaken is what a store answers when the identity (type, subject) is linked already,
// or the customer has an identity of that type already.
var ErrIdentityTaken = errors.New("social identity already linked")

// SocialStore is the part of Store that social login needs outside a transaction.
type SocialStore interface {
	// SocialIdentities lists a customer's linked identities in LoginTypeEnum's order.
	SocialIdentities(ctx context.Context, customerID int64) ([]SocialIdentity, error)
}

// SocialTx is the part of Tx that social login needs.
type SocialTx interface {
	SocialIdentity(typ, subject string) (SocialIdentity, error)
	SocialIdentities(customerID int64) ([]SocialIdentity, error)
	CreateSocialIdentity(i SocialIdentity) error // ErrIdentityTaken
	// TouchSocialIdentity sets when the identity was last used to log in.
	TouchSocialIdentity(typ, subject string, at time.Time) error
	DeleteSocialIdentity(customerID int64, typ string) (bool, error)

	// DeletePasskeys serves the pre-hijacking clean-up (the last-login-method check counts them
	// with PasskeyTx.CountPasskeys).
	DeletePasskeys(customerID int64) (int, error)

	PutSocialFlow(f SocialFlow) error
	// TakeSocialFlow deletes the flow and returns it (single use); ErrNotFound when it is gone.
	TakeSocialFlow(stateHash []byte) (SocialFlow, error)
	PutHandOff(h HandOff) error
	// TakeHandOff deletes the hand-off and returns it (single use); ErrNotFound when it is gone.
	TakeHandOff(hash []byte) (HandOff, error)

	// Email verifications are kept as recoveries are: one per customer, the mailed hash's SHA-256.
	PutEmailVerification(r Recovery) error
	EmailVerification(customerID int64) (Recovery, error)
	DeleteEmailVerification(customerID int64) error
}
