package auth

import (
	"context"
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

// RotateKey makes a new key of the algorithm that signs from now on; older keys keep verifying.
func (s *Service) RotateKey(ctx context.Context, alg string) (SigningKey, error) {
	k, err := GenerateKey(alg, s.Now())
	if err != nil {
		return SigningKey{}, err
	}
	return k, s.AddKey(ctx, k)
}

// AddKey stores a key (a rotated or an imported one); it signs from now on.
func (s *Service) AddKey(ctx context.Context, k SigningKey) error {
	// The ring orders keys by their creation second; a key added in the same second as the newest
	// (a rotation right after first start, an import on a new database) must still sort after it,
	// or the older key would go on signing.
	if cur := s.keys.current(); cur != nil && cur.ID != k.ID && !k.CreatedAt.After(cur.CreatedAt) {
		k.CreatedAt = cur.CreatedAt.Add(time.Second)
	}
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.AddSigningKey(k) }); err != nil {
		return internal("auth.AddKey", err)
	}
	return s.ReloadKeys(ctx)
}

// Keys lists the stored keys, oldest first, and whether each is live (may still have valid tokens).
func (s *Service) Keys() []KeyInfo {
	live := map[string]bool{}
	for _, k := range s.keys.live(s.Now(), s.maxTTL()) {
		live[k.ID] = true
	}
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	out := make([]KeyInfo, 0, len(s.keys.ordered))
	for _, k := range s.keys.ordered {
		out = append(out, KeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt,
			Signing: k == s.keys.signer, Live: live[k.ID], Shopsys: k.Shopsys})
	}
	return out
}

// KeyInfo describes a key for `shopauth keys list`.
type KeyInfo struct {
	ID, Algorithm string
	CreatedAt     time.Time
	Signing, Live bool
	Shopsys       bool
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
