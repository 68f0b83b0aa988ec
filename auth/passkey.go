package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Passkeys (WebAuthn) are verified by github.com/go-webauthn/webauthn: parsing the browser's JSON,
// the CBOR attestation object and the COSE public key, and checking signatures, origins, the RP ID
// hash and flags are its job. This file decides what is stored, for whom, and for how long.

// PasskeyChallengeTTL is how long a ceremony's options stay usable.
const PasskeyChallengeTTL = 5 * time.Minute

// Client-safe messages of the passkey operations.
const (
	MsgPasskeyNotVerified  = "The passkey could not be verified. Ask for new options and try again."
	MsgPasskeyUnknown      = "No such passkey."
	MsgPasskeyNameTooLong  = "Passkey name cannot be longer than 100 characters"
	MsgPasskeyNameInvalid  = "Passkey name cannot contain control characters"
	MsgPasskeysDisabled    = "Passkeys are not enabled on this server."
	MsgPasskeyTooMany      = "You can have at most 20 passkeys. Remove one to add another."
	MsgPasskeyTooLarge     = "The passkey is larger than this server accepts."
	EPasskeysDisabled      = "passkeys-disabled"
	defaultPasskeyName     = "Passkey"
	maxPasskeyNameRunes    = 100
	passkeyHandleLabel     = "shopauth webauthn user handle\x00"
	codePasskeyNotVerified = "3f8e4a52-7d0b-4c41-9e0f-5b7a1c2d9e61" // ours: the credential did not verify
	codePasskeyUnknown     = "0b6c1f9e-2a47-4d83-b5e2-8c9d4f1a7e30" // ours: no passkey of the caller has this id
	codePasskeyBadName     = "6a2d8e14-95c3-4b7f-a0d6-3e1f7c9b2a58" // ours: control characters in the name
	codeTooMany            = "756b1212-697c-468d-a9ad-50dd783bb169" // Count::TOO_MANY_ERROR
)

// Limits of what a client may make a passkey cost: without them, 200 passkeys with 1023-byte ids
// and 45 KB of client data stored 12 MiB for one customer and made a 281 KB options answer.
const (
	// MaxPasskeysPerCustomer caps a customer's passkeys, and so the options' excludeCredentials.
	MaxPasskeysPerCustomer = 20
	// PasskeyRegistrationOptionsPerMinute bounds the registration challenges one customer stores.
	PasskeyRegistrationOptionsPerMinute = 10
	// maxCredentialJSON bounds what is parsed at all: a real credential with the longest id WebAuthn
	// allows (1023 bytes) and an attestation with certificates stays well under it.
	maxCredentialJSON = 32 << 10
	// maxClientDataJSON bounds the browser's client data (a real one is a few hundred bytes).
	maxClientDataJSON = 4 << 10
	// maxAttestationObject bounds the CBOR attestation object (about 200 bytes with attestation
	// "none", which is what the options ask for; a few KB with certificates).
	maxAttestationObject = 16 << 10
	// maxCredentialID is WebAuthn's limit, which go-webauthn enforces on the authenticator data too.
	maxCredentialID = 1023
	// maxPublicKey bounds the COSE public key (an RSA-4096 key is about 550 bytes).
	maxPublicKey = 2 << 10
)

// passkeyRP is the service's WebAuthn relying party; rp is nil when passkeys are off.
type passkeyRP struct {
	rp *webauthn.WebAuthn
}

func newPasskeyRP(cfg Config) (passkeyRP, error) {
	var p passkeyRP
	if cfg.WebAuthn.ID == "" {
		return p, nil
	}
	rp, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.WebAuthn.ID,
		RPDisplayName: cfg.WebAuthn.ID,
		RPOrigins:     cfg.WebAuthn.Origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			// Sent to the browser; the server enforces PasskeyChallengeTTL with its own clock.
			Login:        webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
			Registration: webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
		},
	})
	if err != nil {
		return p, fmt.Errorf("webauthn: %w", err)
	}
	p.rp = rp
	return p, nil
}

// passkeyUser is a customer as go-webauthn sees one.
type passkeyUser struct {
	handle []byte
	c      Customer
	creds  []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.c.Email }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.c.FirstName + " " + u.c.LastName }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (u *passkeyUser) holding(c webauthn.Credential) webauthn.User {
	u.creds = []webauthn.Credential{c}
	return u
}

// userHandle is the customer's WebAuthn user handle: stable, opaque (it does not reveal the UUID or
// email to whoever reads the authenticator) and derived, so no table holds it. A login finds the
// passkey by its credential id and then checks that the handle the authenticator sent is this.
func (s *Service) userHandle(c Customer) []byte {
	return s.chain.sum(nil, []byte(passkeyHandleLabel+c.UUID))
}

// PasskeyInfo is one of the caller's passkeys, as the passkeys query lists it.
type PasskeyInfo struct {
	ID         string // base64url credential id
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used to log in
}

func passkeyInfo(p Passkey) PasskeyInfo {
	return PasskeyInfo{ID: base64.RawURLEncoding.EncodeToString(p.CredentialID), Name: p.Name,
		CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt}
}

// Passkeys lists the caller's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, p *Principal) ([]PasskeyInfo, error) {
	if p == nil {
		return nil, errInvalidToken
	}
	list, err := s.store.Passkeys(ctx, p.Customer.ID)
	if err != nil {
		return nil, internal("auth.Passkeys", err)
	}
	out := make([]PasskeyInfo, len(list))
	for i, x := range list {
		out[i] = passkeyInfo(x)
	}
	return out, nil
}

func (s *Service) passkeysOn() error {
	if s.passkeys.rp == nil {
		return &Error{Code: EPasskeysDisabled, Message: MsgPasskeysDisabled}
	}
	return nil
}

// PasskeyRegistrationOptions begins registering a passkey for the caller. It answers the creation
// options as `{"publicKey": {...}}` in the WebAuthn Level 3 JSON form (base64url), asking for a
// discoverable credential and user verification and excluding the caller's passkeys.
//
// Each call stores a challenge, so a customer gets PasskeyRegistrationOptionsPerMinute of them
// (then too-many-login-attempts). A customer who has MaxPasskeysPerCustomer already is told so
// here, before an authenticator makes a passkey the server would then refuse to keep.
func (s *Service) PasskeyRegistrationOptions(ctx context.Context, p *Principal) (string, error) {
	if p == nil {
		return "", errInvalidToken
	}
	if err := refuseAdministrator(p); err != nil {
		return "", err
	}
	if err := s.passkeysOn(); err != nil {
		return "", err
	}
	end, err := s.beginAttempt(ctx, EventLoginThrottled, passkeyRegistrationLimits(p.Customer.UUID)...)
	if err != nil {
		return "", err
	}
	end(true)
	existing, err := s.store.Passkeys(ctx, p.Customer.ID)
	if err != nil {
		return "", internal("auth.PasskeyRegistrationOptions", err)
	}
	if len(existing) >= MaxPasskeysPerCustomer {
		return "", errTooManyPasskeys
	}
	exclude := make([]protocol.CredentialDescriptor, len(existing))
	for i, x := range existing {
		exclude[i] = protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: x.CredentialID}
	}
	user := &passkeyUser{handle: s.userHandle(p.Customer), c: p.Customer}
	creation, session, err := s.passkeys.rp.BeginRegistration(user, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return "", internal("auth.PasskeyRegistrationOptions", err)
	}
	return s.storeChallenge(ctx, CeremonyRegistration, p.Customer.ID, session, creation)
}

// passkeyRegistrationLimits count every registration options call of a customer, wherever from.
func passkeyRegistrationLimits(customerUUID string) []Limit {
	return []Limit{{Key: "passkey-register\x00" + customerUUID, Max: PasskeyRegistrationOptionsPerMinute}}
}

var errTooManyPasskeys = &Error{Code: EValidation, Message: MsgValidation,
	Validation: Violations{"input.credential": {{Message: MsgPasskeyTooMany, Code: codeTooMany}}}}

// storeChallenge keeps the ceremony's session data server-side and returns options as JSON.
func (s *Service) storeChallenge(ctx context.Context, ceremony string, customerID int64, session *webauthn.SessionData, options any) (string, error) {
	op := "auth.passkey " + ceremony + " options"
	sessionJSON, err := json.Marshal(session)
	if err != nil {
		return "", internal(op, err)
	}
	body, err := json.Marshal(options)
	if err != nil {
		return "", internal(op, err)
	}
	c := PasskeyChallenge{Hash: challengeHash(session.Challenge), Ceremony: ceremony, CustomerID: customerID,
		Session: sessionJSON, ExpiresAt: s.Now().Add(PasskeyChallengeTTL)}
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.PutPasskeyChallenge(c) }); err != nil {
		return "", internal(op, err)
	}
	return string(body), nil
}

func challengeHash(challenge string) []byte {
	h := sha256.Sum256([]byte(challenge))
	return h[:]
}

// findChallenge loads the live challenge a response names, of the given ceremony.
func (s *Service) findChallenge(ctx context.Context, ceremony, challenge string) (PasskeyChallenge, webauthn.SessionData, error) {
	var session webauthn.SessionData
	c, err := s.store.PasskeyChallenge(ctx, challengeHash(challenge))
	if err != nil {
		return c, session, err
	}
	if c.Ceremony != ceremony {
		return c, session, errors.New("the challenge belongs to another ceremony")
	}
	if !s.Now().Before(c.ExpiresAt) {
		return c, session, errors.New("the challenge has expired")
	}
	if err := json.Unmarshal(c.Session, &session); err != nil {
		return c, session, err
	}
	return c, session, nil
}

// RegisterPasskey finishes a registration: credential is the browser's
// JSON.stringify(credential.toJSON()). Anything that does not verify is a validation error on
// input.credential and stores nothing.
func (s *Service) RegisterPasskey(ctx context.Context, p *Principal, credential string, name *string) (PasskeyInfo, error) {
	if p == nil {
		return PasskeyInfo{}, errInvalidToken
	}
	if err := refuseAdministrator(p); err != nil {
		return PasskeyInfo{}, err
	}
	if err := s.passkeysOn(); err != nil {
		return PasskeyInfo{}, err
	}
	label := defaultPasskeyName
	if name != nil && strings.TrimSpace(*name) != "" {
		label = strings.TrimSpace(*name)
	}
	var v validator
	switch {
	case utf8.RuneCountInString(label) > maxPasskeyNameRunes:
		v.add("input.name", codeTooLong, MsgPasskeyNameTooLong)
	case !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl):
		// The name is shown in lists and logs: no line breaks or terminal escapes in it.
		v.add("input.name", codePasskeyBadName, MsgPasskeyNameInvalid)
	}
	if err := v.err(); err != nil {
		return PasskeyInfo{}, err
	}
	notVerified := func(cause error) (PasskeyInfo, error) {
		s.log.InfoContext(ctx, "passkey registration refused", "customer", p.Customer.UUID, "reason", passkeyReason(cause))
		e := &Error{Code: EValidation, Message: MsgValidation, Err: cause,
			Validation: Violations{"input.credential": {{Message: MsgPasskeyNotVerified, Code: codePasskeyNotVerified}}}}
		return PasskeyInfo{}, e
	}
	tooLarge := func(cause error) (PasskeyInfo, error) {
		s.log.InfoContext(ctx, "passkey registration refused", "customer", p.Customer.UUID, "reason", cause.Error())
		return PasskeyInfo{}, &Error{Code: EValidation, Message: MsgValidation, Err: cause,
			Validation: Violations{"input.credential": {{Message: MsgPasskeyTooLarge, Code: codeTooLong}}}}
	}
	if len(credential) > maxCredentialJSON {
		return tooLarge(fmt.Errorf("credential of %d bytes, over %d", len(credential), maxCredentialJSON))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(credential))
	if err != nil {
		return notVerified(err)
	}
	if err := oversized(parsed); err != nil {
		return tooLarge(err)
	}
	ch, session, err := s.findChallenge(ctx, CeremonyRegistration, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return notVerified(err)
	}
	if ch.CustomerID != p.Customer.ID {
		return notVerified(errors.New("the challenge was given to another customer"))
	}
	user := &passkeyUser{handle: s.userHandle(p.Customer), c: p.Customer}
	cred, err := s.passkeys.rp.CreateCredential(user, session, parsed)
	if err != nil {
		return notVerified(err)
	}
	if err := usablePublicKey(cred.PublicKey); err != nil {
		return notVerified(err)
	}
	record, err := passkeyRecord(cred)
	if err != nil {
		return PasskeyInfo{}, internal("auth.RegisterPasskey", err)
	}
	pk := Passkey{CredentialID: cred.ID, CustomerID: p.Customer.ID, Name: label, Credential: record,
		SignCount: cred.Authenticator.SignCount, CreatedAt: s.Now()}
	errUsed := errors.New("the challenge was used meanwhile")
	err = s.store.Update(ctx, func(tx Tx) error {
		// Counted in the transaction that adds one: parallel registrations cannot pass the cap.
		if n, err := tx.CountPasskeys(p.Customer.ID); err != nil || n >= MaxPasskeysPerCustomer {
			return errOrRefusal(err, errTooManyPasskeys)
		}
		if ok, err := tx.DeletePasskeyChallenge(ch.Hash); err != nil || !ok {
			return errOrRefusal(err, errUsed)
		}
		if err := tx.CreatePasskey(pk); err != nil {
			return err
		}
		return s.audit(ctx, tx, p.Customer, p.DeviceID, AuditPasskeyAdded)
	})
	switch {
	case errors.Is(err, errUsed), errors.Is(err, ErrPasskeyTaken):
		return notVerified(err)
	case errors.Is(err, errTooManyPasskeys):
		return PasskeyInfo{}, errTooManyPasskeys
	case err != nil:
		return PasskeyInfo{}, internal("auth.RegisterPasskey", err)
	}
	return passkeyInfo(pk), nil
}

// oversized refuses a registration response whose parts are larger than a real one can be, before
// anything is verified or stored.
func oversized(parsed *protocol.ParsedCredentialCreationData) error {
	raw, att := parsed.Raw.AttestationResponse, parsed.Response.AttestationObject.AuthData.AttData
	for _, part := range []struct {
		name      string
		size, max int
	}{
		{"client data JSON", len(raw.ClientDataJSON), maxClientDataJSON},
		{"attestation object", len(raw.AttestationObject), maxAttestationObject},
		{"credential id", max(len(parsed.RawID), len(att.CredentialID)), maxCredentialID},
		{"public key", len(att.CredentialPublicKey), maxPublicKey},
	} {
		if part.size > part.max {
			return fmt.Errorf("%s of %d bytes, over %d", part.name, part.size, part.max)
		}
	}
	return nil
}

// passkeyRecord is what is kept of a verified credential: go-webauthn's record without the
// registration's client data and attestation object (kept by go-webauthn for re-checking the
// attestation later, which a server asking for "none" never does), and with only the transports
// and attachment WebAuthn defines, so that nothing a client chose the size of is stored.
func passkeyRecord(cred *webauthn.Credential) ([]byte, error) {
	c := *cred
	c.Attestation = webauthn.CredentialAttestation{PublicKeyAlgorithm: cred.Attestation.PublicKeyAlgorithm}
	c.Transport = nil
	for _, t := range cred.Transport {
		if knownTransports[t] && !slices.Contains(c.Transport, t) {
			c.Transport = append(c.Transport, t)
		}
	}
	switch c.Authenticator.Attachment {
	case protocol.Platform, protocol.CrossPlatform:
	default:
		c.Authenticator.Attachment = ""
	}
	return json.Marshal(c)
}

var knownTransports = map[protocol.AuthenticatorTransport]bool{
	protocol.USB: true, protocol.NFC: true, protocol.BLE: true, protocol.SmartCard: true,
	protocol.Hybrid: true, protocol.Internal: true,
}

// usablePublicKey refuses a key no assertion could ever verify against. With "none" attestation
// nothing signs the key at registration, so a damaged one (an EC point off its curve) would
// otherwise be stored and then fail every login.
func usablePublicKey(cose []byte) error {
	key, err := webauthncose.ParsePublicKey(cose)
	if err != nil {
		return err
	}
	if ec, ok := key.(webauthncose.EC2PublicKeyData); ok {
		_, err = ec.ToECDSA()
	}
	return err
}

// errOrRefusal is the store's err, or the refusal when the store answered and the answer refuses
// (a challenge already used, a cap reached).
func errOrRefusal(err, refusal error) error {
	if err != nil {
		return err
	}
	return refusal
}

// passkeyReason is a refusal's cause for the log: go-webauthn's details, never key material.
func passkeyReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			return pe.Details + ": " + pe.DevInfo
		}
		return pe.Details
	}
	return err.Error()
}

// RemovePasskey removes one of the caller's passkeys by its id (base64url credential id).
func (s *Service) RemovePasskey(ctx context.Context, p *Principal, id string) error {
	if p == nil {
		return errInvalidToken
	}
	unknown := func() error {
		var v validator
		v.add("id", codePasskeyUnknown, MsgPasskeyUnknown)
		return v.err()
	}
	credID, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil || len(credID) == 0 {
		return unknown()
	}
	var removed bool
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		removed, err = tx.DeletePasskey(p.Customer.ID, credID)
		if err != nil || !removed {
			return err
		}
		return s.audit(ctx, tx, p.Customer, p.DeviceID, AuditPasskeyRemoved)
	})
	if err != nil {
		return internal("auth.RemovePasskey", err)
	}
	if !removed {
		return unknown()
	}
	return nil
}

// PasskeyLoginOptions begins a login without an email: the request options list no credentials,
// so the authenticator offers the discoverable ones it holds for the RP ID.
func (s *Service) PasskeyLoginOptions(ctx context.Context) (string, error) {
	if err := s.passkeysOn(); err != nil {
		return "", err
	}
	// Each options request stores a challenge, so every one counts against the address.
	end, err := s.beginAttempt(ctx, EventLoginThrottled, passkeyOptionsLimits(s.cfg, ClientFromContext(ctx).IP)...)
	if err != nil {
		return "", err
	}
	end(true)
	assertion, session, err := s.passkeys.rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return "", internal("auth.PasskeyLoginOptions", err)
	}
	return s.storeChallenge(ctx, CeremonyLogin, 0, session, assertion)
}

// passkeyLoginLimits count failed passkey logins per address, on a budget of their own: a
// passkey cannot be guessed, so its failures neither draw on the address's password budget nor
// keep anyone from logging in (see LoginWithPasskey).
func passkeyLoginLimits(cfg Config, ip string) []Limit {
	return []Limit{{Key: "passkey\x00" + addressKey(ip), Max: cfg.LoginFailuresPerEmail}}
}

// passkeyOptionsLimits bound how many login challenges an address can have stored at a time.
func passkeyOptionsLimits(cfg Config, ip string) []Limit {
	return []Limit{{Key: "passkey-options\x00" + addressKey(ip), Max: cfg.LoginFailuresPerIP}}
}

// LoginWithPasskey finishes a discoverable login and starts a session exactly as Login does.
// Whatever does not verify (a malformed, foreign, replayed, cloned or removed credential) is
// "Log in failed." and changes nothing.
//
// A valid assertion is never refused by the throttle: nothing can be guessed here, so the
// assertion is verified first and the throttle is consulted only once it has failed. Failures count
// against the client's address, and an address that has spent its budget is answered
// too-many-login-attempts for the failures that follow, while its customers' own passkeys still
// log in. The verification work a flood can cause stays bounded all the same: what is malformed or
// names no live challenge costs a parse and one indexed read, and a live challenge is used up
// before its signature is checked, so no more signatures are checked than PasskeyLoginOptions
// (throttled per address) handed out challenges.
func (s *Service) LoginWithPasskey(ctx context.Context, credential string) (TokenPair, error) {
	if err := s.passkeysOn(); err != nil {
		return TokenPair{}, err
	}
	if !takeCheck(ctx) {
		s.event(EventLoginThrottled)
		return TokenPair{}, errTooManyAttempts
	}
	ip := ClientFromContext(ctx).IP
	failed := func(cause error) (TokenPair, error) {
		end, err := s.admit(ctx, EventLoginThrottled, passkeyLoginLimits(s.cfg, ip)...)
		if err != nil {
			return TokenPair{}, err
		}
		end(true)
		s.log.InfoContext(ctx, "passkey login refused", "remote", ip, "reason", passkeyReason(cause))
		s.event(EventLoginFailed)
		return TokenPair{}, &Error{Code: EInvalidCredentials, Message: MsgLoginFailed, Err: cause}
	}
	if len(credential) > maxCredentialJSON {
		return failed(errors.New("credential too large"))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(credential))
	if err != nil {
		return failed(err)
	}
	ch, session, err := s.findChallenge(ctx, CeremonyLogin, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return failed(err)
	}
	errUsed := errors.New("the challenge was used meanwhile")
	err = s.store.Update(ctx, func(tx Tx) error {
		ok, err := tx.DeletePasskeyChallenge(ch.Hash)
		if err != nil || !ok {
			return errOrRefusal(err, errUsed)
		}
		return nil
	})
	switch {
	case errors.Is(err, errUsed):
		return failed(err)
	case err != nil:
		return TokenPair{}, internal("auth.LoginWithPasskey", err)
	}
	var stored Passkey
	var cust Customer
	cred, err := validateDiscoverableLogin(s.passkeys.rp, session, parsed, func(rawID []byte) (passkeyOwner, error) {
		var err error
		if stored, cust, err = s.store.PasskeyCustomer(ctx, rawID); err != nil {
			return passkeyOwner{}, err
		}
		return passkeyOwner{&passkeyUser{handle: s.userHandle(cust), c: cust}, stored.Credential, stored.SignCount}, nil
	})
	var lookupErr lookupError
	if errors.As(err, &lookupErr) {
		return TokenPair{}, internal("auth.LoginWithPasskey", lookupErr.err)
	}
	if err != nil {
		return failed(err)
	}
	now := s.Now()
	if cred.Authenticator.CloneWarning {
		// A counter that did not go up means two copies of the key exist: refuse, and say so.
		reason := AuditPasskeyClone.Of(fmt.Sprintf("stored %d, presented %d",
			stored.SignCount, parsed.Response.AuthenticatorData.Counter))
		if err := s.store.Update(ctx, func(tx Tx) error { return s.audit(ctx, tx, cust, "", reason) }); err != nil {
			s.log.ErrorContext(ctx, "audit passkey clone", "err", err)
		}
		s.log.WarnContext(ctx, "passkey login refused: possible cloned authenticator", "customer", cust.UUID, "remote", ip)
		return failed(errors.New(string(reason)))
	}
	record, err := passkeyRecord(cred) // a record stored before the limits shrinks on its next use
	if err != nil {
		return TokenPair{}, internal("auth.LoginWithPasskey", err)
	}
	errRace := errors.New("the passkey changed meanwhile")
	use := func(tx Tx) error {
		cur, err := tx.Passkey(stored.CredentialID)
		if errors.Is(err, ErrNotFound) || (err == nil && (cur.SignCount != stored.SignCount || cur.CustomerID != cust.ID)) {
			return errRace // removed, or used by a parallel login with the same counter
		}
		if err != nil {
			return err
		}
		cur.SignCount, cur.LastUsedAt, cur.Credential = cred.Authenticator.SignCount, now, record
		return tx.UpdatePasskey(cur)
	}
	pair, err := s.startSession(ctx, &cust, LoginInfo{Type: LoginTypePasskey}, use)
	if errors.Is(err, errRace) {
		return failed(errRace)
	}
	if err != nil {
		return TokenPair{}, err
	}
	s.event(EventLoginOK)
	return pair, nil
}

// passkeyOwner is what a discoverable login finds for the credential id an assertion names: its
// owner, as a go-webauthn user that holds no credential yet, and the stored record and counter.
type passkeyOwner struct {
	user      credentialHolder
	record    []byte // passkeyRecord's JSON
	signCount uint32
}

// credentialHolder is a go-webauthn user (a customer or an operator) that can be handed the one
// credential a login presents.
type credentialHolder interface {
	webauthn.User
	holding(webauthn.Credential) webauthn.User
}

// lookupError is a discoverable login that failed on the server's side: the store could not be
// read, or its record does not decode. Any other failure is the assertion's.
type lookupError struct{ err error }

func (e lookupError) Error() string { return e.err.Error() }
func (e lookupError) Unwrap() error { return e.err }

// validateDiscoverableLogin validates a discoverable login's assertion with rp, customers' and
// operators' alike. find loads the passkey the credential id names (ErrNotFound if none); the
// assertion's user handle must be its owner's, compared in constant time.
func validateDiscoverableLogin(rp *webauthn.WebAuthn, session webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData,
	find func(rawID []byte) (passkeyOwner, error)) (*webauthn.Credential, error) {
	var storeErr error // go-webauthn reports a failed lookup as the client's bad request
	lookup := func(rawID, userHandle []byte) (webauthn.User, error) {
		owner, err := find(rawID)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				storeErr = err
			}
			return nil, err
		}
		if subtle.ConstantTimeCompare(owner.user.WebAuthnID(), userHandle) != 1 {
			return nil, errors.New("the user handle is not the passkey owner's")
		}
		var rec webauthn.Credential
		if err := json.Unmarshal(owner.record, &rec); err != nil {
			storeErr = err
			return nil, err
		}
		rec.Authenticator.SignCount = owner.signCount
		return owner.user.holding(rec), nil
	}
	_, cred, err := rp.ValidatePasskeyLogin(lookup, session, parsed)
	if storeErr != nil {
		return nil, lookupError{storeErr}
	}
	return cred, err
}
