package auth

import (
	"context"
	"errors"
	"time"
)

// Authenticate verifies an access token and that its session still lives (one indexed read).
func (s *Service) Authenticate(ctx context.Context, raw string) (_ *Principal, err error) {
	defer func() { s.logRefusal(ctx, accessToken, err) }()
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
			return nil, invalidToken(refuse(refusalPasswordChanged, errors.New("password changed after the token was issued")))
		}
		return &Principal{Customer: cust, DeviceID: c.DeviceID, Legacy: true, Login: LoginInfo{Type: LoginTypeWeb}}, nil
	}
	sess, cust, err := s.store.SessionCustomer(ctx, c.DeviceID)
	if err != nil {
		return nil, s.lookupError("auth.Authenticate", err)
	}
	if cust.UUID != c.UUID || !s.Now().Before(sess.ExpiresAt) {
		return nil, invalidToken(refuse(refusalSessionEnded, errors.New("session belongs to another customer or has expired")))
	}
	login := LoginInfo{Type: sess.LoginType, ExternalID: sess.ExternalID, AdministratorUUID: sess.AdministratorUUID}
	if login.Type == "" {
		login.Type = LoginTypeWeb // sessions begun before login types were kept were password logins
	}
	return &Principal{Customer: cust, DeviceID: c.DeviceID, Login: login}, nil
}

// lookupError turns a not-found (the session or the customer is gone) into invalid-token and
// anything else into an internal error.
func (s *Service) lookupError(op string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return invalidToken(refuse(refusalSessionEnded, err))
	}
	return internal(op, err)
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
		if n, err = tx.DeleteSessions(p.Customer.ID, keep); err != nil || n == 0 {
			return err
		}
		return s.audit(ctx, tx, p.Customer, p.DeviceID, AuditCustomerRevoke+" ("+AuditReason(scope)+")")
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
	// Login is how the session began; an operator's "log in as" has Type LoginTypeAdmin.
	Login LoginInfo
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
			LastRefreshedAt: x.LastRefreshedAt, ExpiresAt: x.ExpiresAt, Current: x.DeviceID == p.DeviceID,
			Login: LoginInfo{Type: x.LoginType, ExternalID: x.ExternalID, AdministratorUUID: x.AdministratorUUID}})
	}
	return out, nil
}
