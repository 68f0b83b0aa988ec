package auth

import (
	"crypto/subtle"
	"time"
)

// refreshAction is what a refresh does to the stored session.
type refreshAction int

const (
	// refuseRefresh leaves everything as it is: no session, or another customer's.
	refuseRefresh refreshAction = iota
	// expireSession deletes the expired session and refuses.
	expireSession
	// rotateChain uses the presented secret up and stores its successor.
	rotateChain
	// answerGrace answers with the successor already issued; nothing is written.
	answerGrace
	// endReusedSession deletes the session, writes an audit row and refuses.
	endReusedSession
)

// presentedRefresh is what the refresh brings: the verified token's customer and secret (as its
// hash) and the successor token signed for it.
type presentedRefresh struct {
	customerUUID string
	secretHash   []byte
	next         issuedRefresh
}

// issuedRefresh is a refresh token as the session row remembers it.
type issuedRefresh struct {
	secretHash        []byte
	issuedAt, expires time.Time
	keyID, signature  string
}

// refreshDecision is what to do, and for a rotation the session to store.
type refreshDecision struct {
	action  refreshAction
	reason  refusal // why a refresh is refused: refusalSessionEnded, …Expired, …Reused or …AnotherCustomer
	session Session
}

// decideRefresh decides a refresh from the stored session (nil when there is none) and the UUID of
// its customer, the presented token and the clock; the transaction around it only loads and applies.
//
// The newest secret rotates. The one rotated away last, presented again inside the reuse interval
// while its successor is still the newest, gets that successor (grace). Any other secret of the
// chain is reuse: the session ends.
func decideRefresh(stored *Session, owner string, p presentedRefresh, now time.Time, reuseInterval time.Duration) refreshDecision {
	switch {
	case stored == nil:
		return refreshDecision{action: refuseRefresh, reason: refusalSessionEnded}
	case owner != p.customerUUID:
		return refreshDecision{action: refuseRefresh, reason: refusalAnotherCustomer}
	case !now.Before(stored.ExpiresAt):
		return refreshDecision{action: expireSession, reason: refusalSessionExpired}
	case subtle.ConstantTimeCompare(p.secretHash, stored.SecretHash) == 1:
		return refreshDecision{action: rotateChain, session: rotated(*stored, p, now)}
	case reuseInterval > 0 && len(stored.PrevSecretHash) > 0 &&
		subtle.ConstantTimeCompare(p.secretHash, stored.PrevSecretHash) == 1 &&
		subtle.ConstantTimeCompare(p.next.secretHash, stored.SecretHash) == 1 &&
		now.Before(stored.RotatedAt.Add(reuseInterval)):
		return refreshDecision{action: answerGrace}
	default:
		return refreshDecision{action: endReusedSession, reason: refusalReused}
	}
}

// rotated is the session after the presented secret, its newest, is used up: the successor becomes
// the newest, the presented one the previous, and the successor token's iat, exp, kid and signature
// are kept for a grace answer.
func rotated(stored Session, p presentedRefresh, now time.Time) Session {
	next := stored
	next.PrevSecretHash, next.SecretHash = p.secretHash, p.next.secretHash
	next.RotatedAt, next.LastRefreshedAt = now, now
	next.IssuedAt, next.ExpiresAt = p.next.issuedAt, p.next.expires
	next.KeyID, next.Signature = p.next.keyID, p.next.signature
	return next
}
