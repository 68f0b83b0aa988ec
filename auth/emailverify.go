package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"time"
)

// emailVerificationTTL is how long a mailed verification link works.
const emailVerificationTTL = 24 * time.Hour

// VerificationMailer sends the email verification mail with the link to open (--verify-url with
// the email and the hash filled in). The recovery mailer of package mail is one.
type VerificationMailer interface {
	SendVerification(ctx context.Context, c Customer, link string) error
}

// verifyLink fills the email and the hash into --verify-url.
func (s *Service) verifyLink(email, hash string) string {
	pattern := s.cfg.VerifyURL
	if pattern == "" {
		pattern = strings.TrimRight(s.cfg.Issuer, "/") + "/account?verify={hash}&email={email}"
	}
	return strings.NewReplacer("{email}", url.QueryEscape(email), "{hash}", url.QueryEscape(hash)).Replace(pattern)
}

// verifyLimit bounds verification mails as recovery mails are: at most recoveryMailsPerCustomer
// per customer in any recoveryMailWindow, wherever the requests come from.
func verifyLimit(customerUUID string) Limit {
	return Limit{Key: "verify-mail\x00" + customerUUID, Max: recoveryMailsPerCustomer, Window: recoveryMailWindow}
}

// RequestEmailVerification mails the caller a single-use link (24 h) that proves their address.
// A customer whose address is proven already gets no mail; neither does one who asked for
// recoveryMailsPerCustomer of them in the last recoveryMailWindow.
func (s *Service) RequestEmailVerification(ctx context.Context, p *Principal) error {
	if p == nil {
		return errInvalidToken
	}
	end, err := s.Throttle.Begin(ctx, s.Now(), verifyLimit(p.Customer.UUID))
	if errors.Is(err, ErrThrottled) {
		// As with recovery mails: answered like any other request, and nothing is mailed.
		s.log.InfoContext(ctx, "email verification mail budget of the customer spent; no mail sent", "customer", p.Customer.UUID)
		return nil
	}
	if err != nil {
		return internal("auth.RequestEmailVerification", err)
	}
	end(true) // every mail counts
	hash, err := newRecoveryHash()
	if err != nil {
		return internal("auth.RequestEmailVerification", err)
	}
	var c Customer
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		if c, err = tx.CustomerByID(p.Customer.ID); err != nil || c.EmailVerified {
			return err
		}
		return tx.PutEmailVerification(Recovery{CustomerID: c.ID, HashSHA256: hashSecret(hash),
			ExpiresAt: s.Now().Add(emailVerificationTTL)})
	})
	if err != nil {
		return internal("auth.RequestEmailVerification", err)
	}
	if c.EmailVerified {
		return nil
	}
	mailer, ok := s.Mailer.(VerificationMailer)
	if !ok {
		s.log.Warn("email verification mail not sent: the service has no mailer for it", "customer", c.UUID)
		return nil
	}
	link := s.verifyLink(c.Email, hash)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recoveryMailTimeout)
	s.mailing.Add(1)
	go func() {
		defer s.mailing.Done()
		defer cancel()
		if err := mailer.SendVerification(ctx, c, link); err != nil {
			s.log.Error("email verification mail not sent; the customer can ask again", "customer", c.UUID, "err", err)
		}
	}()
	return nil
}

// VerifyEmail marks the address proven with the hash of the mail. A wrong, used or expired hash,
// or an unknown email, is a validation error on input.hash.
func (s *Service) VerifyEmail(ctx context.Context, email, hash string) error {
	bad := &Error{Code: EValidation, Message: MsgValidation,
		Validation: Violations{"input.hash": {{Message: MsgInvalidVerify, Code: codeBadVerifyHash}}}}
	email = normalizeEmail(email)
	if len(hash) != recoveryHashLen || !plausibleEmail(email) {
		return bad
	}
	errBad := errors.New("bad hash")
	err := s.store.Update(ctx, func(tx Tx) error {
		c, err := tx.CustomerByEmail(email)
		if errors.Is(err, ErrNotFound) {
			return errBad
		}
		if err != nil {
			return err
		}
		r, err := tx.EmailVerification(c.ID)
		if errors.Is(err, ErrNotFound) {
			return errBad
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(hashSecret(hash), r.HashSHA256) != 1 || !s.Now().Before(r.ExpiresAt) {
			return errBad
		}
		if err := tx.DeleteEmailVerification(c.ID); err != nil {
			return err
		}
		c.EmailVerified = true
		if err := tx.UpdateCustomer(c); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, "", AuditEmailVerified)
	})
	if errors.Is(err, errBad) {
		return bad
	}
	if err != nil {
		return internal("auth.VerifyEmail", err)
	}
	return nil
}
