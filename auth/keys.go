package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
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
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

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
	return newSigningKey(priv, alg, now, false)
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
		CreatedAt: now.UTC().Truncate(time.Second),
		Shopsys:   shopsys,
	}, nil
}

// ringKey is a key ready for use: its header bytes are encoded once.
type ringKey struct {
	SigningKey
	header   string // base64url of {"alg":…,"kid":…,"typ":"JWT"}
	public   jose.JSONWebKey
	joseAlg  jose.SignatureAlgorithm
	retireAt time.Time // when the next key took over; zero for the newest
	signing  chan struct{}
}

// keyRing holds every key whose tokens may still be live. The newest non-retired key signs.
type keyRing struct {
	mu      sync.RWMutex
	byID    map[string]*ringKey
	signer  *ringKey
	shopsys *ringKey
	ordered []*ringKey
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
	return &ringKey{
		SigningKey: k,
		header:     base64.RawURLEncoding.EncodeToString(h),
		public:     jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"},
		joseAlg:    jose.SignatureAlgorithm(k.Algorithm),
	}
}

// set replaces the ring's keys. Keys are ordered by creation; each is retired when the next one was made.
func (r *keyRing) set(keys []SigningKey) {
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].CreatedAt.Before(keys[j].CreatedAt) })
	byID := make(map[string]*ringKey, len(keys))
	ordered := make([]*ringKey, 0, len(keys))
	var shopsys *ringKey
	for i, k := range keys {
		rk := newRingKey(k)
		if i+1 < len(keys) {
			rk.retireAt = keys[i+1].CreatedAt
		}
		byID[k.ID] = rk
		ordered = append(ordered, rk)
		if k.Shopsys {
			shopsys = rk
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.signing == nil {
		r.signing = make(chan struct{}, runtime.GOMAXPROCS(0))
	}
	for _, rk := range ordered {
		rk.signing = r.signing
	}
	r.access.reset()
	r.byID, r.ordered, r.shopsys = byID, ordered, shopsys
	r.signer = nil
	if len(ordered) > 0 {
		r.signer = ordered[len(ordered)-1]
	}
}

func (r *keyRing) current() *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.signer
}

func (r *keyRing) byKeyID(kid string) *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byID[kid]
}

func (r *keyRing) shopsysKey() *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.shopsys
}

// reloadSlack covers a server that has not yet reloaded the ring (it does every 30 s) and so keeps
// signing with a key that `keys rotate` has already retired: that key stays live a minute longer.
const reloadSlack = time.Minute

// live returns the keys whose tokens may still be unexpired at now, given the longest token lifetime.
func (r *keyRing) live(now time.Time, maxTTL time.Duration) []*ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*ringKey
	for _, k := range r.ordered {
		if k.retireAt.IsZero() || now.Before(k.retireAt.Add(maxTTL+reloadSlack)) {
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
