// Package auth is shopauth's domain: customers, passwords, sessions with rotating refresh-token
// secret chains, and the signing-key ring. It knows nothing of HTTP or SQL; storage comes in
// through the Store interface.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Config is the tunable policy. DefaultConfig gives the contract's defaults.
type Config struct {
	Issuer                string
	AccessTTL             time.Duration
	RefreshTTL            time.Duration
	ReuseInterval         time.Duration
	ClockLeeway           time.Duration
	MinPasswordLength     int
	SigningAlgorithm      string
	RecoveryTTL           time.Duration
	LoginFailuresPerEmail int // per minute, per email and IP
	LoginFailuresPerIP    int // per minute
	AuditRetention        time.Duration
}

// DefaultConfig returns the contract's defaults.
func DefaultConfig() Config {
	return Config{
		Issuer:                "http://127.0.0.1:8000",
		AccessTTL:             time.Hour,
		RefreshTTL:            14 * 24 * time.Hour,
		ReuseInterval:         10 * time.Second,
		ClockLeeway:           0,
		MinPasswordLength:     8,
		SigningAlgorithm:      RS256,
		RecoveryTTL:           time.Hour,
		LoginFailuresPerEmail: 5,
		LoginFailuresPerIP:    100,
		AuditRetention:        90 * 24 * time.Hour,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("issuer %q must be an absolute http(s) URL such as http://127.0.0.1:8000", c.Issuer)
	}
	switch {
	case c.AccessTTL <= 0:
		return errors.New("access token lifetime must be positive")
	case c.RefreshTTL <= 0:
		return errors.New("refresh token lifetime must be positive")
	case c.ReuseInterval < 0:
		return errors.New("refresh reuse interval must not be negative")
	case c.ClockLeeway < 0 || c.ClockLeeway > time.Minute:
		return errors.New("clock leeway must be between 0s and 60s")
	case c.MinPasswordLength < 1 || c.MinPasswordLength > 1024:
		return errors.New("minimum password length must be between 1 and 1024")
	case c.RecoveryTTL <= 0:
		return errors.New("recovery lifetime must be positive")
	case c.LoginFailuresPerEmail < 1 || c.LoginFailuresPerIP < 1:
		return errors.New("login failure limits must be at least 1")
	}
	switch c.SigningAlgorithm {
	case RS256, ES256, EdDSA:
	default:
		return fmt.Errorf("signing algorithm %q: want RS256, ES256 or EdDSA", c.SigningAlgorithm)
	}
	return nil
}

// TokenPair is what Login, Register, RefreshTokens and RecoverPassword answer.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
}

// Service carries out the domain's operations.
type Service struct {
	store    Store
	cfg      Config
	keys     keyRing
	chainKey []byte
	hasher   *Hasher
	limiter  *loginLimiter
	log      *slog.Logger
	// recoveryLimiter counts every recovery request (not only failures) per email+IP and per IP.
	recoveryLimiter *loginLimiter
	mailing         sync.WaitGroup // recovery mails still being sent

	// Now is the clock; tests replace it to reach a boundary second without sleeping.
	Now func() time.Time
	// Mailer sends recovery mails; nil writes them to the log.
	Mailer RecoveryMailer
	// OnEvent, when set, is told of each outcome (metrics): "login_ok", "login_failed",
	// "refresh_ok", "refresh_grace", "refresh_reused", "refresh_invalid".
	OnEvent func(event string)
}

// chainKeySetting names the stored key that derives each refresh secret from its parent.
const chainKeySetting = "chain_key"

// New returns a service over store. It creates the chain key and a first signing key if the
// database has none.
func New(ctx context.Context, store Store, cfg Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{store: store, cfg: cfg, hasher: NewHasher(), log: log, Now: time.Now}
	s.limiter = newLoginLimiter(cfg.LoginFailuresPerEmail, cfg.LoginFailuresPerIP)
	s.recoveryLimiter = newLoginLimiter(cfg.LoginFailuresPerEmail, cfg.LoginFailuresPerIP)
	err := store.Update(ctx, func(tx Tx) error {
		k, err := tx.Setting(chainKeySetting)
		if errors.Is(err, ErrNotFound) {
			k = make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return err
			}
			err = tx.SetSetting(chainKeySetting, k)
		}
		s.chainKey = k
		return err
	})
	if err != nil {
		return nil, internal("auth.New", err)
	}
	keys, err := store.SigningKeys(ctx)
	if err != nil {
		return nil, internal("auth.New", err)
	}
	if len(keys) == 0 {
		if _, err := s.RotateKey(ctx, cfg.SigningAlgorithm); err != nil {
			return nil, err
		}
		return s, nil
	}
	s.keys.set(keys)
	return s, nil
}

// Config returns the service's policy.
func (s *Service) Config() Config { return s.cfg }

// Hasher returns the password hasher (the command line hashes imported passwords with it).
func (s *Service) Hasher() *Hasher { return s.hasher }

func (s *Service) event(name string) {
	if s.OnEvent != nil {
		s.OnEvent(name)
	}
}

// ReloadKeys reads the key ring again, so a `keys rotate` run beside a live server takes effect.
func (s *Service) ReloadKeys(ctx context.Context) error {
	keys, err := s.store.SigningKeys(ctx)
	if err != nil {
		return internal("auth.ReloadKeys", err)
	}
	if len(keys) > 0 {
		s.keys.set(keys)
	}
	return nil
}

// RotateKey makes a new key of the algorithm that signs from now on; older keys keep verifying.
func (s *Service) RotateKey(ctx context.Context, alg string) (SigningKey, error) {
	k, err := GenerateKey(alg, s.Now())
	if err != nil {
		return SigningKey{}, err
	}
	return k, s.AddKey(ctx, k)
}

// AddKey stores a key (a rotated or an imported one); it signs from now on.
func (s *Service) AddKey(ctx context.Context, k SigningKey) error {
	// The ring orders keys by their creation second; a key added in the same second as the newest
	// (a rotation right after first start, an import on a new database) must still sort after it,
	// or the older key would go on signing.
	if cur := s.keys.current(); cur != nil && cur.ID != k.ID && !k.CreatedAt.After(cur.CreatedAt) {
		k.CreatedAt = cur.CreatedAt.Add(time.Second)
	}
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.AddSigningKey(k) }); err != nil {
		return internal("auth.AddKey", err)
	}
	return s.ReloadKeys(ctx)
}

// Keys lists the stored keys, oldest first, and whether each is live (may still have valid tokens).
func (s *Service) Keys() []KeyInfo {
	live := map[string]bool{}
	for _, k := range s.keys.live(s.Now(), s.maxTTL()) {
		live[k.ID] = true
	}
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	out := make([]KeyInfo, 0, len(s.keys.ordered))
	for _, k := range s.keys.ordered {
		out = append(out, KeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt,
			Signing: k == s.keys.signer, Live: live[k.ID], Shopsys: k.Shopsys})
	}
	return out
}

// KeyInfo describes a key for `shopauth keys list`.
type KeyInfo struct {
	ID, Algorithm string
	CreatedAt     time.Time
	Signing, Live bool
	Shopsys       bool
}

func (s *Service) maxTTL() time.Duration { return max(s.cfg.AccessTTL, s.cfg.RefreshTTL) }

// JWKS returns the public keys of every key that may still have live tokens.
func (s *Service) JWKS() JWKS {
	set := JWKS{Keys: nil}
	for _, k := range s.keys.live(s.Now(), s.maxTTL()) {
		set.Keys = append(set.Keys, k.public.Public())
	}
	return set
}

// Authenticate verifies an access token and that its session still lives (one indexed read).
func (s *Service) Authenticate(ctx context.Context, raw string) (*Principal, error) {
	v, c, err := s.verifyAccess(raw)
	if err != nil {
		return nil, invalidToken(err)
	}
	if v.legacy {
		// Issued by Shopsys before the move: no session here; honour it until exp unless the
		// password changed after it was issued.
		cust, err := s.store.CustomerByUUID(ctx, c.UUID)
		if err != nil {
			return nil, s.lookupError("auth.Authenticate", err)
		}
		if !cust.SecurityChangedAt.IsZero() && !cust.SecurityChangedAt.Before(v.iat) {
			return nil, invalidToken(errors.New("password changed after the token was issued"))
		}
		return &Principal{Customer: cust, DeviceID: c.DeviceID, Legacy: true}, nil
	}
	sess, cust, err := s.store.SessionCustomer(ctx, c.DeviceID)
	if err != nil {
		return nil, s.lookupError("auth.Authenticate", err)
	}
	if cust.UUID != c.UUID || !s.Now().Before(sess.ExpiresAt) {
		return nil, invalidToken(errors.New("session belongs to another customer or has expired"))
	}
	return &Principal{Customer: cust, DeviceID: c.DeviceID}, nil
}

// lookupError turns a not-found into invalid-token and anything else into an internal error.
func (s *Service) lookupError(op string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return invalidToken(err)
	}
	return internal(op, err)
}

// Login checks the password and starts a session on a new device.
func (s *Service) Login(ctx context.Context, email, password string) (TokenPair, error) {
	ip := ClientFromContext(ctx).IP
	email = normalizeEmail(email)
	// The attempt counts as a failure from the start and is given back once the password is right,
	// so parallel guesses cannot all slip past the limit while their hashes run.
	release, allowed := s.limiter.reserve(email, ip)
	if !allowed {
		s.event("login_throttled")
		return TokenPair{}, &Error{Code: ETooManyLoginAttempts, Message: MsgTooManyAttempts}
	}
	failed := func() (TokenPair, error) {
		s.event("login_failed")
		return TokenPair{}, &Error{Code: EInvalidCredentials, Message: MsgLoginFailed}
	}
	c, err := s.store.CustomerByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		// Spend the same time as a wrong password, so the answer's timing tells nothing.
		_, _, _ = s.hasher.Verify(ctx, dummyHash, password)
		return failed()
	}
	if err != nil {
		release()
		return TokenPair{}, internal("auth.Login", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, c.PasswordHash, password)
	if err != nil {
		release()
		return TokenPair{}, internal("auth.Login", err)
	}
	if !ok {
		return failed()
	}
	release()
	var upgrade func(Tx) error
	if rehash {
		h, err := s.hasher.Hash(ctx, password)
		if err != nil {
			return TokenPair{}, internal("auth.Login", err)
		}
		c.PasswordHash = h
		upgrade = func(tx Tx) error { return tx.UpdateCustomer(c) }
	}
	pair, err := s.startSession(ctx, &c, upgrade)
	if err == nil {
		s.event("login_ok")
	}
	return pair, err
}

// startSession signs a new device's token pair and stores the session, running first (if set)
// in the same transaction.
func (s *Service) startSession(ctx context.Context, c *Customer, first func(Tx) error) (TokenPair, error) {
	now := s.Now()
	deviceID := uuid.NewString()
	secret, err := newSecret()
	if err != nil {
		return TokenPair{}, internal("auth.startSession", err)
	}
	iat, exp := now.Truncate(time.Second), now.Add(s.cfg.RefreshTTL).Truncate(time.Second)
	key := s.keys.current()
	refresh, sig, err := key.sign(s.refreshPayload(c.UUID, deviceID, secret, iat, exp))
	if err != nil {
		return TokenPair{}, internal("auth.startSession", err)
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		return tx.CreateSession(Session{
			DeviceID: deviceID, CustomerID: c.ID, SecretHash: hashSecret(secret),
			CreatedAt: now, IssuedAt: iat, ExpiresAt: exp, KeyID: key.ID, Signature: sig,
		})
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return TokenPair{}, e
		}
		return TokenPair{}, internal("auth.startSession", err)
	}
	access, err := s.signAccess(c, deviceID, now)
	if err != nil {
		return TokenPair{}, internal("auth.startSession", err)
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh}, nil
}

// refreshOutcome is what the rotation transaction decided.
type refreshOutcome int

const (
	refreshInvalid refreshOutcome = iota
	refreshRotated
	refreshGrace
	refreshReused
)

// Refresh rotates a session's secret chain: the presented secret is used up and its successor
// issued. The just-rotated token presented again inside the reuse interval gets the same successor
// (byte for byte); any other used token ends the session and is audited.
func (s *Service) Refresh(ctx context.Context, raw string) (TokenPair, error) {
	_, claims, err := s.verifyRefresh(raw)
	if err != nil {
		s.event("refresh_invalid")
		return TokenPair{}, invalidToken(err)
	}
	now := s.Now()
	presented := hashSecret(claims.SecretChain)
	successor := s.nextSecret(claims.SecretChain)
	successorHash := hashSecret(successor)
	iat, exp := now.Truncate(time.Second), now.Add(s.cfg.RefreshTTL).Truncate(time.Second)
	key := s.keys.current()
	// Signed before the transaction so that the write lock is held for microseconds, not for an
	// RSA signature; on the rarer grace and reuse paths this signature is thrown away.
	refresh, sig, err := key.sign(s.refreshPayload(claims.UUID, claims.DeviceID, successor, iat, exp))
	if err != nil {
		return TokenPair{}, internal("auth.Refresh", err)
	}

	var outcome refreshOutcome
	var reason string
	var sess Session
	var cust Customer
	err = s.store.Update(ctx, func(tx Tx) error {
		outcome, reason = refreshInvalid, ""
		var err error
		sess, err = tx.Session(claims.DeviceID)
		if errors.Is(err, ErrNotFound) {
			reason = "session ended"
			return nil
		}
		if err != nil {
			return err
		}
		cust, err = tx.CustomerByID(sess.CustomerID)
		if err != nil {
			return err
		}
		if cust.UUID != claims.UUID {
			reason = "token names another customer"
			return nil
		}
		if !now.Before(sess.ExpiresAt) {
			reason = "session expired"
			_, err := tx.DeleteSession(sess.DeviceID)
			return err
		}
		switch {
		case subtle.ConstantTimeCompare(presented, sess.SecretHash) == 1:
			outcome = refreshRotated
			sess.PrevSecretHash, sess.SecretHash = sess.SecretHash, successorHash
			sess.RotatedAt, sess.LastRefreshedAt = now, now
			sess.IssuedAt, sess.ExpiresAt, sess.KeyID, sess.Signature = iat, exp, key.ID, sig
			return tx.UpdateSession(sess)
		case s.cfg.ReuseInterval > 0 && len(sess.PrevSecretHash) > 0 &&
			subtle.ConstantTimeCompare(presented, sess.PrevSecretHash) == 1 &&
			subtle.ConstantTimeCompare(successorHash, sess.SecretHash) == 1 &&
			now.Before(sess.RotatedAt.Add(s.cfg.ReuseInterval)):
			outcome = refreshGrace
			return nil
		default:
			outcome = refreshReused
			reason = "refresh token reused"
			if _, err := tx.DeleteSession(sess.DeviceID); err != nil {
				return err
			}
			return tx.AddAudit(AuditEvent{At: now, CustomerID: cust.ID, DeviceID: sess.DeviceID,
				Reason: reason, RemoteAddr: ClientFromContext(ctx).IP})
		}
	})
	if err != nil {
		return TokenPair{}, internal("auth.Refresh", err)
	}
	switch outcome {
	case refreshGrace:
		k := s.keys.byKeyID(sess.KeyID)
		if k == nil {
			s.event("refresh_invalid")
			return TokenPair{}, invalidToken(errors.New("grace successor's key is gone"))
		}
		refresh = k.assemble(s.refreshPayload(claims.UUID, claims.DeviceID, successor, sess.IssuedAt, sess.ExpiresAt), sess.Signature)
		s.event("refresh_grace")
	case refreshRotated:
		s.event("refresh_ok")
	case refreshReused:
		s.log.Warn("refresh token reuse: session ended", "customer", cust.UUID, "device", claims.DeviceID,
			"remote", ClientFromContext(ctx).IP)
		s.event("refresh_reused")
		return TokenPair{}, invalidToken(errors.New(reason))
	default:
		s.event("refresh_invalid")
		return TokenPair{}, invalidToken(errors.New(reason))
	}
	access, err := s.signAccess(&cust, claims.DeviceID, now)
	if err != nil {
		return TokenPair{}, internal("auth.Refresh", err)
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh}, nil
}

// Logout ends the caller's session.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	if p == nil {
		return errInvalidToken
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		_, err := tx.DeleteSession(p.DeviceID)
		return err
	})
	if err != nil {
		return internal("auth.Logout", err)
	}
	return nil
}

// SessionScope says which of the caller's sessions RevokeSessions ends.
type SessionScope string

const (
	ScopeOthers SessionScope = "OTHERS"
	ScopeAll    SessionScope = "ALL"
)

// RevokeSessions ends the caller's other sessions, or all of them, and returns how many ended.
func (s *Service) RevokeSessions(ctx context.Context, p *Principal, scope SessionScope) (int, error) {
	if p == nil {
		return 0, errInvalidToken
	}
	keep := ""
	if scope == ScopeOthers {
		keep = p.DeviceID
	}
	var n int
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		n, err = tx.DeleteSessions(p.Customer.ID, keep)
		return err
	})
	if err != nil {
		return 0, internal("auth.RevokeSessions", err)
	}
	return n, nil
}

// SessionInfo is one of the caller's sessions, as customerSessions lists it.
type SessionInfo struct {
	DeviceID        string
	CreatedAt       time.Time
	LastRefreshedAt time.Time // zero if never refreshed
	ExpiresAt       time.Time
	Current         bool
}

// Sessions lists the caller's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]SessionInfo, error) {
	if p == nil {
		return nil, errInvalidToken
	}
	list, err := s.store.Sessions(ctx, p.Customer.ID)
	if err != nil {
		return nil, internal("auth.Sessions", err)
	}
	now := s.Now()
	out := make([]SessionInfo, 0, len(list))
	for _, x := range list {
		if !now.Before(x.ExpiresAt) {
			continue
		}
		out = append(out, SessionInfo{DeviceID: x.DeviceID, CreatedAt: x.CreatedAt,
			LastRefreshedAt: x.LastRefreshedAt, ExpiresAt: x.ExpiresAt, Current: x.DeviceID == p.DeviceID})
	}
	return out, nil
}

// Prune deletes expired sessions and old audit rows, and forgets idle throttling counters.
func (s *Service) Prune(ctx context.Context) (int, error) {
	now := s.Now()
	s.limiter.sweep()
	s.recoveryLimiter.sweep()
	var n int
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		n, err = tx.DeleteExpired(now, now.Add(-s.cfg.AuditRetention))
		return err
	})
	if err != nil {
		return 0, internal("auth.Prune", err)
	}
	return n, nil
}

// Drain waits until the recovery mails being sent have gone out or failed, or until ctx is done.
// The server calls it when it stops, so a customer who just asked is not left without a mail.
func (s *Service) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.mailing.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ping reports whether storage answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// newSecret returns a fresh secret chain: 40 lowercase hex characters, 160 bits from the CSPRNG.
func newSecret() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// nextSecret derives a secret's successor with the stored chain key, so a grace retry can be
// answered with the same token without the successor ever being stored in clear.
func (s *Service) nextSecret(secret string) string {
	m := hmac.New(sha256.New, s.chainKey)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil)[:20])
}

// hashSecret is how a secret is stored: SHA-256, so one indexed comparison finds it.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
