package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Signing algorithms a key may have. The algorithm belongs to the key, never to a token's header.
// HS256 is the refresh key's alone: it signs refresh tokens and is never published.
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
	HS256 = "HS256"
)

// refreshKeyPEMType is the PEM block a refresh key is stored in: the 32 key bytes, as they are.
// It only ever comes from the database; `keys import` refuses it.
const refreshKeyPEMType = "SHOPAUTH REFRESH KEY"

// GenerateKey makes a new signing key of the algorithm (RSA keys are 2048 bits).
func GenerateKey(alg string, now time.Time) (SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return SigningKey{}, fmt.Errorf("unknown signing algorithm %q (want RS256, ES256 or EdDSA)", alg)
	}
	if err != nil {
		return SigningKey{}, err
	}
	return newSigningKey(priv, alg, now.Truncate(time.Second), false)
}

// ParsePrivateKeyPEM reads a PEM private key (PKCS#1 or PKCS#8; a Shopsys private.key is PKCS#1 or
// PKCS#8 RSA) and makes it a signing key of the algorithm that fits it.
func ParsePrivateKeyPEM(data []byte, now time.Time, shopsys bool) (SigningKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return SigningKey{}, errors.New("no PEM block found")
	}
	if x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck // only to give a clear message
		return SigningKey{}, errors.New("the key is encrypted with a passphrase; decrypt it first (openssl pkey -in private.key -out plain.key)")
	}
	var key any
	var err error
	switch block.Type {
	case refreshKeyPEMType:
		if shopsys || len(block.Bytes) != refreshKeySize {
			return SigningKey{}, errors.New("not a private key: a shopauth refresh key cannot be imported")
		}
		return SigningKey{Algorithm: HS256, Secret: bytes.Clone(block.Bytes), CreatedAt: now.UTC()}, nil
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return SigningKey{}, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return SigningKey{}, err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return SigningKey{}, fmt.Errorf("RSA key has %d bits; at least 2048 are required", k.N.BitLen())
		}
		return newSigningKey(k, RS256, now, shopsys)
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return SigningKey{}, errors.New("only P-256 EC keys are supported")
		}
		return newSigningKey(k, ES256, now, shopsys)
	case ed25519.PrivateKey:
		return newSigningKey(k, EdDSA, now, shopsys)
	}
	return SigningKey{}, fmt.Errorf("unsupported key type %T", key)
}

// MarshalPrivateKeyPEM is the stored form of a key: PKCS#8 PEM.
func MarshalPrivateKeyPEM(k SigningKey) ([]byte, error) {
	if k.Algorithm == HS256 {
		if len(k.Secret) != refreshKeySize {
			return nil, errors.New("refresh key must be 32 bytes")
		}
		return pem.EncodeToMemory(&pem.Block{Type: refreshKeyPEMType, Bytes: k.Secret}), nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func newSigningKey(priv crypto.Signer, alg string, now time.Time, shopsys bool) (SigningKey, error) {
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{
		ID:        base64.RawURLEncoding.EncodeToString(tp),
		Algorithm: alg,
		Private:   priv,
		CreatedAt: now.UTC(),
		Shopsys:   shopsys,
	}, nil
}

// ringKey is a key ready for use: its header bytes are encoded once.
type ringKey struct {
	SigningKey
	header   string // base64url of {"alg":…,"kid":…,"typ":"JWT"}
	public   jose.JSONWebKey
	joseAlg  jose.SignatureAlgorithm
	retireAt time.Time // when the next key of its kind took over; zero for the newest
	signing  chan struct{}
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
		m := hmac.New(sha256.New, k.Secret)
		m.Write(input)
		sig = m.Sum(nil)
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
