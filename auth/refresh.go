package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"time"
)

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
