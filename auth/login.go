package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Login checks the password and starts a session on a new device.
func (s *Service) Login(ctx context.Context, email, password string) (TokenPair, error) {
	start := s.Now()
	email = normalizeEmail(email)
	failed := func() (TokenPair, error) {
		s.event(EventLoginFailed)
		// Every failure takes as long as the slowest stored hash would: the timing tells nothing.
		s.padFailure(ctx, start)
		return TokenPair{}, &Error{Code: EInvalidCredentials, Message: MsgLoginFailed}
	}
	busy := func() (TokenPair, error) {
		// No hash slot came in time to answer before the deadline: answered as the throttle,
		// known email or not, rather than as a timeout.
		s.event(EventLoginThrottled)
		return TokenPair{}, errTooManyAttempts
	}
	ip := ClientFromContext(ctx).IP
	if !plausibleEmail(email) {
		// No account has it: refused without hashing anything (a flood of them once ran argon2id
		// for each), and without becoming a key, but it spends the address's budget.
		end, err := s.beginAttempt(ctx, EventLoginThrottled, addressLimit(s.cfg, ip))
		if err != nil {
			return TokenPair{}, err
		}
		end(true)
		return failed()
	}
	wctx, cancel := s.decideBy(ctx)
	defer cancel()
	end, err := s.beginAttempt(wctx, EventLoginThrottled, loginLimits(s.cfg, email, ip)...)
	if err != nil {
		return TokenPair{}, err
	}
	c, err := s.store.CustomerByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		// Spend the same time as a wrong password, so the answer's timing tells nothing.
		_, _, err = s.checkPassword(ctx, dummyHash, password)
		if errors.Is(err, errBusy) {
			end(false)
			return busy()
		}
		end(true)
		return failed()
	}
	if err != nil {
		end(false)
		return TokenPair{}, internal("auth.Login", err)
	}
	if !c.HasPassword() {
		// Registered through a social network: no password is right, and the answer and its
		// timing are a wrong password's.
		_, _, _ = s.checkPassword(ctx, dummyHash, password)
		end(true)
		return failed()
	}
	ok, rehash, err := s.checkPassword(ctx, c.PasswordHash, password)
	end(err == nil && !ok)
	if errors.Is(err, errBusy) {
		return busy()
	}
	if err != nil {
		return TokenPair{}, internal("auth.Login", err)
	}
	if !ok {
		return failed()
	}
	var upgrade func(Tx) error
	if rehash {
		h, err := s.hasher.Hash(ctx, password)
		if err != nil {
			return TokenPair{}, internal("auth.Login", err)
		}
		c.PasswordHash = h
		upgrade = func(tx Tx) error { return tx.UpdateCustomer(c) }
	}
	pair, err := s.startSession(ctx, &c, LoginInfo{Type: LoginTypeWeb}, upgrade)
	if err == nil {
		s.event(EventLoginOK)
	}
	return pair, err
}

// LoginInfo is how a session began: Type is web (a password), passkey, a social type with
// ExternalID the provider's subject, or admin with AdministratorUUID the operator's id.
type LoginInfo struct {
	Type              string
	ExternalID        string
	AdministratorUUID string
}

// startSession signs a new device's token pair and stores the session, begun as login says,
// running first (if set) in the same transaction.
func (s *Service) startSession(ctx context.Context, c *Customer, login LoginInfo, first func(Tx) error) (TokenPair, error) {
	now := s.Now()
	deviceID := uuid.NewString()
	secret, err := newSecret()
	if err != nil {
		return TokenPair{}, internal("auth.startSession", err)
	}
	end := sessionEnd(login, now) // an operator's "log in as": an hour, refreshes included
	iat, exp := now.Truncate(time.Second), capAt(now.Add(s.cfg.RefreshTTL), end).Truncate(time.Second)
	refresh, sig, kid, err := s.signRefresh(s.refreshPayload(c.UUID, deviceID, secret, iat, exp), now)
	if err != nil {
		return TokenPair{}, internal("auth.startSession", err)
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		if err := tx.RecordLogin(c.ID, now); err != nil {
			return err
		}
		err := tx.CreateSession(Session{
			DeviceID: deviceID, CustomerID: c.ID, SecretHash: hashSecret(secret),
			CreatedAt: now, IssuedAt: iat, ExpiresAt: exp, KeyID: kid, Signature: sig,
			LoginType: login.Type, ExternalID: login.ExternalID, AdministratorUUID: login.AdministratorUUID,
		})
		if err != nil {
			return err
		}
		// A customer's sessions are capped, the oldest ending first, so that no list of them
		// (customerSessions, a revocation) grows without bound.
		_, err = tx.TrimSessions(c.ID, s.cfg.SessionsPerCustomer)
		return err
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return TokenPair{}, e
		}
		return TokenPair{}, internal("auth.startSession", err)
	}
	access, err := s.signAccess(c, deviceID, now, login, end)
	if err != nil {
		return TokenPair{}, internal("auth.startSession", err)
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh}, nil
}
