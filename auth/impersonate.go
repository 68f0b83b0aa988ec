package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// "Log in as this customer" (Shopsys's admin login): a console operator gets a one-time hand-off
// code on --social-redirect-url, the same mechanism as a social login's (social.go). The session it
// starts is the customer's, begun as LoginTypeAdmin with the operator's UUID: its access tokens
// carry administratorUuid, and it lasts ImpersonationTTL from its start, refreshes included.

// ImpersonationTTL is how long a session an operator started as a customer lives, at most.
const ImpersonationTTL = time.Hour

// sessionEnd is when a session begun as login must end whatever refreshes it: ImpersonationTTL
// after start for an operator's; zero (no bound beyond the refresh lifetime) for the others.
func sessionEnd(login LoginInfo, start time.Time) time.Time {
	if login.Type == LoginTypeAdmin {
		return start.Add(ImpersonationTTL)
	}
	return time.Time{}
}

// capAt returns t, or end when end is set and earlier.
func capAt(t, end time.Time) time.Time {
	if !end.IsZero() && end.Before(t) {
		return end
	}
	return t
}

// Impersonate issues the console's caller a one-time code that logs them in as the customer with
// this UUID, and returns the URL on --social-redirect-url that exchanges it (LoginWithSocialCode).
func (s *Service) Impersonate(ctx context.Context, customerUUID string) (string, error) {
	c, err := s.consoleCustomer(ctx, customerUUID, "uuid")
	if err != nil {
		return "", err
	}
	return s.impersonate(ctx, c)
}

// ImpersonateAs is `customers impersonate EMAIL --operator NAME`: Impersonate for the named
// console operator, who must exist.
func (s *Service) ImpersonateAs(ctx context.Context, operatorName, email string) (string, error) {
	var o ConsoleOperator
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		o, err = tx.ConsoleOperatorByName(operatorName)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return "", &UnknownOperatorError{Name: operatorName}
	}
	if err != nil {
		return "", internal("auth.ImpersonateAs", err)
	}
	c, err := s.operatorCustomer(ctx, email)
	if err != nil {
		return "", err
	}
	link, err := s.impersonate(NewContextWithConsoleOperator(ctx, &ConsolePrincipal{Operator: o}), c)
	if errors.Is(err, errOperatorRemoved) {
		return "", &UnknownOperatorError{Name: operatorName} // removed since it was read
	}
	return link, err
}

func (s *Service) impersonate(ctx context.Context, c Customer) (string, error) {
	p, err := ConsoleCaller(ctx)
	if err != nil {
		return "", err
	}
	code, err := newToken()
	if err != nil {
		return "", internal("auth.Impersonate", err)
	}
	h := HandOff{Hash: hashSecret(code), Purpose: HandOffLogin, CustomerID: c.ID, LoginType: LoginTypeAdmin,
		AdministratorUUID: p.Operator.UUID, ExpiresAt: s.Now().Add(handOffTTL)}
	err = s.store.Update(ctx, func(tx Tx) error {
		// The operator is read, and locked, where the code is stored: one removed meanwhile is
		// issued none, and a removal waiting for the lock finds this code and drops it.
		if _, err := tx.ConsoleOperatorByID(p.Operator.ID); err != nil {
			return err
		}
		if err := tx.PutHandOff(h); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, "", AuditImpersonation)
	})
	if errors.Is(err, ErrNotFound) {
		return "", &Error{Code: EOperatorLoginRequired, Message: MsgOperatorLogin, Err: errOperatorRemoved}
	}
	if err != nil {
		return "", internal("auth.Impersonate", err)
	}
	s.log.InfoContext(ctx, string(AuditImpersonation), "customer", c.UUID, "operator", p.Operator.Name)
	return withQuery(s.socialRedirectURL(), url.Values{"code": {code}, "isRegistration": {"false"},
		"showCartMergeInfo": {"false"}}), nil
}

// errOperatorRemoved: the operator of a "log in as" was removed before its session started.
var errOperatorRemoved = errors.New("the console operator was removed")

// operatorExists is startSession's first step for an operator's "log in as": it reads, and locks,
// the operator, so that one removed since the code was issued starts no session, and a removal
// waiting for the lock finds this session and ends it.
func operatorExists(operatorUUID string) func(Tx) error {
	return func(tx Tx) error {
		_, err := tx.ConsoleOperatorByUUID(operatorUUID)
		if errors.Is(err, ErrNotFound) {
			return errOperatorRemoved
		}
		return err
	}
}

// capAdminRotation bounds a rotation of an operator's session at its end: the successor refresh
// token is signed again with exp at the end, and next carries it. It answers the token to send,
// or "" when next needs no change.
func (s *Service) capAdminRotation(stored Session, next *Session, customerUUID, successor string, now time.Time) (string, error) {
	end := sessionEnd(LoginInfo{Type: stored.LoginType}, stored.CreatedAt)
	if end.IsZero() || !end.Before(next.ExpiresAt) {
		return "", nil
	}
	exp := end.Truncate(time.Second)
	refresh, sig, kid, err := s.signRefresh(s.refreshPayload(customerUUID, next.DeviceID, successor, next.IssuedAt, exp), now)
	if err != nil {
		return "", fmt.Errorf("sign the capped refresh token: %w", err)
	}
	next.ExpiresAt, next.Signature, next.KeyID = exp, sig, kid
	return refresh, nil
}
