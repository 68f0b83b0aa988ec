package auth

import (
	"context"
	"errors"
	"time"
)

// Passkey is a customer's WebAuthn credential, as stored.
type Passkey struct {
	CredentialID []byte // the authenticator's id; the API shows it base64url-encoded
	CustomerID   int64
	Name         string
	// Credential is go-webauthn's credential record (public key, flags, AAGUID...) as JSON.
	Credential []byte
	SignCount  uint32
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until the first login with it
}

// PasskeyChallenge is a ceremony begun and not yet finished: the challenge (kept only as a
// SHA-256 hash, the lookup key) and go-webauthn's session data, which holds the challenge too.
// It is stored so that any instance can finish a ceremony another one began.
type PasskeyChallenge struct {
	Hash       []byte
	Ceremony   string // CeremonyRegistration or CeremonyLogin
	CustomerID int64  // the customer registering; 0 for a login
	Session    []byte // webauthn.SessionData as JSON
	ExpiresAt  time.Time
}

// Ceremonies a challenge may belong to.
const (
	CeremonyRegistration = "registration"
	CeremonyLogin        = "login"
)

// ErrPasskeyTaken is what a store answers when a credential id is registered already.
var ErrPasskeyTaken = errors.New("passkey already registered")

// PasskeyStore is the part of Store that passkeys need: reads outside a transaction.
type PasskeyStore interface {
	// Passkeys lists a customer's passkeys, oldest first.
	Passkeys(ctx context.Context, customerID int64) ([]Passkey, error)
	// PasskeyCustomer finds a passkey by credential id with its customer, in one indexed read.
	PasskeyCustomer(ctx context.Context, credentialID []byte) (Passkey, Customer, error)
	PasskeyChallenge(ctx context.Context, hash []byte) (PasskeyChallenge, error)
}

// PasskeyTx is the part of Tx that passkeys need.
type PasskeyTx interface {
	// CountPasskeys counts a customer's passkeys and keeps the count true until the transaction
	// ends: a parallel transaction counting the same customer's waits for this one.
	CountPasskeys(customerID int64) (int, error)
	CreatePasskey(p Passkey) error // ErrPasskeyTaken when the credential id exists
	Passkey(credentialID []byte) (Passkey, error)
	// UpdatePasskey stores what a login changes: the sign count, when it was last used, the record.
	UpdatePasskey(p Passkey) error
	DeletePasskey(customerID int64, credentialID []byte) (bool, error)

	PutPasskeyChallenge(c PasskeyChallenge) error
	// DeletePasskeyChallenge uses a challenge up; false when it was already gone.
	DeletePasskeyChallenge(hash []byte) (bool, error)
}
