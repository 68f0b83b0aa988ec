package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// What the operator does from the command line (shopauth customers …, shopauth audit), through the
// same rules as the API: a password set here is checked as ChangePassword checks one and ends every
// session; every change is audited.

// audit records a security event in the caller's transaction, with the client address of the
// request (none for the operator's commands) and the console operator acting, if one is.
func (s *Service) audit(ctx context.Context, tx Tx, c Customer, deviceID string, reason AuditReason) error {
	e := AuditEvent{At: s.Now(), CustomerID: c.ID, CustomerUUID: c.UUID, DeviceID: deviceID,
		Reason: string(reason), RemoteAddr: ClientFromContext(ctx).IP}
	if p := ConsoleOperatorFromContext(ctx); p != nil {
		e.Operator = p.Operator.Name
	}
	return tx.AddAudit(e)
}

// RecentAuditEvents is how many of a customer's audit events CustomerReport includes.
const RecentAuditEvents = 20

// UnknownCustomerError is the answer to an operator's command about an email no customer has.
type UnknownCustomerError struct{ Email string }

func (e *UnknownCustomerError) Error() string { return "no customer has the email " + e.Email }

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *UnknownCustomerError) Is(target error) bool { return target == ErrNotFound }

// ListCustomers lists the customers, oldest first. A non-empty search keeps those whose email,
// first or last name contains it (ignoring case), or whose UUID is it.
func (s *Service) ListCustomers(ctx context.Context, search string) ([]CustomerSummary, error) {
	all, err := s.store.Customers(ctx, s.Now())
	if err != nil {
		return nil, internal("auth.ListCustomers", err)
	}
	search = strings.ToLower(strings.TrimSpace(search))
	if search == "" {
		return all, nil
	}
	out := all[:0]
	for _, c := range all {
		if strings.Contains(strings.ToLower(c.Email), search) || strings.Contains(strings.ToLower(c.FirstName), search) ||
			strings.Contains(strings.ToLower(c.LastName), search) || strings.ToLower(c.UUID) == search {
			out = append(out, c)
		}
	}
	return out, nil
}

// CustomerReport is everything `customers show` prints about one customer.
type CustomerReport struct {
	CustomerSummary
	SessionList []SessionInfo // live sessions, newest first
	Audit       []AuditEvent  // the most recent events, newest first
	// EmailVerified and Identities: whether the address is proven, and the linked social accounts.
	EmailVerified bool
	HasPassword   bool
	Identities    []SocialIdentity
}

// ShowCustomer returns the customer with this email, their live sessions and recent audit events.
func (s *Service) ShowCustomer(ctx context.Context, email string) (CustomerReport, error) {
	c, err := s.operatorCustomer(ctx, email)
	if err != nil {
		return CustomerReport{}, err
	}
	list, err := s.store.Sessions(ctx, c.ID)
	if err != nil {
		return CustomerReport{}, internal("auth.ShowCustomer", err)
	}
	now := s.Now()
	r := CustomerReport{CustomerSummary: CustomerSummary{UUID: c.UUID, Email: c.Email, FirstName: c.FirstName,
		LastName: c.LastName, Telephone: c.Telephone, CreatedAt: c.CreatedAt, LastLoginAt: c.LastLoginAt}}
	for _, x := range list {
		if now.Before(x.ExpiresAt) {
			r.SessionList = append(r.SessionList, SessionInfo{DeviceID: x.DeviceID, CreatedAt: x.CreatedAt,
				LastRefreshedAt: x.LastRefreshedAt, ExpiresAt: x.ExpiresAt,
				Login: LoginInfo{Type: x.LoginType, ExternalID: x.ExternalID, AdministratorUUID: x.AdministratorUUID}})
		}
	}
	r.Sessions = len(r.SessionList)
	r.EmailVerified, r.HasPassword = c.EmailVerified, c.HasPassword()
	if r.Identities, err = s.store.SocialIdentities(ctx, c.ID); err != nil {
		return CustomerReport{}, internal("auth.ShowCustomer", err)
	}
	if r.Audit, err = s.store.AuditLog(ctx, AuditQuery{CustomerUUID: c.UUID, Limit: RecentAuditEvents}); err != nil {
		return CustomerReport{}, internal("auth.ShowCustomer", err)
	}
	return r, nil
}

// SetPassword sets a customer's password for the operator: checked as ChangePassword checks a new
// password, it ends every session (their access tokens stop working at once) and any pending
// recovery, and is audited. It returns how many sessions ended.
func (s *Service) SetPassword(ctx context.Context, email, password string) (int, error) {
	var v validator
	v.newPassword("password", password, s.cfg.MinPasswordLength)
	if err := v.err(); err != nil {
		return 0, err
	}
	if _, err := s.operatorCustomer(ctx, email); err != nil {
		return 0, err // before the hash: an unknown email costs nothing
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return 0, internal("auth.SetPassword", err)
	}
	return s.operatorUpdate(ctx, "auth.SetPassword", email, AuditOperatorPassword, auditAlways, func(tx Tx, c *Customer) (int, error) {
		n, err := tx.DeleteSessions(c.ID, "")
		if err != nil {
			return 0, err
		}
		return n, s.resetPassword(tx, c, hash)
	})
}

// RevokeCustomer ends every session of the customer (their access tokens stop working at once)
// and returns how many ended. Ending none (the customer had no session) is not audited, as a
// customer's own revokeSessions is not: nothing changed.
func (s *Service) RevokeCustomer(ctx context.Context, email string) (int, error) {
	return s.operatorUpdate(ctx, "auth.RevokeCustomer", email, AuditOperatorRevoke, auditIfEnded, func(tx Tx, c *Customer) (int, error) {
		return tx.DeleteSessions(c.ID, "")
	})
}

// DeleteCustomer erases the customer with their sessions, passkeys and recovery hashes: their
// tokens stop working at once, Shopsys-issued ones included. The audit log keeps the customer's
// events and the deletion, naming them by UUID, never by email. It returns how many sessions ended.
func (s *Service) DeleteCustomer(ctx context.Context, email string) (int, error) {
	return s.operatorUpdate(ctx, "auth.DeleteCustomer", email, AuditOperatorDelete, auditAlways, func(tx Tx, c *Customer) (int, error) {
		n, err := tx.DeleteSessions(c.ID, "")
		if err != nil {
			return 0, err
		}
		return n, tx.DeleteCustomer(c.ID)
	})
}

// operatorAudit says when operatorUpdate audits its action.
type operatorAudit bool

const (
	auditAlways  operatorAudit = false // always, before the action
	auditIfEnded operatorAudit = true  // after the action, only when it ended a session
)

// operatorUpdate finds the customer by email in a write transaction, audits the action (first, so
// the event is recorded while the customer's UUID can still be looked up; or, auditIfEnded, after
// it and only when it ended a session) and applies it.
func (s *Service) operatorUpdate(ctx context.Context, op, email string, reason AuditReason, when operatorAudit, apply func(Tx, *Customer) (int, error)) (int, error) {
	var n int
	var c Customer
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		c, err = tx.CustomerByEmail(normalizeEmail(email))
		if errors.Is(err, ErrNotFound) {
			return &UnknownCustomerError{Email: email}
		}
		if err != nil {
			return err
		}
		if when == auditAlways {
			if err := s.audit(ctx, tx, c, "", reason); err != nil {
				return err
			}
		}
		if n, err = apply(tx, &c); err != nil || when == auditAlways || n == 0 {
			return err
		}
		return s.audit(ctx, tx, c, "", reason)
	})
	var unknown *UnknownCustomerError
	if errors.As(err, &unknown) {
		return 0, err
	}
	if err != nil {
		return 0, internal(op, err)
	}
	s.log.Info(string(reason), "customer", c.UUID, "sessions_ended", n)
	return n, nil
}

// AuditLog returns audit events newest first: of the customer with this email when it is not
// empty (an unknown email is an UnknownCustomerError), or with this UUID (a deleted customer's
// events name them by UUID only), since the time when it is not zero.
func (s *Service) AuditLog(ctx context.Context, email string, since time.Time) ([]AuditEvent, error) {
	q := AuditQuery{Since: since}
	if id, err := uuid.Parse(email); err == nil && !strings.Contains(email, "@") {
		q.CustomerUUID = id.String()
	} else if email != "" {
		c, err := s.operatorCustomer(ctx, email)
		if err != nil {
			return nil, err
		}
		q.CustomerUUID = c.UUID
	}
	events, err := s.store.AuditLog(ctx, q)
	if err != nil {
		return nil, internal("auth.AuditLog", err)
	}
	return events, nil
}

// operatorCustomer finds a customer by email for the operator.
func (s *Service) operatorCustomer(ctx context.Context, email string) (Customer, error) {
	c, err := s.store.CustomerByEmail(ctx, normalizeEmail(email))
	if errors.Is(err, ErrNotFound) {
		return Customer{}, &UnknownCustomerError{Email: email}
	}
	if err != nil {
		return Customer{}, internal("auth", fmt.Errorf("customer by email: %w", err))
	}
	return c, nil
}
