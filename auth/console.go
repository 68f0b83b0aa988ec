package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
)

// The admin console's operators: who they are (`shopauth operators add|list|remove`), how they
// enrol a passkey from a one-time link and log in with it, and their cookie sessions. Passkeys are
// verified by go-webauthn as customers' are (passkey.go), for a relying party of their own: the
// admin address's host.

// Lifetimes of the console's secrets.
const (
	ConsoleEnrolTTL    = 15 * time.Minute // an enrolment link
	ConsoleSessionTTL  = 8 * time.Hour    // a console login, at most
	ConsoleIdleTimeout = time.Hour        // a console login nobody used for this long ends
	// consoleTouchEvery is how stale a session's last-seen time may get before a request writes
	// it again, so that browsing the console is not one write per request.
	consoleTouchEvery = time.Minute
	maxOperatorName   = 64
)

// Ceremonies of the console's passkeys, in the shared challenge table.
const (
	CeremonyConsoleRegistration = "console-registration"
	CeremonyConsoleLogin        = "console-login"
)

// Errors of the console. EOperatorLoginRequired is every console operation's answer without a
// live operator session (none, expired, idle, ended, or the operator removed).
const (
	EOperatorLoginRequired = "operator-login-required"
	MsgOperatorLogin       = "Log in to the admin console with your passkey."
	MsgEnrolLinkInvalid    = "This enrolment link is not valid: it was used, it expired (after 15 minutes), or the operator was removed. Ask for a new one (shopauth operators add NAME)."
	MsgConsoleDisabled     = "The admin console has no relying party for passkeys: start it with --admin-addr."
)

var (
	errOperatorLogin   = &Error{Code: EOperatorLoginRequired, Message: MsgOperatorLogin}
	errEnrolLinkBad    = &Error{Code: EInvalidCredentials, Message: MsgEnrolLinkInvalid}
	errConsoleDisabled = &Error{Code: EPasskeysDisabled, Message: MsgConsoleDisabled}
)

// ConsolePrincipal is the operator a console session cookie proved.
type ConsolePrincipal struct {
	Operator    ConsoleOperator
	sessionHash []byte
}

type consoleKey struct{}

// NewContextWithConsoleOperator returns ctx carrying the console's caller: every audit event
// recorded under it names the operator.
func NewContextWithConsoleOperator(ctx context.Context, p *ConsolePrincipal) context.Context {
	return context.WithValue(ctx, consoleKey{}, p)
}

// ConsoleOperatorFromContext returns the console's caller, or nil.
func ConsoleOperatorFromContext(ctx context.Context) *ConsolePrincipal {
	p, _ := ctx.Value(consoleKey{}).(*ConsolePrincipal)
	return p
}

// ConsoleCaller is the operator every console action needs: operator-login-required without one.
func ConsoleCaller(ctx context.Context) (*ConsolePrincipal, error) {
	if p := ConsoleOperatorFromContext(ctx); p != nil {
		return p, nil
	}
	return nil, errOperatorLogin
}

// FoldSearch is how a customer search's text is compared: trimmed and lower-cased.
func FoldSearch(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ConsoleRelyingParty is the console's WebAuthn relying party for the admin address: a loopback
// address (or localhost) gives RP ID localhost and the origin http://localhost:PORT, a host name
// itself. Another IP address, or every interface, cannot be an RP ID: refused, so the console is
// reached through an SSH tunnel (or a name) and never enrols passkeys nobody can use.
func ConsoleRelyingParty(adminAddr string) (RelyingParty, error) {
	host, port, err := net.SplitHostPort(adminAddr)
	if err != nil || port == "" {
		return RelyingParty{}, fmt.Errorf("--admin-addr %q is not HOST:PORT", adminAddr)
	}
	host = strings.ToLower(host)
	if ip := net.ParseIP(host); ip != nil || host == "" {
		if ip == nil || !ip.IsLoopback() {
			return RelyingParty{}, fmt.Errorf("--admin-addr %s: the console's passkeys need a loopback address (reach it through an SSH tunnel) or a host name, not %q", adminAddr, host)
		}
		host = "localhost"
	}
	rp := RelyingParty{ID: host, Origins: []string{"http://" + net.JoinHostPort(host, port)}}
	if host != "localhost" {
		rp.Origins = append(rp.Origins, "https://"+net.JoinHostPort(host, port), "https://"+host)
	}
	if err := rp.validate(); err != nil {
		return RelyingParty{}, fmt.Errorf("--admin-addr %s: %w", adminAddr, err)
	}
	return rp, nil
}

// ConsoleURL is the console's address as an operator's browser opens it (loopback as localhost).
func ConsoleURL(adminAddr string) (string, error) {
	rp, err := ConsoleRelyingParty(adminAddr)
	if err != nil {
		return "", err
	}
	return rp.Origins[0] + "/admin", nil
}

func newConsoleRP(cfg Config) (passkeyRP, error) {
	if cfg.Console.ID == "" {
		return passkeyRP{}, nil
	}
	rp, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.Console.ID,
		RPDisplayName: "shopauth admin console",
		RPOrigins:     cfg.Console.Origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
			Registration: webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
		},
	})
	if err != nil {
		return passkeyRP{}, fmt.Errorf("webauthn (console): %w", err)
	}
	return passkeyRP{rp: rp}, nil
}

// operatorUser is an operator as go-webauthn sees one.
type operatorUser struct {
	handle []byte
	o      ConsoleOperator
	creds  []webauthn.Credential
}

func (u *operatorUser) WebAuthnID() []byte                         { return u.handle }
func (u *operatorUser) WebAuthnName() string                       { return u.o.Name }
func (u *operatorUser) WebAuthnDisplayName() string                { return u.o.Name + " (shopauth operator)" }
func (u *operatorUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (u *operatorUser) holding(c webauthn.Credential) webauthn.User {
	u.creds = []webauthn.Credential{c}
	return u
}

const operatorHandleLabel = "shopauth console operator handle\x00"

func (s *Service) operatorHandle(o ConsoleOperator) []byte {
	return s.chain.sum(nil, []byte(operatorHandleLabel+o.UUID))
}

// newConsoleSecret is a 256-bit random secret, base64url: an enrolment link's or a session cookie's.
func newConsoleSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// UnknownOperatorError is the answer to a command about a name no operator has.
type UnknownOperatorError struct{ Name string }

func (e *UnknownOperatorError) Error() string { return "no console operator is named " + e.Name }

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *UnknownOperatorError) Is(target error) bool { return target == ErrNotFound }

// checkOperatorName refuses a name that would be unreadable in a list or a log line.
func checkOperatorName(name string) error {
	switch {
	case name == "" || strings.TrimSpace(name) != name:
		return fmt.Errorf("operator name %q must not be empty or start or end with spaces", name)
	case utf8.RuneCountInString(name) > maxOperatorName:
		return fmt.Errorf("operator name %q is longer than %d characters", name, maxOperatorName)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("operator name %q must not contain control characters", name)
	}
	return nil
}

// ConsoleEnrolment is what `operators add` prints: the one-time secret of the enrolment link.
type ConsoleEnrolment struct {
	Operator  ConsoleOperator
	Secret    string
	ExpiresAt time.Time
	Created   bool // false: the operator existed, and this link adds a passkey to them
}

// AddConsoleOperator creates the operator NAME (or finds the existing one) and issues a one-time
// enrolment secret, valid for ConsoleEnrolTTL, replacing any earlier one of theirs.
func (s *Service) AddConsoleOperator(ctx context.Context, name string) (ConsoleEnrolment, error) {
	if err := checkOperatorName(name); err != nil {
		return ConsoleEnrolment{}, err
	}
	secret, err := newConsoleSecret()
	if err != nil {
		return ConsoleEnrolment{}, internal("auth.AddConsoleOperator", err)
	}
	now := s.Now()
	e := ConsoleEnrolment{Secret: secret, ExpiresAt: now.Add(ConsoleEnrolTTL)}
	err = s.store.Update(ctx, func(tx Tx) error {
		o, err := tx.ConsoleOperatorByName(name)
		switch {
		case errors.Is(err, ErrNotFound):
			o = ConsoleOperator{UUID: uuid.NewString(), Name: name, CreatedAt: now,
				EnrolHash: hashSecret(secret), EnrolExpiresAt: e.ExpiresAt}
			if err := tx.CreateConsoleOperator(&o); err != nil {
				return err
			}
			e.Operator, e.Created = o, true
			return s.audit(ctx, tx, Customer{}, "", AuditConsoleOperatorAdded.Of(name))
		case err != nil:
			return err
		}
		o.EnrolHash, o.EnrolExpiresAt = hashSecret(secret), e.ExpiresAt
		e.Operator = o
		if err := tx.UpdateConsoleOperator(o); err != nil {
			return err
		}
		return s.audit(ctx, tx, Customer{}, "", AuditConsoleEnrolLink.Of(name))
	})
	if err != nil {
		return ConsoleEnrolment{}, internal("auth.AddConsoleOperator", err)
	}
	return e, nil
}

// ConsoleOperators lists the operators by name, with their passkeys counted.
func (s *Service) ConsoleOperators(ctx context.Context) ([]ConsoleOperator, error) {
	list, err := s.store.ConsoleOperators(ctx)
	if err != nil {
		return nil, internal("auth.ConsoleOperators", err)
	}
	return list, nil
}

// OperatorRemoval is what removing a console operator ended.
type OperatorRemoval struct {
	ConsoleSessions  int // their console logins
	CustomerSessions int // live customer sessions they had opened with "log in as"
	HandOffs         int // live "log in as" codes issued to them and not yet used
}

// RemoveConsoleOperator erases the operator with their passkeys and console sessions (which stop
// working at once) and, in the same transaction, ends every customer session they opened with
// "log in as" and drops the codes for one they have not used: a removed operator no longer acts
// as any customer. Each of those is audited on its customer (AuditImpersonationEnded); expired
// ones, not yet pruned, go uncounted and unaudited. Audit events keep the operator's name.
func (s *Service) RemoveConsoleOperator(ctx context.Context, name string) (OperatorRemoval, error) {
	var r OperatorRemoval
	err := s.store.Update(ctx, func(tx Tx) error {
		r = OperatorRemoval{}
		o, err := tx.ConsoleOperatorByName(name)
		if errors.Is(err, ErrNotFound) {
			return &UnknownOperatorError{Name: name}
		}
		if err != nil {
			return err
		}
		if r.ConsoleSessions, err = tx.DeleteConsoleSessions(o.ID); err != nil {
			return err
		}
		sessions, err := tx.DeleteAdministratorSessions(o.UUID)
		if err != nil {
			return err
		}
		handOffs, err := tx.DeleteAdministratorHandOffs(o.UUID)
		if err != nil {
			return err
		}
		// ended counts and audits one of them on its customer, unless it had expired anyway.
		now := s.Now()
		ended := func(n *int, customerID int64, deviceID string, expiresAt time.Time) error {
			if !now.Before(expiresAt) {
				return nil
			}
			*n++
			return s.audit(ctx, tx, Customer{ID: customerID}, deviceID, AuditImpersonationEnded.Of(name))
		}
		for _, x := range sessions {
			if err := ended(&r.CustomerSessions, x.CustomerID, x.DeviceID, x.ExpiresAt); err != nil {
				return err
			}
		}
		for _, h := range handOffs {
			if err := ended(&r.HandOffs, h.CustomerID, "", h.ExpiresAt); err != nil {
				return err
			}
		}
		if err := tx.DeleteConsoleOperator(o.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, Customer{}, "", AuditConsoleOperatorRemoved.Of(name))
	})
	var unknown *UnknownOperatorError
	if errors.As(err, &unknown) {
		return OperatorRemoval{}, err
	}
	if err != nil {
		return OperatorRemoval{}, internal("auth.RemoveConsoleOperator", err)
	}
	return r, nil
}

// enrollingOperator finds the operator whose live enrolment secret this is.
func (s *Service) enrollingOperator(ctx context.Context, secret string) (ConsoleOperator, error) {
	if secret == "" || len(secret) > 100 {
		return ConsoleOperator{}, errEnrolLinkBad
	}
	o, err := s.store.ConsoleOperatorByEnrolHash(ctx, hashSecret(secret))
	if errors.Is(err, ErrNotFound) {
		return ConsoleOperator{}, errEnrolLinkBad
	}
	if err != nil {
		return ConsoleOperator{}, internal("auth.enrollingOperator", err)
	}
	if !s.Now().Before(o.EnrolExpiresAt) {
		return ConsoleOperator{}, errEnrolLinkBad
	}
	return o, nil
}

// ConsoleEnrolOptions begins registering a passkey from an enrolment link: it answers the
// operator's name and the creation options ({"publicKey": {...}}).
func (s *Service) ConsoleEnrolOptions(ctx context.Context, secret string) (string, string, error) {
	if s.console.rp == nil {
		return "", "", errConsoleDisabled
	}
	o, err := s.enrollingOperator(ctx, secret)
	if err != nil {
		return "", "", err
	}
	creation, session, err := s.console.rp.BeginRegistration(&operatorUser{handle: s.operatorHandle(o), o: o},
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return "", "", internal("auth.ConsoleEnrolOptions", err)
	}
	options, err := s.storeChallenge(ctx, CeremonyConsoleRegistration, 0, session, creation)
	return options, o.Name, err
}

// ConsoleLogin is a started console session: Secret goes into the cookie and nowhere else.
type ConsoleLogin struct {
	Operator  ConsoleOperator
	Secret    string
	ExpiresAt time.Time
}

// ConsoleEnrol finishes an enrolment: the passkey is stored, the link used up, and the operator
// logged in. A credential that does not verify changes nothing and leaves the link usable.
func (s *Service) ConsoleEnrol(ctx context.Context, secret, credential string) (ConsoleLogin, error) {
	if s.console.rp == nil {
		return ConsoleLogin{}, errConsoleDisabled
	}
	o, err := s.enrollingOperator(ctx, secret)
	if err != nil {
		return ConsoleLogin{}, err
	}
	notVerified := func(cause error) (ConsoleLogin, error) {
		s.log.InfoContext(ctx, "console passkey enrolment refused", "operator", o.Name, "reason", passkeyReason(cause))
		return ConsoleLogin{}, &Error{Code: EValidation, Message: MsgValidation, Err: cause,
			Validation: Violations{"input.credential": {{Message: MsgPasskeyNotVerified, Code: codePasskeyNotVerified}}}}
	}
	if len(credential) > maxCredentialJSON {
		return notVerified(errors.New("credential too large"))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(credential))
	if err != nil {
		return notVerified(err)
	}
	ch, session, err := s.findChallenge(ctx, CeremonyConsoleRegistration, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return notVerified(err)
	}
	handle := s.operatorHandle(o)
	if subtle.ConstantTimeCompare(session.UserID, handle) != 1 {
		return notVerified(errors.New("the challenge was given to another operator"))
	}
	cred, err := s.console.rp.CreateCredential(&operatorUser{handle: handle, o: o}, session, parsed)
	if err != nil {
		return notVerified(err)
	}
	if err := usablePublicKey(cred.PublicKey); err != nil {
		return notVerified(err)
	}
	record, err := passkeyRecord(cred)
	if err != nil {
		return ConsoleLogin{}, internal("auth.ConsoleEnrol", err)
	}
	now := s.Now()
	errUsed := errors.New("the challenge or the link was used meanwhile")
	login, err := s.startConsoleSession(ctx, o, func(tx Tx) error {
		if ok, err := tx.DeletePasskeyChallenge(ch.Hash); err != nil || !ok {
			return errOrRefusal(err, errUsed)
		}
		cur, err := tx.ConsoleOperatorByID(o.ID)
		if errors.Is(err, ErrNotFound) || (err == nil && !bytes32Equal(cur.EnrolHash, o.EnrolHash)) {
			return errUsed
		}
		if err != nil {
			return err
		}
		cur.EnrolHash, cur.EnrolExpiresAt = nil, time.Time{}
		if err := tx.UpdateConsoleOperator(cur); err != nil {
			return err
		}
		err = tx.CreateConsolePasskey(ConsolePasskey{CredentialID: cred.ID, OperatorID: o.ID, Credential: record,
			SignCount: cred.Authenticator.SignCount, CreatedAt: now})
		if err != nil {
			return err
		}
		return s.audit(NewContextWithConsoleOperator(ctx, &ConsolePrincipal{Operator: o}), tx, Customer{}, "", AuditConsolePasskeyAdded.Of(o.Name))
	})
	switch {
	case errors.Is(err, errUsed), errors.Is(err, ErrPasskeyTaken):
		return notVerified(err)
	case err != nil:
		return ConsoleLogin{}, internal("auth.ConsoleEnrol", err)
	}
	return login, nil
}

func bytes32Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// startConsoleSession runs first, then stores a new console session of o, in one transaction. Its
// error is first's or the store's, unwrapped.
func (s *Service) startConsoleSession(ctx context.Context, o ConsoleOperator, first func(Tx) error) (ConsoleLogin, error) {
	secret, err := newConsoleSecret()
	if err != nil {
		return ConsoleLogin{}, internal("auth.startConsoleSession", err)
	}
	now := s.Now()
	sess := ConsoleSession{IDHash: hashSecret(secret), OperatorID: o.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(ConsoleSessionTTL)}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := first(tx); err != nil {
			return err
		}
		if err := tx.CreateConsoleSession(sess); err != nil {
			return err
		}
		cur, err := tx.ConsoleOperatorByID(o.ID)
		if err != nil {
			return err
		}
		cur.LastLoginAt = now
		if err := tx.UpdateConsoleOperator(cur); err != nil {
			return err
		}
		return s.audit(NewContextWithConsoleOperator(ctx, &ConsolePrincipal{Operator: o}), tx, Customer{}, "", AuditConsoleLogin.Of(o.Name))
	})
	if err != nil {
		return ConsoleLogin{}, err // the caller tells its own refusals from a failure
	}
	o.LastLoginAt = now
	return ConsoleLogin{Operator: o, Secret: secret, ExpiresAt: sess.ExpiresAt}, nil
}

// consoleLoginLimits: failed console logins from an address draw on a budget of their own.
func consoleLoginLimits(cfg Config, ip string) []Limit {
	return []Limit{{Key: "console\x00" + addressKey(ip), Max: cfg.LoginFailuresPerEmail}}
}

// ConsoleLoginOptions begins an operator's passkey login (discoverable: no credentials listed).
func (s *Service) ConsoleLoginOptions(ctx context.Context) (string, error) {
	if s.console.rp == nil {
		return "", errConsoleDisabled
	}
	// Each options request stores a challenge, so every one counts against the address.
	end, err := s.beginAttempt(ctx, EventLoginThrottled,
		Limit{Key: "console-options\x00" + addressKey(ClientFromContext(ctx).IP), Max: s.cfg.LoginFailuresPerIP})
	if err != nil {
		return "", err
	}
	end(true)
	assertion, session, err := s.console.rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return "", internal("auth.ConsoleLoginOptions", err)
	}
	return s.storeChallenge(ctx, CeremonyConsoleLogin, 0, session, assertion)
}

// ConsoleLogin finishes an operator's passkey login and starts a console session. Whatever does
// not verify (a customer's passkey, a removed operator's, a replay) is "Log in failed.".
func (s *Service) ConsoleLogin(ctx context.Context, credential string) (ConsoleLogin, error) {
	if s.console.rp == nil {
		return ConsoleLogin{}, errConsoleDisabled
	}
	ip := ClientFromContext(ctx).IP
	end, err := s.beginAttempt(ctx, EventLoginThrottled, consoleLoginLimits(s.cfg, ip)...)
	if err != nil {
		return ConsoleLogin{}, err
	}
	failed := func(cause error) (ConsoleLogin, error) {
		end(true)
		s.log.InfoContext(ctx, "console login refused", "remote", ip, "reason", passkeyReason(cause))
		return ConsoleLogin{}, &Error{Code: EInvalidCredentials, Message: MsgLoginFailed, Err: cause}
	}
	if len(credential) > maxCredentialJSON {
		return failed(errors.New("credential too large"))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(credential))
	if err != nil {
		return failed(err)
	}
	ch, session, err := s.findChallenge(ctx, CeremonyConsoleLogin, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return failed(err)
	}
	var stored ConsolePasskey
	var op ConsoleOperator
	cred, err := validateDiscoverableLogin(s.console.rp, session, parsed, func(rawID []byte) (passkeyOwner, error) {
		var err error
		if stored, op, err = s.store.ConsolePasskeyOperator(ctx, rawID); err != nil {
			return passkeyOwner{}, err
		}
		return passkeyOwner{&operatorUser{handle: s.operatorHandle(op), o: op}, stored.Credential, stored.SignCount}, nil
	})
	var lookupErr lookupError
	if errors.As(err, &lookupErr) {
		end(false)
		return ConsoleLogin{}, internal("auth.ConsoleLogin", lookupErr.err)
	}
	if err != nil {
		return failed(err)
	}
	if cred.Authenticator.CloneWarning {
		return failed(fmt.Errorf("%s: stored %d, presented %d", AuditPasskeyClone, stored.SignCount, parsed.Response.AuthenticatorData.Counter))
	}
	record, err := passkeyRecord(cred) // what a customer's passkey keeps, nothing a client chose the size of
	if err != nil {
		end(false)
		return ConsoleLogin{}, internal("auth.ConsoleLogin", err)
	}
	now := s.Now()
	errRace := errors.New("the challenge or the passkey changed meanwhile")
	login, err := s.startConsoleSession(ctx, op, func(tx Tx) error {
		ok, err := tx.DeletePasskeyChallenge(ch.Hash)
		if err != nil || !ok {
			return errOrRefusal(err, errRace)
		}
		cur, err := tx.ConsolePasskey(stored.CredentialID)
		if errors.Is(err, ErrNotFound) || (err == nil && (cur.SignCount != stored.SignCount || cur.OperatorID != op.ID)) {
			return errRace
		}
		if err != nil {
			return err
		}
		cur.SignCount, cur.LastUsedAt, cur.Credential = cred.Authenticator.SignCount, now, record
		return tx.UpdateConsolePasskey(cur)
	})
	if errors.Is(err, errRace) || errors.Is(err, ErrNotFound) {
		return failed(err) // ErrNotFound: the operator was removed meanwhile
	}
	end(false)
	if err != nil {
		return ConsoleLogin{}, internal("auth.ConsoleLogin", err)
	}
	return login, nil
}

// AuthenticateConsole checks a console session cookie's secret: a session that exists, is younger
// than ConsoleSessionTTL and was used within ConsoleIdleTimeout. Anything else is
// operator-login-required. A request marks the session used (at most once a minute).
func (s *Service) AuthenticateConsole(ctx context.Context, secret string) (*ConsolePrincipal, error) {
	if secret == "" || len(secret) > 100 {
		return nil, errOperatorLogin
	}
	h := hashSecret(secret)
	sess, o, err := s.store.ConsoleSessionOperator(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, errOperatorLogin
	}
	if err != nil {
		return nil, internal("auth.AuthenticateConsole", err)
	}
	now := s.Now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(ConsoleIdleTimeout)) {
		return nil, &Error{Code: EOperatorLoginRequired, Message: MsgOperatorLogin, Err: errors.New("console session expired or idle")}
	}
	if now.Sub(sess.LastSeenAt) >= consoleTouchEvery {
		if err := s.store.Update(ctx, func(tx Tx) error { return tx.TouchConsoleSession(h, now) }); err != nil {
			return nil, internal("auth.AuthenticateConsole", err)
		}
	}
	return &ConsolePrincipal{Operator: o, sessionHash: h}, nil
}

// ConsoleLogout ends the caller's console session.
func (s *Service) ConsoleLogout(ctx context.Context) error {
	p, err := ConsoleCaller(ctx)
	if err != nil {
		return err
	}
	if err := s.store.Update(ctx, func(tx Tx) error { _, err := tx.DeleteConsoleSession(p.sessionHash); return err }); err != nil {
		return internal("auth.ConsoleLogout", err)
	}
	return nil
}
