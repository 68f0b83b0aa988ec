package auth

import (
	"context"
	"slices"
	"time"
)

// JWKSMaxAge is how long a verifier may cache the JWKS (web sends it as Cache-Control max-age).
const JWKSMaxAge = 300 * time.Second

// KeyReloadInterval is how often a running server reads the key ring again.
const KeyReloadInterval = 30 * time.Second

// PublishDelay is how long after `keys rotate` the new signing key starts signing: every server
// has reloaded the ring (and so publishes the key) within KeyReloadInterval, and every verifier's
// cached JWKS has expired within JWKSMaxAge after that, so no verifier meets an unknown kid.
const PublishDelay = JWKSMaxAge + KeyReloadInterval

// KeyStart says when a rotated key starts signing.
type KeyStart int

const (
	// SignAfterPublishing publishes the new key at once and signs with it after PublishDelay.
	SignAfterPublishing KeyStart = iota
	// SignNow signs with the new key at once (for a key that leaked); verifiers holding a cached
	// JWKS refuse the new tokens until they fetch it again.
	SignNow
)

// ReloadKeys reads the key ring again, so a `keys rotate` run beside a live server takes effect.
func (s *Service) ReloadKeys(ctx context.Context) error {
	keys, err := s.store.SigningKeys(ctx)
	if err != nil {
		return internal("auth.ReloadKeys", err)
	}
	if len(keys) > 0 {
		s.keys.set(keys)
	}
	return nil
}

// Rotation is what a rotation did.
type Rotation struct {
	// Key is the next signing key: the new one, or the one found already pending.
	Key SigningKey
	// AlreadyPending: a signing key of the algorithm was already published and not yet signing
	// (a rotation ran moments before, or at the same time), so this one kept it and added nothing.
	AlreadyPending bool
}

// RotateKey makes a new signing key of the algorithm and a new refresh key; older keys keep
// verifying until their tokens have expired. With SignAfterPublishing the signing key is in the
// JWKS at once and signs after PublishDelay, and the refresh key signs after a server's reload
// interval (with slack), so no server meets a refresh token under a kid it has not loaded yet.
// With SignNow both sign at once.
//
// A rotation SignAfterPublishing while a key of the algorithm is still pending (published, not
// yet signing) adds nothing and returns that key, AlreadyPending: two rotations at once leave
// one next key. The decision is taken in the transaction that adds the keys, which reads the ring
// under the store's lock (Tx.SigningKeys), so a parallel rotation sees this one's key. SignNow
// always makes new keys (a key that leaked cannot wait).
func (s *Service) RotateKey(ctx context.Context, alg string, start KeyStart) (Rotation, error) {
	now := s.Now()
	signFrom, refreshFrom := now, now
	if start == SignAfterPublishing {
		signFrom, refreshFrom = now.Add(PublishDelay), now.Add(reloadSlack)
	}
	// Generated before the transaction: an RSA key takes a while, and the lock is held meanwhile.
	k, err := GenerateKey(alg, signFrom)
	if err != nil {
		return Rotation{}, err
	}
	r, err := GenerateRefreshKey(refreshFrom)
	if err != nil {
		return Rotation{}, internal("auth.RotateKey", err)
	}
	var out Rotation
	err = s.store.Update(ctx, func(tx Tx) error {
		keys, err := tx.SigningKeys()
		if err != nil {
			return err
		}
		if p := pendingKey(keys, alg, now); p != nil && start == SignAfterPublishing {
			out = Rotation{Key: *p, AlreadyPending: true}
			return nil
		}
		out = Rotation{Key: placeAfter(keys, k, now)}
		if err := tx.AddSigningKey(out.Key); err != nil {
			return err
		}
		return tx.AddSigningKey(placeAfter(keys, r, now))
	})
	if err != nil {
		return Rotation{}, internal("auth.RotateKey", err)
	}
	return out, s.ReloadKeys(ctx)
}

// pendingKey is the signing key of the algorithm that starts last after now, nil if none does.
func pendingKey(keys []SigningKey, alg string, now time.Time) *SigningKey {
	var p *SigningKey
	for i, k := range keys {
		if k.Algorithm == alg && k.CreatedAt.After(now) && (p == nil || k.CreatedAt.After(p.CreatedAt)) {
			p = &keys[i]
		}
	}
	return p
}

// ensureFirstKeys makes the first signing key and the first refresh key, both signing at once, on
// the first start (of a new database; or of this release on a database the previous one used,
// which had no refresh key: its refresh tokens keep verifying under the old keys). Processes
// starting at once on an empty database decide in turn (Tx.SigningKeys) and make one of each.
func (s *Service) ensureFirstKeys(ctx context.Context) error {
	now := s.Now()
	if s.keys.signerAt(now) != nil && s.keys.refreshSignerAt(now) != nil {
		return nil
	}
	k, err := GenerateKey(s.cfg.SigningAlgorithm, now)
	if err != nil {
		return err
	}
	r, err := GenerateRefreshKey(now)
	if err != nil {
		return internal("auth.New", err)
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		keys, err := tx.SigningKeys()
		if err != nil {
			return err
		}
		for _, first := range []SigningKey{k, r} {
			if !slices.ContainsFunc(keys, func(x SigningKey) bool { return (x.Algorithm == HS256) == (first.Algorithm == HS256) }) {
				if err := tx.AddSigningKey(first); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return internal("auth.New", err)
	}
	return s.ReloadKeys(ctx)
}

// AddKey stores a key (an imported one); it signs from its CreatedAt.
func (s *Service) AddKey(ctx context.Context, k SigningKey) error {
	now := s.Now()
	err := s.store.Update(ctx, func(tx Tx) error {
		keys, err := tx.SigningKeys()
		if err != nil {
			return err
		}
		return tx.AddSigningKey(placeAfter(keys, k, now))
	})
	if err != nil {
		return internal("auth.AddKey", err)
	}
	return s.ReloadKeys(ctx)
}

// placeAfter returns k with its start moved, if need be, past the key of its kind that would sign
// then. The ring orders keys by the time each starts signing (a whole second for a generated key).
// A key added to start in the same second as the key that would sign then (a rotation right after
// first start, an import on a new database) must still sort after it, or the older key would go on
// signing: a millisecond later is enough (stores keep milliseconds) and keeps a --now key
// immediate. A key still to start (a scheduled rotation) takes over at its time.
func placeAfter(keys []SigningKey, k SigningKey, now time.Time) SigningKey {
	at := laterOf(k.CreatedAt, now)
	var cur *SigningKey
	for i, x := range keys {
		if (x.Algorithm == HS256) == (k.Algorithm == HS256) && !x.CreatedAt.After(at) && (cur == nil || !x.CreatedAt.Before(cur.CreatedAt)) {
			cur = &keys[i]
		}
	}
	if cur != nil && cur.ID != k.ID && !k.CreatedAt.After(cur.CreatedAt) {
		k.CreatedAt = cur.CreatedAt.Add(time.Millisecond)
	}
	return k
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
