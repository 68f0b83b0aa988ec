package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ringKey is a key ready for use: its header bytes are encoded once.
type ringKey struct {
	SigningKey
	header   string // base64url of {"alg":…,"kid":…,"typ":"JWT"}
	public   jose.JSONWebKey
	joseAlg  jose.SignatureAlgorithm
	retireAt time.Time // when the next key of its kind took over; zero for the newest
	signing  chan struct{}
	macs     *macs // HS256 keys: the HMAC states
}

// keyRing holds every key whose tokens may still be live: the public-key keys that sign access
// tokens (published in the JWKS) and the HS256 keys that sign refresh tokens (never published).
// Of each kind, the newest key whose CreatedAt (the time it starts signing) has come signs.
type keyRing struct {
	mu      sync.RWMutex
	byID    map[string]*ringKey // public-key keys only: the only ones a JWS header may name for verify
	signers []*ringKey          // public-key keys, by CreatedAt
	shopsys *ringKey
	// refresh are the HS256 keys by CreatedAt; refreshByHeader finds one by a token's header part,
	// which is the same bytes for every token the key signed.
	refresh         []*ringKey
	refreshByHeader map[string]*ringKey
	refreshByID     map[string]*ringKey
	// access remembers verified access tokens; it is emptied whenever the keys are replaced.
	access accessCache
	// signing bounds how many signatures are computed at once (see ringKey.sign).
	signing chan struct{}
}

func newRingKey(k SigningKey) *ringKey {
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{k.Algorithm, k.ID, "JWT"})
	rk := &ringKey{
		SigningKey: k,
		header:     base64.RawURLEncoding.EncodeToString(h),
		joseAlg:    jose.SignatureAlgorithm(k.Algorithm),
	}
	if k.Private != nil {
		rk.public = jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"}
	}
	if k.Algorithm == HS256 {
		rk.macs = newMACs(k.Secret)
	}
	return rk
}

// orderKeys sorts keys by the time each starts signing and retires each when the next one starts.
func orderKeys(keys []SigningKey) []*ringKey {
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].CreatedAt.Before(keys[j].CreatedAt) })
	out := make([]*ringKey, 0, len(keys))
	for i, k := range keys {
		rk := newRingKey(k)
		if i+1 < len(keys) {
			rk.retireAt = keys[i+1].CreatedAt
		}
		out = append(out, rk)
	}
	return out
}

// set replaces the ring's keys.
func (r *keyRing) set(keys []SigningKey) {
	var public, refresh []SigningKey
	for _, k := range keys {
		if k.Algorithm == HS256 {
			refresh = append(refresh, k)
		} else {
			public = append(public, k)
		}
	}
	signers, refreshers := orderKeys(public), orderKeys(refresh)
	byID := make(map[string]*ringKey, len(signers))
	var shopsys *ringKey
	for _, rk := range signers {
		byID[rk.ID] = rk
		if rk.Shopsys {
			shopsys = rk
		}
	}
	refreshByHeader := make(map[string]*ringKey, len(refreshers))
	refreshByID := make(map[string]*ringKey, len(refreshers))
	for _, rk := range refreshers {
		refreshByHeader[rk.header] = rk
		refreshByID[rk.ID] = rk
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.signing == nil {
		r.signing = make(chan struct{}, runtime.GOMAXPROCS(0))
	}
	for _, rk := range signers {
		rk.signing = r.signing
	}
	r.access.reset()
	r.byID, r.signers, r.shopsys = byID, signers, shopsys
	r.refresh, r.refreshByHeader, r.refreshByID = refreshers, refreshByHeader, refreshByID
}

// signerAt is the key that signs access tokens at now: the newest whose time has come (the oldest
// if none has, which only a clock set back before the first key can cause).
func (r *keyRing) signerAt(now time.Time) *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return newestBy(r.signers, now)
}

// refreshSignerAt is the key that signs refresh tokens at now; nil before the first start made one.
func (r *keyRing) refreshSignerAt(now time.Time) *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return newestBy(r.refresh, now)
}

// signingAt is the key of the kind that signs at t, nil if none has started by then.
func (r *keyRing) signingAt(refresh bool, t time.Time) *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := r.signers
	if refresh {
		keys = r.refresh
	}
	for i := len(keys) - 1; i >= 0; i-- {
		if !keys[i].CreatedAt.After(t) {
			return keys[i]
		}
	}
	return nil
}

func newestBy(keys []*ringKey, now time.Time) *ringKey {
	for i := len(keys) - 1; i >= 0; i-- {
		if !keys[i].CreatedAt.After(now) {
			return keys[i]
		}
	}
	if len(keys) > 0 {
		return keys[0]
	}
	return nil
}

// byKeyID finds a public-key key; a refresh key's kid is not found here.
func (r *keyRing) byKeyID(kid string) *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byID[kid]
}

// refreshKeyByHeader finds the refresh key whose tokens start with this header part.
func (r *keyRing) refreshKeyByHeader(header string) *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.refreshByHeader[header]
}

// isRefreshKID reports whether kid names a refresh key (to say so when a token misuses it).
func (r *keyRing) isRefreshKID(kid string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.refreshByID[kid] != nil
}

// anyKey finds a key of either kind: a session's newest refresh token may have been signed by
// either (by a public-key key before refresh keys existed).
func (r *keyRing) anyKey(kid string) *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if k := r.byID[kid]; k != nil {
		return k
	}
	return r.refreshByID[kid]
}

func (r *keyRing) shopsysKey() *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.shopsys
}

// reloadSlack covers a server that has not yet reloaded the ring (it does every 30 s) and so keeps
// signing with a key that `keys rotate` has already retired: that key stays live a minute longer.
const reloadSlack = time.Minute

// live returns the public-key keys whose tokens may still be unexpired at now, given the longest
// token lifetime, and every key that is still to start signing (published before it signs).
func (r *keyRing) live(now time.Time, maxTTL time.Duration) []*ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return liveKeys(r.signers, now, maxTTL)
}

// liveRefresh is live for the refresh keys: their tokens live at most the refresh lifetime.
func (r *keyRing) liveRefresh(now time.Time, ttl time.Duration) []*ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return liveKeys(r.refresh, now, ttl)
}

func liveKeys(keys []*ringKey, now time.Time, ttl time.Duration) []*ringKey {
	var out []*ringKey
	for _, k := range keys {
		if k.retireAt.IsZero() || now.Before(k.retireAt.Add(ttl+reloadSlack)) {
			out = append(out, k)
		}
	}
	return out
}

// sign returns the compact JWS of payload and, separately, its signature part.
// RSA PKCS#1 v1.5 and Ed25519 are deterministic; ES256 is not, which is why the grace path replays
// a stored signature rather than signing again.
func (k *ringKey) sign(payload []byte) (token, signature string, err error) {
	input := make([]byte, 0, len(k.header)+1+base64.RawURLEncoding.EncodedLen(len(payload)))
	input = append(input, k.header...)
	input = append(input, '.')
	input = base64.RawURLEncoding.AppendEncode(input, payload)
	// At most one signature per CPU runs at a time. Under load, dozens of requests sign at once;
	// interleaving that many RSA computations on two cores (preemption every 10 ms, each with its
	// own working set) made each signature about 13% dearer than the same signature alone.
	// (An HMAC takes a microsecond: refresh keys have no semaphore.)
	if k.signing != nil {
		k.signing <- struct{}{}
		defer func() { <-k.signing }()
	}
	var sig []byte
	switch k.Algorithm {
	case RS256:
		d := sha256.Sum256(input)
		sig, err = rsa.SignPKCS1v15(nil, k.Private.(*rsa.PrivateKey), crypto.SHA256, d[:])
	case ES256:
		d := sha256.Sum256(input)
		var r, s []byte
		r, s, err = ecdsaSign(k.Private.(*ecdsa.PrivateKey), d[:])
		sig = append(r, s...)
	case EdDSA:
		sig = ed25519.Sign(k.Private.(ed25519.PrivateKey), input)
	case HS256:
		sig = k.macs.sum(nil, input)
	default:
		err = fmt.Errorf("unknown algorithm %q", k.Algorithm)
	}
	if err != nil {
		return "", "", err
	}
	signature = base64.RawURLEncoding.EncodeToString(sig)
	return string(input) + "." + signature, signature, nil
}

// ecdsaSign returns r and s as 32-byte big-endian values, as JWS wants (RFC 7518 §3.4).
func ecdsaSign(k *ecdsa.PrivateKey, digest []byte) (r, s []byte, err error) {
	ri, si, err := ecdsa.Sign(rand.Reader, k, digest)
	if err != nil {
		return nil, nil, err
	}
	return ri.FillBytes(make([]byte, 32)), si.FillBytes(make([]byte, 32)), nil
}

// assemble rebuilds a compact JWS from its payload and a stored signature.
func (k *ringKey) assemble(payload []byte, signature string) string {
	return k.header + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + signature
}

// JWKS is the public key set document (RFC 7517) of every key that may still have live tokens.
type JWKS struct {
	Keys []jose.JSONWebKey `json:"keys"`
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
