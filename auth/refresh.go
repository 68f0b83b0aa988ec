package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Refresh rotates a session's secret chain: the presented secret is used up and its successor
// issued. The just-rotated token presented again inside the reuse interval gets the same successor
// (byte for byte); any other used token ends the session and is audited. decideRefresh decides;
// applyRefresh only loads the session and applies the decision.
func (s *Service) Refresh(ctx context.Context, raw string) (_ TokenPair, err error) {
	defer func() { s.logRefusal(ctx, refreshToken, err) }()
	claims, err := s.verifyRefresh(raw)
	if err != nil {
		s.event(EventRefreshInvalid)
		return TokenPair{}, invalidToken(err)
	}
	now := s.Now()
	successor := s.nextSecret(claims.SecretChain)
	iat, exp := now.Truncate(time.Second), now.Add(s.cfg.RefreshTTL).Truncate(time.Second)
	// An HMAC: signed before the transaction, and thrown away on the rarer grace and reuse paths.
	refresh, sig, kid, err := s.signRefresh(s.refreshPayload(claims.UUID, claims.DeviceID, successor, iat, exp), now)
	if err != nil {
		return TokenPair{}, internal("auth.Refresh", err)
	}
	presented := presentedRefresh{customerUUID: claims.UUID, secretHash: hashSecret(claims.SecretChain),
		next: issuedRefresh{secretHash: hashSecret(successor), issuedAt: iat, expires: exp, keyID: kid, signature: sig}}

	d, sess, cust, capped, err := s.applyRefresh(ctx, claims.DeviceID, presented, successor, now)
	if err != nil {
		return TokenPair{}, internal("auth.Refresh", err)
	}
	switch d.action {
	case rotateChain:
		if capped != "" {
			refresh = capped // an operator's session: its successor expires with the session
		}
		s.event(EventRefreshOK)
	case answerGrace:
		// Rebuilt from the stored kid and signature with whichever key made it (the previous
		// release signed refresh tokens with a public key of the ring): the same bytes again.
		k := s.keys.anyKey(sess.KeyID)
		if k == nil {
			s.event(EventRefreshInvalid)
			return TokenPair{}, invalidToken(refuse(refusalInvalid, errors.New("grace successor's key is gone")))
		}
		refresh = k.assemble(s.refreshPayload(claims.UUID, claims.DeviceID, successor, sess.IssuedAt, sess.ExpiresAt), sess.Signature)
		s.event(EventRefreshGrace)
	case endReusedSession:
		s.log.Warn("refresh token reuse: session ended", "customer", cust.UUID, "device", claims.DeviceID,
			"remote", ClientFromContext(ctx).IP)
		s.event(EventRefreshReused)
		return TokenPair{}, invalidToken(refuse(refusalReused, errors.New(string(AuditRefreshReused))))
	default:
		s.event(EventRefreshInvalid)
		return TokenPair{}, invalidToken(refuse(d.reason, nil))
	}
	login := LoginInfo{Type: sess.LoginType, AdministratorUUID: sess.AdministratorUUID}
	access, err := s.signAccess(&cust, claims.DeviceID, now, login, sessionEnd(login, sess.CreatedAt))
	if err != nil {
		return TokenPair{}, internal("auth.Refresh", err)
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh}, nil
}

// applyRefresh applies the refresh's decision to the stored session.
//
// Nearly every refresh presents the newest secret of a live session, and decideRefresh then
// rotates. That rotation is tried first, without reading: RotateSession stores it in one statement
// only while the session is in the state the decision needs (there, the customer's, not expired,
// the presented secret the newest), and answers the customer for the access token. Otherwise (a
// grace retry, reuse, expiry, a parallel refresh of the same token that rotated first) the session
// is loaded inside a write transaction, which serialises with every other writer, decided on and
// the decision applied: so N parallel refreshes of one token give one rotation, never a fork.
//
// An operator's session (LoginTypeAdmin) is never rotated by RotateSession: the transaction bounds
// its successor at the session's end (capAdminRotation), whose refresh token is then answered as
// capped.
func (s *Service) applyRefresh(ctx context.Context, deviceID string, p presentedRefresh, successor string, now time.Time) (refreshDecision, Session, Customer, string, error) {
	next := rotated(Session{DeviceID: deviceID, SecretHash: p.secretHash}, p, now)
	cust, swapped, err := s.store.RotateSession(ctx, next, p.customerUUID, now)
	if err != nil || swapped {
		return refreshDecision{action: rotateChain, session: next}, next, cust, "", err
	}
	var d refreshDecision
	var sess Session
	var capped string
	err = s.store.Update(ctx, func(tx Tx) error {
		var stored *Session
		var err error
		capped = ""
		sess, err = tx.Session(deviceID)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			if cust, err = tx.CustomerByID(sess.CustomerID); err != nil {
				return err
			}
			stored = &sess
		}
		d = decideRefresh(stored, cust.UUID, p, now, s.cfg.ReuseInterval)
		switch d.action {
		case rotateChain:
			if capped, err = s.capAdminRotation(sess, &d.session, cust.UUID, successor, now); err != nil {
				return err
			}
			return tx.UpdateSession(d.session)
		case expireSession:
			_, err := tx.DeleteSession(sess.DeviceID)
			return err
		case endReusedSession:
			if _, err := tx.DeleteSession(sess.DeviceID); err != nil {
				return err
			}
			return tx.AddAudit(AuditEvent{At: now, CustomerID: cust.ID, DeviceID: sess.DeviceID,
				Reason: string(AuditRefreshReused), RemoteAddr: ClientFromContext(ctx).IP})
		}
		return nil
	})
	return d, sess, cust, capped, err
}

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
	var sum [sha256.Size]byte
	return hex.EncodeToString(s.chain.sum(sum[:0], []byte(secret))[:20])
}

// hashSecret is how a secret is stored: SHA-256, so one indexed comparison finds it.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
