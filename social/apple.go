package social

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// appleSecretLifetime is how long a client secret shopauth signs for Apple lives: it is made
// afresh for each token request, so minutes are plenty (Apple allows up to six months).
const appleSecretLifetime = 5 * time.Minute

// ParseAppleKey reads the .p8 file Apple hands out: a PEM "PRIVATE KEY" (PKCS #8) holding a
// P-256 key.
func ParseAppleKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file (Apple's .p8 key starts with -----BEGIN PRIVATE KEY-----)")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a PKCS #8 private key: " + err.Error())
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not a P-256 (ES256) key, as Apple's Sign in with Apple keys are")
	}
	return ec, nil
}

// appleClientSecret is the ES256 JWT Apple takes as client_secret: issued by the team, about the
// Services ID, for Apple (the issuer), signed with the key Apple knows by kid.
func appleClientSecret(c AppleConfig, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: c.Key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", c.KeyID))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(jwt.Claims{
		Issuer:   c.TeamID,
		Subject:  c.ClientIDs[0],
		Audience: jwt.Audience{c.Issuer},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(appleSecretLifetime)),
	}).Serialize()
}
