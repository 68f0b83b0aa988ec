// Package auth is shopauth's domain: customers, passwords, sessions with rotating refresh-token
// secret chains, the signing-key ring, throttles, passkeys, social linking, password recovery,
// impersonation and the admin console's operators. It knows nothing of HTTP or SQL and imports no
// other shopauth package; storage, mail, identity providers and shared throttle counters come in
// through the interfaces it declares (Store, RecoveryMailer, VerificationMailer, IdentityProvider,
// Throttle).
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"
)

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
	chain    *macs // HMAC states keyed with the stored chain key (chainKeySetting)
	hasher   *Hasher
	log      *slog.Logger
	mailing  sync.WaitGroup // recovery mails still being sent
	passkeys passkeyRP
	console  passkeyRP    // the admin console's operators, a relying party of its own
	floor    failureFloor // how long a failed login takes at least
	health   writeHealth

	// Now is the clock; tests replace it to reach a boundary second without sleeping.
	Now func() time.Time
	// Throttle counts failed password checks and other attempts per minute; New makes an in-memory
	// one, a deployment of several processes replaces it with one they share.
	Throttle Throttle
	// Sleep waits (to pad a failure's answer to the floor); tests replace it to see the waits.
	Sleep func(ctx context.Context, d time.Duration)
	// Mailer sends recovery mails (mail.New writes them to the log when no mail server is set);
	// nil sends none.
	Mailer RecoveryMailer
	// OnEvent, when set, is told of each outcome (metrics); Events lists them.
	OnEvent func(Event)
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
	s := &Service{store: store, cfg: cfg, hasher: NewHasher(), log: log, Now: time.Now,
		Throttle: NewMemoryThrottle(DefaultThrottleKeys), Sleep: sleep}
	s.store = watchedStore{Store: store, s: s}
	var err error
	if s.passkeys, err = newPasskeyRP(cfg); err != nil {
		return nil, err
	}
	if s.console, err = newConsoleRP(cfg); err != nil {
		return nil, err
	}
	err = store.Update(ctx, func(tx Tx) error {
		k, err := tx.Setting(chainKeySetting)
		if errors.Is(err, ErrNotFound) {
			k = make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return err
			}
			err = tx.SetSetting(chainKeySetting, k)
		}
		s.chain = newMACs(k)
		return err
	})
	if err != nil {
		return nil, internal("auth.New", err)
	}
	keys, err := store.SigningKeys(ctx)
	if err != nil {
		return nil, internal("auth.New", err)
	}
	s.keys.set(keys)
	if err := s.ensureFirstKeys(ctx); err != nil {
		return nil, err
	}
	s.calibrateFloor(ctx)
	return s, nil
}

// Config returns the service's policy.
func (s *Service) Config() Config { return s.cfg }

// Hasher returns the password hasher (the command line hashes imported passwords with it).
func (s *Service) Hasher() *Hasher { return s.hasher }

func (s *Service) event(e Event) {
	if s.OnEvent != nil {
		s.OnEvent(e)
	}
}

// Prune deletes expired sessions and old audit rows, and forgets idle throttling counters.
func (s *Service) Prune(ctx context.Context) (int, error) {
	now := s.Now()
	if err := s.Throttle.Sweep(ctx, now); err != nil {
		s.log.Warn("throttle sweep", "err", err)
	}
	s.calibrateFloor(ctx) // customers imported meanwhile may have slower hashes
	n, err := s.pruneExpired(ctx, now)
	if err != nil {
		return n, internal("auth.Prune", err)
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
