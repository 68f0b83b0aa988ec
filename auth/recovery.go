package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"time"
)

// recoveryHashLen is the length of the mailed recovery hash, as Shopsys makes it.
const recoveryHashLen = 50

// recoveryAlphabet is what a recovery hash is made of: letters and digits survive every mail
// client, URL and copy-and-paste. 50 of them carry about 297 bits.
const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// recoveryMailTimeout bounds one attempt to hand a recovery mail to the mail server; the answer to
// the client never waits for it.
const recoveryMailTimeout = 30 * time.Second

// newRecoveryHash returns recoveryHashLen characters drawn uniformly from recoveryAlphabet by
// the CSPRNG (bytes that would bias the draw are thrown away).
func newRecoveryHash() (string, error) {
	const n = len(recoveryAlphabet)
	const limit = 256 - 256%n
	out := make([]byte, 0, recoveryHashLen)
	buf := make([]byte, recoveryHashLen+recoveryHashLen/2)
	for len(out) < recoveryHashLen {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < recoveryHashLen {
				out = append(out, recoveryAlphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// errBadRecovery is the one answer to a recovery that cannot go ahead, whatever the reason: an
// unknown email, a wrong, used, expired or another customer's hash. It names input.hash, never
// input.email, so the answer does not tell whether an account exists.
func errBadRecovery() error {
	return &Error{Code: EValidation, Message: MsgValidation,
		Validation: Violations{"input.hash": {{Message: MsgInvalidRecovery, Code: codeBadRecovery}}}}
}

// RequestPasswordRecovery stores a fresh single-use recovery hash for the customer with this
// email (replacing any earlier one) and mails it. It answers nil for known and unknown emails
// alike, after the same work, and does not wait for the mail server: a failed mail is logged and
// the customer can ask again. Requests are throttled per email+IP and per IP, every request
// counting; a throttled request is still answered nil but mails nothing.
func (s *Service) RequestPasswordRecovery(ctx context.Context, email string) error {
	start := s.Now()
	email = normalizeEmail(email)
	if !plausibleEmail(email) {
		// No account has it; answered before it becomes a throttle key.
		s.event(EventRecoveryRequested)
		s.padTo(ctx, start, recoveryFloor)
		return nil
	}
	end, err := s.beginAttempt(ctx, EventRecoveryThrottled, recoveryLimits(s.cfg, email, ClientFromContext(ctx).IP)...)
	if ErrorCode(err) == ETooManyLoginAttempts {
		// The contract's answer is always "success": a throttled request is answered like any
		// other, at the same moment, and simply mails nothing, so nobody's inbox can be flooded.
		s.log.Info("password recovery request throttled; no mail sent", "client", ClientFromContext(ctx).IP)
		s.padTo(ctx, start, recoveryFloor)
		return nil
	}
	if err != nil {
		return err
	}
	end(true) // every request counts, known email or not

	// The customer's own budget of mails, whatever form of the address asked and from where.
	mail, err := s.mayMailRecovery(ctx, email)
	if err != nil {
		return internal("auth.RequestPasswordRecovery", err)
	}

	// The hash is made for an unknown email too, so both answers cost the same.
	hash, err := newRecoveryHash()
	if err != nil {
		return internal("auth.RequestPasswordRecovery", err)
	}
	r := Recovery{HashSHA256: hashSecret(hash), ExpiresAt: s.Now().Add(s.cfg.RecoveryTTL)}
	var c Customer
	known := false
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		known = false
		c, err = tx.CustomerByEmail(email)
		if errors.Is(err, ErrNotFound) || (err == nil && c.UUID != mail) {
			// A write like the known email's (it touches nothing), so both paths do the same work.
			// A customer over the mail budget (or an email that moved meanwhile) is answered the
			// same way: the link mailed earlier stays the one that works.
			return tx.DeleteRecovery(0)
		}
		if err != nil {
			return err
		}
		known = true
		r.CustomerID = c.ID
		return tx.PutRecovery(r)
	})
	if err != nil {
		return internal("auth.RequestPasswordRecovery", err)
	}
	s.event(EventRecoveryRequested)
	if known {
		s.sendRecovery(ctx, c, hash)
	}
	// And both answer at the same moment, whatever the write cost.
	s.padTo(ctx, start, recoveryFloor)
	return nil
}

// Recovery mails per customer: at most this many in any recoveryMailWindow, however the requests
// spell the address and wherever they come from (60 addresses times 5 spellings once sent one
// customer 300 mails in 0.2 s). Later requests are answered "success" and mail nothing.
const (
	recoveryMailsPerCustomer = 3
	recoveryMailWindow       = 15 * time.Minute
)

// mayMailRecovery returns the UUID of the customer with email when a recovery mail may go to
// them now, spending one of their mails; "" for an unknown email or a spent budget.
func (s *Service) mayMailRecovery(ctx context.Context, email string) (string, error) {
	c, err := s.store.CustomerByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	limit := Limit{Key: "recovery-mail\x00" + c.UUID, Max: recoveryMailsPerCustomer, Window: recoveryMailWindow}
	end, err := s.Throttle.Begin(ctx, s.Now(), limit)
	if errors.Is(err, ErrThrottled) {
		s.event(EventRecoveryThrottled)
		s.log.Info("password recovery mail budget of the customer spent; no mail sent", "customer", c.UUID)
		return "", nil
	}
	if err != nil {
		return "", err
	}
	end(true) // every mail counts
	return c.UUID, nil
}

// sendRecovery hands the mail to the Mailer in the background, detached from the request so that
// neither a slow mail server nor a client hanging up can lose or delay it beyond the timeout.
func (s *Service) sendRecovery(ctx context.Context, c Customer, hash string) {
	mailer := s.Mailer
	if mailer == nil {
		// The demo fallback (the link written to the log) is mail's, where the link is made; a
		// service built without any mailer has nobody to tell, and never logs the hash.
		s.log.Warn("password recovery mail not sent: the service has no mailer", "customer", c.UUID)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recoveryMailTimeout)
	s.mailing.Add(1)
	go func() {
		defer s.mailing.Done()
		defer cancel()
		if err := mailer.SendRecovery(ctx, c, hash); err != nil {
			// Never the hash: the log is not the customer's mailbox.
			s.log.Error("password recovery mail not sent; the customer can ask again",
				"customer", c.UUID, "err", err)
			s.event(EventRecoveryMailFailed)
			return
		}
		s.event(EventRecoveryMailSent)
	}()
}

// RecoverPassword sets a new password with a mailed recovery hash: the hash is used up, every
// session of the customer ends (their access tokens stop working at once) and a new session
// starts, whose tokens are returned. A hash that cannot be used changes nothing.
func (s *Service) RecoverPassword(ctx context.Context, email, hash, newPassword string) (TokenPair, error) {
	var v validator
	v.newPassword("input.newPassword", newPassword, s.cfg.MinPasswordLength)
	if err := v.err(); err != nil {
		return TokenPair{}, err
	}
	email = normalizeEmail(email)
	if len(hash) != recoveryHashLen || !plausibleEmail(email) {
		// No mailed hash has this shape, and no account this email: answered before any work.
		s.event(EventRecoveryInvalid)
		return TokenPair{}, errBadRecovery()
	}
	start := s.Now()
	presented := hashSecret(hash)
	// Wrong hashes are throttled as recovery requests are, so that nobody can take the many
	// samples a timing difference would need (or guess at all). The attempt also counts among
	// the request's password checks, as a new password is hashed.
	end, err := s.beginAttempt(ctx, EventRecoveryThrottled, recoverLimits(s.cfg, email, ClientFromContext(ctx).IP)...)
	if err != nil {
		return TokenPair{}, err
	}

	// Check first, so that a wrong hash costs no password hashing; check again in the transaction
	// that uses it up, so that two uses of one hash cannot both succeed.
	var c Customer
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		c, err = s.validRecovery(tx, email, presented)
		return err
	})
	end(ErrorCode(err) == EValidation)
	if err != nil {
		if ErrorCode(err) == EValidation {
			// Answered at the same moment whatever was found, as RequestPasswordRecovery is.
			s.padTo(ctx, start, recoveryFloor)
		}
		return TokenPair{}, s.recoveryError(err)
	}
	passwordHash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return TokenPair{}, internal("auth.RecoverPassword", err)
	}
	pair, err := s.startSession(ctx, &c, LoginInfo{Type: LoginTypeWeb}, func(tx Tx) error {
		current, err := s.validRecovery(tx, email, presented)
		if err != nil {
			return err
		}
		if current.ID != c.ID {
			// The email moved to another account between the two checks.
			return errBadRecovery()
		}
		c = current
		if err := s.audit(ctx, tx, c, "", AuditRecovery); err != nil {
			return err
		}
		if !c.EmailVerified {
			// The mail reached the customer: the address is theirs, and whatever was set up on the
			// account before anyone proved it (an attacker's passkey or Facebook account) goes.
			c.EmailVerified = true
			removed, err := removeUnprovenAccess(tx, &c, "")
			if err != nil {
				return err
			}
			if removed > 0 { // an event only when something went, so the log tells when it mattered
				if err := s.audit(ctx, tx, c, "", AuditRecoveryCleanUp); err != nil {
					return err
				}
			}
		}
		return s.resetPassword(tx, &c, passwordHash)
	})
	if err != nil {
		return TokenPair{}, s.recoveryError(err)
	}
	s.event(EventRecoveryOK)
	return pair, nil
}

// noRecovery is compared with the presented hash when there is no recovery to compare it with.
var noRecovery = make([]byte, 32)

// validRecovery returns the customer whose live recovery hash is presented, or errBadRecovery.
// An unknown email and a customer without a recovery go through the same reads and the same
// comparison as a customer with one: a known email once answered a wrong hash 25 µs later.
func (s *Service) validRecovery(tx Tx, email string, presented []byte) (Customer, error) {
	c, err := tx.CustomerByEmail(email)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Customer{}, err
	}
	if !known {
		c = Customer{} // ID 0, which no recovery belongs to
	}
	r, err := tx.Recovery(c.ID)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Customer{}, err
	}
	if !found {
		r = Recovery{HashSHA256: noRecovery}
	}
	match := subtle.ConstantTimeCompare(presented, r.HashSHA256) == 1
	if !known || !found || !match || !s.Now().Before(r.ExpiresAt) {
		return Customer{}, errBadRecovery()
	}
	return c, nil
}

// resetPassword stores a new password hash, ends every session and uses up the pending recovery,
// inside the caller's transaction.
func (s *Service) resetPassword(tx Tx, c *Customer, passwordHash string) error {
	c.PasswordHash = passwordHash
	c.SecurityChangedAt = s.Now().Truncate(time.Second)
	if err := tx.UpdateCustomer(*c); err != nil {
		return err
	}
	if _, err := tx.DeleteSessions(c.ID, ""); err != nil {
		return err
	}
	return tx.DeleteRecovery(c.ID)
}

// recoveryError passes a domain error through and hides anything else as internal.
func (s *Service) recoveryError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		if e.Code == EValidation {
			s.event(EventRecoveryInvalid)
		}
		return e
	}
	return internal("auth.RecoverPassword", err)
}
