package auth

import (
	"context"
	"slices"
	"time"
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

// RotateKey makes a new signing key of the algorithm and a new refresh key; older keys keep
// verifying until their tokens have expired. With SignAfterPublishing the signing key is in the
// JWKS at once and signs after PublishDelay, and the refresh key signs after a server's reload
// interval (with slack), so no server meets a refresh token under a kid it has not loaded yet.
// With SignNow both sign at once. The signing key is returned.
func (s *Service) RotateKey(ctx context.Context, alg string, start KeyStart) (SigningKey, error) {
	now := s.Now()
	signFrom, refreshFrom := now, now
	if start == SignAfterPublishing {
		signFrom, refreshFrom = now.Add(PublishDelay), now.Add(reloadSlack)
	}
	k, err := GenerateKey(alg, signFrom)
	if err != nil {
		return SigningKey{}, err
	}
	if err := s.AddKey(ctx, k); err != nil {
		return SigningKey{}, err
	}
	if s.keys.refreshSignerAt(now) == nil {
		return k, nil // New makes the first refresh key, signing at once
	}
	r, err := GenerateRefreshKey(refreshFrom)
	if err != nil {
		return SigningKey{}, internal("auth.RotateKey", err)
	}
	return k, s.AddKey(ctx, r)
}

// AddKey stores a key (a rotated or an imported one); it signs from its CreatedAt.
func (s *Service) AddKey(ctx context.Context, k SigningKey) error {
	// The ring orders keys by the time each starts signing (a whole second for a generated key).
	// A key added to start in the same second as the key that would sign then (a rotation right
	// after first start, an import on a new database) must still sort after it, or the older key
	// would go on signing: a millisecond later is enough (stores keep milliseconds) and keeps a
	// --now key immediate. A key still to start (a scheduled rotation) takes over at its time.
	if cur := s.keys.signingAt(k.Algorithm == HS256, laterOf(k.CreatedAt, s.Now())); cur != nil && cur.ID != k.ID && !k.CreatedAt.After(cur.CreatedAt) {
		k.CreatedAt = cur.CreatedAt.Add(time.Millisecond)
	}
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.AddSigningKey(k) }); err != nil {
		return internal("auth.AddKey", err)
	}
	return s.ReloadKeys(ctx)
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Keys lists the stored keys, oldest first, and whether each is live (may still have valid tokens).
func (s *Service) Keys() []KeyInfo {
	live := map[string]bool{}
	now := s.Now()
	for _, k := range s.keys.live(now, s.maxTTL()) {
		live[k.ID] = true
	}
	for _, k := range s.keys.liveRefresh(now, s.cfg.RefreshTTL) {
		live[k.ID] = true
	}
	signer, refreshSigner := s.keys.signerAt(now), s.keys.refreshSignerAt(now)
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	out := make([]KeyInfo, 0, len(s.keys.signers)+len(s.keys.refresh))
	for _, k := range append(slices.Clone(s.keys.signers), s.keys.refresh...) {
		out = append(out, KeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt,
			Signing: k == signer || k == refreshSigner, Pending: k.CreatedAt.After(now),
			Live: live[k.ID], Shopsys: k.Shopsys, Refresh: k.Algorithm == HS256})
	}
	return out
}

// KeyInfo describes a key for `shopauth keys list`.
type KeyInfo struct {
	ID, Algorithm string
	CreatedAt     time.Time // when it starts (or started) signing
	Signing, Live bool
	Pending       bool // published (if a signing key), signs from CreatedAt
	Shopsys       bool
	Refresh       bool // signs refresh tokens only; never published
}

func (s *Service) maxTTL() time.Duration { return max(s.cfg.AccessTTL, s.cfg.RefreshTTL) }

// JWKS returns the public keys of every key that may still have live tokens.
func (s *Service) JWKS() JWKS {
	set := JWKS{Keys: nil}
	for _, k := range s.keys.live(s.Now(), s.maxTTL()) {
		set.Keys = append(set.Keys, k.public.Public())
	}
	return set
}
