package auth

import (
	"context"
	"errors"
	"time"
)

// The admin console's people: a ConsoleOperator is one of the shop's staff who logs in to the
// console on --admin-addr with a passkey (never a password). They are not the "operator" of
// operator.go, who runs shopauth's commands in a shell; both reach the same functions.

// ConsoleOperator is a member of staff allowed into the admin console.
type ConsoleOperator struct {
	ID        int64
	UUID      string // what administratorUuid names in an impersonation token
	Name      string
	CreatedAt time.Time
	// EnrolHash is the SHA-256 of the one-time enrolment secret `operators add` printed; nil once
	// used (or never made). EnrolExpiresAt is when it stops working.
	EnrolHash      []byte
	EnrolExpiresAt time.Time
	LastLoginAt    time.Time // zero if never
	Passkeys       int       // filled in by ConsoleOperators only
}

// ConsolePasskey is an operator's WebAuthn credential, stored as a customer's Passkey is.
type ConsolePasskey struct {
	CredentialID []byte
	OperatorID   int64
	Credential   []byte // go-webauthn's credential record as JSON
	SignCount    uint32
	CreatedAt    time.Time
	LastUsedAt   time.Time
}

// ConsoleSession is an operator's console login, behind a cookie: only the SHA-256 of the
// cookie's secret is stored.
type ConsoleSession struct {
	IDHash     []byte
	OperatorID int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // CreatedAt + ConsoleSessionTTL; idleness ends it sooner
}

// CustomerSearch is a page of the console's customer list: those whose email, first or last name
// contains Text (ignoring case; every customer when it is empty) or whose UUID is Text, oldest first.
type CustomerSearch struct {
	Text          string
	Offset, Limit int
}

// ErrOperatorTaken is what a store answers when an operator's name is in use.
var ErrOperatorTaken = errors.New("operator name already in use")

// ConsoleStore is the part of Store the console needs: reads outside a transaction.
type ConsoleStore interface {
	// ConsoleOperators lists every operator by name, with how many passkeys each has.
	ConsoleOperators(ctx context.Context) ([]ConsoleOperator, error)
	ConsoleOperatorByEnrolHash(ctx context.Context, hash []byte) (ConsoleOperator, error)
	// ConsolePasskeyOperator finds a console passkey by credential id with its operator.
	ConsolePasskeyOperator(ctx context.Context, credentialID []byte) (ConsolePasskey, ConsoleOperator, error)
	// ConsoleSessionOperator finds a console session by the hash of its secret with its operator.
	ConsoleSessionOperator(ctx context.Context, idHash []byte) (ConsoleSession, ConsoleOperator, error)
	// SearchCustomers answers one page of q and how many customers match in all; Sessions
	// counts the sessions that have not expired at now.
	SearchCustomers(ctx context.Context, q CustomerSearch, now time.Time) ([]CustomerSummary, int, error)
}

// ConsoleTx is the part of Tx the console needs.
type ConsoleTx interface {
	CreateConsoleOperator(o *ConsoleOperator) error // sets ID; ErrOperatorTaken when the name is in use
	ConsoleOperatorByName(name string) (ConsoleOperator, error)
	ConsoleOperatorByID(id int64) (ConsoleOperator, error)
	// ConsoleOperatorByUUID reads an operator and locks its row until the transaction ends: a
	// "log in as" session starts only while its operator exists (RemoveConsoleOperator).
	ConsoleOperatorByUUID(uuid string) (ConsoleOperator, error)
	// UpdateConsoleOperator stores the enrolment hash and expiry and the last login.
	UpdateConsoleOperator(o ConsoleOperator) error
	// DeleteConsoleOperator erases the operator with their passkeys and sessions.
	DeleteConsoleOperator(id int64) error

	CreateConsolePasskey(p ConsolePasskey) error // ErrPasskeyTaken when the credential id exists
	ConsolePasskey(credentialID []byte) (ConsolePasskey, error)
	// UpdateConsolePasskey stores what a login changes: the sign count, the record, when it was used.
	UpdateConsolePasskey(p ConsolePasskey) error

	CreateConsoleSession(s ConsoleSession) error
	TouchConsoleSession(idHash []byte, at time.Time) error
	DeleteConsoleSession(idHash []byte) (bool, error)
	DeleteConsoleSessions(operatorID int64) (int, error)

	// DeleteAdministratorSessions ends every customer session begun as LoginTypeAdmin by the
	// operator with this UUID ("log in as") and answers them, expired ones not yet pruned included.
	DeleteAdministratorSessions(operatorUUID string) ([]Session, error)
	// DeleteAdministratorHandOffs drops every "log in as" code issued to the operator with this
	// UUID and not yet redeemed, and answers them, expired ones not yet pruned included.
	DeleteAdministratorHandOffs(operatorUUID string) ([]HandOff, error)
}
