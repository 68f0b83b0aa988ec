package auth

import (
	"context"
	"crypto"
	"time"
)

// Customer is a shop's customer account.
type Customer struct {
	ID           int64
	UUID         string
	Email        string
	FirstName    string
	LastName     string
	Telephone    *string
	PasswordHash string
	CreatedAt    time.Time
	// SecurityChangedAt is when the password last changed; Shopsys-issued tokens older than it are refused.
	SecurityChangedAt time.Time
	// LastLoginAt is when a session last started (Login, Register, a recovery); zero if never.
	LastLoginAt time.Time
	// EmailVerified is true once the customer proved the address: VerifyEmail, RecoverPassword, or
	// a provider that vouches for it. The social linking rules depend on it.
	EmailVerified bool
}

// HasPassword reports whether the customer can log in with a password: a customer registered
// through a social network has none (PasswordHash "") until a recovery sets one.
func (c Customer) HasPassword() bool { return c.PasswordHash != "" }

// FullName is what Shopsys puts in the fullName claim: last name, a space, first name.
func (c *Customer) FullName() string { return c.LastName + " " + c.FirstName }

// Session is one device's login: the head of its refresh-token secret chain.
//
// The secret of the newest refresh token is kept only as SecretHash. The one rotated away last is
// kept as PrevSecretHash, with RotatedAt, so a retry inside the grace interval can be recognised,
// and with the newest token's iat, exp, key and signature it can be answered with the same bytes.
type Session struct {
	DeviceID        string
	CustomerID      int64
	SecretHash      []byte
	PrevSecretHash  []byte
	RotatedAt       time.Time
	CreatedAt       time.Time
	LastRefreshedAt time.Time
	IssuedAt        time.Time // iat of the newest refresh token
	ExpiresAt       time.Time // exp of the newest refresh token
	KeyID           string    // kid that signed the newest refresh token
	Signature       string    // its signature, base64url; not a secret without the chain secret
	// How the session began, as currentCustomerUser.loginInfo tells it: LoginType is web, passkey,
	// a social type (ExternalID the provider's subject) or admin (AdministratorUUID the operator).
	LoginType         string
	ExternalID        string
	AdministratorUUID string
}

// SigningKey is a private key of the key ring, as stored.
//
// A key of algorithm HS256 is a refresh key: Secret holds its 32 bytes (Private is nil), it signs
// refresh tokens only and is never published. MarshalPrivateKeyPEM and ParsePrivateKeyPEM store
// both kinds in the same way, so a store (and `db copy`) need not tell them apart.
type SigningKey struct {
	ID        string
	Algorithm string        // RS256, ES256 or EdDSA; HS256 for a refresh key
	Private   crypto.Signer // nil for a refresh key
	Secret    []byte        // a refresh key's HMAC key; nil for the others
	// CreatedAt is when the key starts signing. `keys rotate` stores a time a little ahead, so the
	// new key is published in the JWKS for the cache lifetime before any token carries its kid.
	CreatedAt time.Time
	// Shopsys marks a key imported from a Shopsys installation: tokens without a kid verify against it.
	Shopsys bool
}

// AuditEvent is a security event worth keeping: reuse detection, for example.
type AuditEvent struct {
	At         time.Time
	CustomerID int64
	DeviceID   string
	Reason     string
	RemoteAddr string
	// CustomerUUID names the customer for good: AddAudit records it from CustomerID when it is
	// empty, so the event still names them after their row is deleted and its id reused. Never
	// the email, which a deletion must erase.
	CustomerUUID string
	// Email is filled in when the log is read, while the customer exists.
	Email string
	// Operator names the console operator who acted (ConsoleOperatorFromContext); empty for the
	// customer's own actions and the command line's.
	Operator string
}

// AuditQuery selects audit events, newest first: of one customer (by UUID) when CustomerUUID is
// set, whose reason contains Reason when it is set, no older than Since when it is set, at most
// Limit (0: all).
type AuditQuery struct {
	CustomerUUID string
	Reason       string
	Since        time.Time
	Limit        int
}

// CustomerSummary is a customer as the operator lists them: never the password hash.
type CustomerSummary struct {
	UUID, Email, FirstName, LastName string
	Telephone                        *string
	CreatedAt, LastLoginAt           time.Time // LastLoginAt is zero if never
	Sessions                         int       // live sessions
}

// Recovery is a pending password recovery: only the hash of the mailed secret is stored.
type Recovery struct {
	CustomerID int64
	HashSHA256 []byte
	ExpiresAt  time.Time
}

// Store is the storage the domain needs. Reads run on a pool; Update runs fn inside one write
// transaction and commits when fn returns nil. Writers may run in parallel (PostgreSQL) or one at
// a time (SQLite), so what fn decides holds only as far as the reads it rests on lock what they
// read until the commit (Session and SigningKeys do; so do the reads of passkeys and recoveries).
type Store interface {
	CustomerByEmail(ctx context.Context, email string) (Customer, error)
	CustomerByUUID(ctx context.Context, uuid string) (Customer, error)
	// SessionCustomer is the one indexed read an authenticated request costs.
	SessionCustomer(ctx context.Context, deviceID string) (Session, Customer, error)
	Sessions(ctx context.Context, customerID int64) ([]Session, error)
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	Setting(ctx context.Context, name string) ([]byte, error)
	Ping(ctx context.Context) error
	// Customers lists every customer, oldest first, with the number of sessions that have not
	// expired at now.
	Customers(ctx context.Context, now time.Time) ([]CustomerSummary, error)
	AuditLog(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
	// BcryptCosts lists the distinct costs of the bcrypt hashes stored (imported from Shopsys),
	// so that a failed login can take as long as checking the slowest of them.
	BcryptCosts(ctx context.Context) ([]int, error)
	PasskeyStore
	ConsoleStore
	SocialStore
	// RotateSession stores the rotated session next in one statement, only if the session
	// next.DeviceID exists, belongs to the customer customerUUID, has not expired at now and its
	// newest secret hash is still next.PrevSecretHash (the state in which a refresh rotates), and
	// the session did not begin as LoginTypeAdmin (an operator's, whose rotation auth bounds in a
	// transaction), and returns whether it did and what the access token carries of that customer:
	// its ID, UUID, email and names (the other fields are left zero). It keeps the session's
	// customer, creation time and login.
	RotateSession(ctx context.Context, next Session, customerUUID string, now time.Time) (Customer, bool, error)

	Update(ctx context.Context, fn func(Tx) error) error
}

// Tx is what may be done inside a write transaction.
type Tx interface {
	CreateCustomer(c *Customer) error // sets ID; ErrEmailTaken when the email is in use, else ErrUUIDTaken when the uuid is
	UpdateCustomer(c Customer) error
	CustomerByEmail(email string) (Customer, error)
	CustomerByID(id int64) (Customer, error)
	// DeleteCustomer erases the customer with everything that is theirs (sessions, recoveries,
	// passkeys, social identities, flows and hand-offs, email verifications); audit events stay,
	// naming them by UUID only.
	DeleteCustomer(id int64) error
	// RecordLogin sets the customer's LastLoginAt, and nothing else.
	RecordLogin(customerID int64, at time.Time) error

	CreateSession(s Session) error
	// Session reads a session and locks its row until the transaction ends: a rotation's decision
	// holds against a parallel one.
	Session(deviceID string) (Session, error)
	UpdateSession(s Session) error
	DeleteSession(deviceID string) (bool, error)
	// DeleteSessions ends every session of the customer except keepDeviceID ("" keeps none).
	DeleteSessions(customerID int64, keepDeviceID string) (int, error)
	// TrimSessions ends the customer's oldest sessions (by CreatedAt) beyond the newest keep.
	TrimSessions(customerID int64, keep int) (int, error)
	// DeleteExpired deletes at most limit sessions that expired by now, and at most limit each of
	// expired recoveries, email verifications, passkey challenges, social flows and hand-offs and
	// of audit rows older than auditBefore, and returns how many sessions went.
	DeleteExpired(now time.Time, auditBefore time.Time, limit int) (int, error)

	AddAudit(e AuditEvent) error

	AddSigningKey(k SigningKey) error
	// SigningKeys reads every stored key, oldest first, and locks them against every other
	// transaction that reads them this way: a decision made on them (is a next key pending? is there a first key?)
	// holds until the transaction commits.
	SigningKeys() ([]SigningKey, error)
	SetSetting(name string, value []byte) error
	Setting(name string) ([]byte, error)

	PutRecovery(r Recovery) error
	Recovery(customerID int64) (Recovery, error)
	DeleteRecovery(customerID int64) error

	PasskeyTx
	ConsoleTx
	SocialTx
}
