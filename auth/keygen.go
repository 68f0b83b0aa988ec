package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
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

// refreshKeyPEMType is the PEM block a refresh key is stored in: the 32 key bytes, as they are.
// It only ever comes from the database; `keys import` refuses it.
const refreshKeyPEMType = "SHOPAUTH REFRESH KEY"

// refreshKeySize is the refresh key's length: 256 bits, SHA-256's block-size-safe key length.
const refreshKeySize = 32

// GenerateRefreshKey makes a new refresh key that signs from the given time. Its kid is random: a
// kid derived from the key would tell something about it, and the kid appears in every token.
func GenerateRefreshKey(from time.Time) (SigningKey, error) {
	secret := make([]byte, refreshKeySize)
	id := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return SigningKey{}, err
	}
	if _, err := rand.Read(id); err != nil {
		return SigningKey{}, err
	}
	return SigningKey{
		ID:        base64.RawURLEncoding.EncodeToString(id),
		Algorithm: HS256,
		Secret:    secret,
		CreatedAt: from.UTC().Truncate(time.Second),
	}, nil
}
