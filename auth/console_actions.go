package auth

import (
	"context"
	"errors"
	"time"
)

// What an operator does in the admin console. Each action needs the console's caller in the
// context (ConsoleOperatorFromContext, put there by the console's HTTP layer from the session
// cookie) and goes through the same functions as the command line (operator.go), so the rules
// are the same and every audit event names the operator.

// Client-safe messages of the console's actions.
const (
	MsgConfirmEmail    = "Type the customer's email exactly to confirm the deletion."
	MsgCustomerUnknown = "No such customer."
	MsgSessionUnknown  = "No such session of this customer."
	// MsgRecoveryMailsSpent: a customer gets at most 3 recovery mails in 15 minutes, whoever asks.
	MsgRecoveryMailsSpent = "This customer was sent 3 recovery mails in the last 15 minutes; try again later."
	codeConfirmEmail      = "5f0e8c1a-3b7d-4e92-a6c4-1d2b9e7f0a35" // ours: the typed email is not the customer's
	codeUnknown           = "9c3a7e21-6d4b-4f08-b1e5-2a8d0c6f4b97" // ours: no such customer or session
	// MaxCustomerPage is the most customers one search answers.
	MaxCustomerPage = 100
	// ConsoleAuditLimit is the most audit events one console query answers.
	ConsoleAuditLimit = 500
)

func unknownCustomer(field string) error {
	var v validator
	v.add(field, codeUnknown, MsgCustomerUnknown)
	return v.err()
}

// SearchCustomers answers a page of the customers whose email or name contains text (or whose
// UUID it is), oldest first, and how many match in all. limit is clamped to 1..MaxCustomerPage.
func (s *Service) SearchCustomers(ctx context.Context, text string, offset, limit int) ([]CustomerSummary, int, error) {
	if _, err := ConsoleCaller(ctx); err != nil {
		return nil, 0, err
	}
	limit = min(max(limit, 1), MaxCustomerPage)
	offset = max(offset, 0)
	list, total, err := s.store.SearchCustomers(ctx, CustomerSearch{Text: text, Offset: offset, Limit: limit}, s.Now())
	if err != nil {
		return nil, 0, internal("auth.SearchCustomers", err)
	}
	return list, total, nil
}

// ConsoleCustomerReport is the console's customer page: `customers show` and the passkeys.
type ConsoleCustomerReport struct {
	CustomerReport
	Passkeys []PasskeyInfo
}

// consoleCustomer finds a customer by UUID for the console; unknown is a validation error on field.
func (s *Service) consoleCustomer(ctx context.Context, uuid, field string) (Customer, error) {
	if _, err := ConsoleCaller(ctx); err != nil {
		return Customer{}, err
	}
	c, err := s.store.CustomerByUUID(ctx, uuid)
	if errors.Is(err, ErrNotFound) {
		return Customer{}, unknownCustomer(field)
	}
	if err != nil {
		return Customer{}, internal("auth.consoleCustomer", err)
	}
	return c, nil
}

// ConsoleCustomer returns what the console shows of one customer.
func (s *Service) ConsoleCustomer(ctx context.Context, uuid string) (ConsoleCustomerReport, error) {
	c, err := s.consoleCustomer(ctx, uuid, "uuid")
	if err != nil {
		return ConsoleCustomerReport{}, err
	}
	r, err := s.ShowCustomer(ctx, c.Email)
	if err != nil {
		return ConsoleCustomerReport{}, err
	}
	list, err := s.store.Passkeys(ctx, c.ID)
	if err != nil {
		return ConsoleCustomerReport{}, internal("auth.ConsoleCustomer", err)
	}
	out := ConsoleCustomerReport{CustomerReport: r, Passkeys: make([]PasskeyInfo, len(list))}
	for i, p := range list {
		out.Passkeys[i] = passkeyInfo(p)
	}
	return out, nil
}

// EndCustomerSession ends one session of the customer: its refresh and access tokens stop
// working at once. Audited with the device and the operator.
func (s *Service) EndCustomerSession(ctx context.Context, uuid, deviceID string) error {
	c, err := s.consoleCustomer(ctx, uuid, "input.uuid")
	if err != nil {
		return err
	}
	errUnknown := errors.New("unknown session")
	err = s.store.Update(ctx, func(tx Tx) error {
		sess, err := tx.Session(deviceID)
		if errors.Is(err, ErrNotFound) || (err == nil && sess.CustomerID != c.ID) {
			return errUnknown
		}
		if err != nil {
			return err
		}
		if _, err := tx.DeleteSession(deviceID); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, deviceID, AuditConsoleSessionEnded)
	})
	if errors.Is(err, errUnknown) {
		var v validator
		v.add("input.deviceId", codeUnknown, MsgSessionUnknown)
		return v.err()
	}
	if err != nil {
		return internal("auth.EndCustomerSession", err)
	}
	return nil
}

// EndCustomerSessions ends every session of the customer (`customers revoke`).
func (s *Service) EndCustomerSessions(ctx context.Context, uuid string) (int, error) {
	c, err := s.consoleCustomer(ctx, uuid, "input.uuid")
	if err != nil {
		return 0, err
	}
	return s.RevokeCustomer(ctx, c.Email)
}

// SendRecoveryMail mails the customer a fresh recovery link, as RequestPasswordRecovery does for a
// known email (from the same budget of 3 mails in 15 minutes), but answers at once, says when the
// budget is spent, and is audited with the operator.
func (s *Service) SendRecoveryMail(ctx context.Context, uuid string) error {
	c, err := s.consoleCustomer(ctx, uuid, "input.uuid")
	if err != nil {
		return err
	}
	// The operator's mails count against the customer's budget as their own requests do.
	limit := Limit{Key: "recovery-mail\x00" + c.UUID, Max: recoveryMailsPerCustomer, Window: recoveryMailWindow}
	end, err := s.Throttle.Begin(ctx, s.Now(), limit)
	if errors.Is(err, ErrThrottled) {
		return &Error{Code: ETooManyLoginAttempts, Message: MsgRecoveryMailsSpent}
	}
	if err != nil {
		return internal("auth.SendRecoveryMail", err)
	}
	end(true)
	hash, err := newRecoveryHash()
	if err != nil {
		return internal("auth.SendRecoveryMail", err)
	}
	r := Recovery{CustomerID: c.ID, HashSHA256: hashSecret(hash), ExpiresAt: s.Now().Add(s.cfg.RecoveryTTL)}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.PutRecovery(r); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, "", AuditConsoleRecovery)
	})
	if err != nil {
		return internal("auth.SendRecoveryMail", err)
	}
	s.event(EventRecoveryRequested)
	s.sendRecovery(ctx, c, hash)
	return nil
}

// DeleteCustomerConfirmed erases the customer (`customers delete`) when confirmEmail is their
// email, as the operator typed it; anything else is a validation error and deletes nothing.
func (s *Service) DeleteCustomerConfirmed(ctx context.Context, uuid, confirmEmail string) (int, error) {
	c, err := s.consoleCustomer(ctx, uuid, "input.uuid")
	if err != nil {
		return 0, err
	}
	if normalizeEmail(confirmEmail) != c.Email {
		var v validator
		v.add("input.confirmEmail", codeConfirmEmail, MsgConfirmEmail)
		return 0, v.err()
	}
	return s.DeleteCustomer(ctx, c.Email)
}

// AuditFilter selects the console's audit log: of the customer with this email (an unknown one
// is a validation error), whose reason contains Event, no older than Since.
type AuditFilter struct {
	Email, Event string
	Since        time.Time
}

// ConsoleAuditLog answers the newest audit events (at most 500) that pass the filter.
func (s *Service) ConsoleAuditLog(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if _, err := ConsoleCaller(ctx); err != nil {
		return nil, err
	}
	q := AuditQuery{Reason: f.Event, Since: f.Since, Limit: ConsoleAuditLimit}
	if f.Email != "" {
		c, err := s.store.CustomerByEmail(ctx, normalizeEmail(f.Email))
		if errors.Is(err, ErrNotFound) {
			return nil, unknownCustomer("filter.email")
		}
		if err != nil {
			return nil, internal("auth.ConsoleAuditLog", err)
		}
		q.CustomerUUID = c.UUID
	}
	events, err := s.store.AuditLog(ctx, q)
	if err != nil {
		return nil, internal("auth.ConsoleAuditLog", err)
	}
	return events, nil
}

// ConsoleKeys lists the key ring as `keys list` does.
func (s *Service) ConsoleKeys(ctx context.Context) ([]KeyInfo, error) {
	if _, err := ConsoleCaller(ctx); err != nil {
		return nil, err
	}
	return s.Keys(), nil
}

// ConsoleRotateKeys rotates the keys as `keys rotate [--now]` does, audited with the operator.
// While a next key is already pending (and now is false) it returns that key and audits nothing.
func (s *Service) ConsoleRotateKeys(ctx context.Context, now bool) (SigningKey, error) {
	if _, err := ConsoleCaller(ctx); err != nil {
		return SigningKey{}, err
	}
	start, reason := SignAfterPublishing, AuditConsoleKeysRotated
	if now {
		start, reason = SignNow, AuditConsoleKeysNow
	}
	r, err := s.RotateKey(ctx, s.cfg.SigningAlgorithm, start)
	if err != nil || r.AlreadyPending {
		return r.Key, err // a key already pending was kept: nothing changed, nothing to audit
	}
	if err := s.store.Update(ctx, func(tx Tx) error {
		return s.audit(ctx, tx, Customer{}, "", reason.Of(r.Key.ID))
	}); err != nil {
		return SigningKey{}, internal("auth.ConsoleRotateKeys", err)
	}
	return r.Key, nil
}

// ConsoleAudit records an event the console's caller caused outside the domain (a test mail).
func (s *Service) ConsoleAudit(ctx context.Context, reason AuditReason) error {
	if _, err := ConsoleCaller(ctx); err != nil {
		return err
	}
	if err := s.store.Update(ctx, func(tx Tx) error { return s.audit(ctx, tx, Customer{}, "", reason) }); err != nil {
		return internal("auth.ConsoleAudit", err)
	}
	return nil
}
