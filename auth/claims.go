package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// claimSet is a set of the claims checkClaims knows by name.
type claimSet uint16

const (
	claimIss claimSet = 1 << iota
	claimAud
	claimIat
	claimExp
	claimUUID
	claimDeviceID
	claimEmail
	claimFullName
	claimRoles
	claimSecretChain
)

// claimNames names the claims of claimSet in bit order.
var claimNames = [...]string{"iss", "aud", "iat", "exp", "uuid", "deviceId", "email", "fullName", "roles", "secretChain"}

// Which claims every token needs, and which tell one kind from the other: each kind must have its
// own and lack the other's.
const (
	registeredClaims  = claimIss | claimAud | claimIat | claimExp
	commonClaims      = claimUUID | claimDeviceID
	accessOnlyClaims  = claimEmail | claimFullName | claimRoles
	refreshOnlyClaims = claimSecretChain
)

// claimsPresent is the set of known claims a decoded payload has.
func claimsPresent(payload map[string]json.RawMessage) claimSet {
	var set claimSet
	for i, name := range claimNames {
		if _, ok := payload[name]; ok {
			set |= 1 << i
		}
	}
	return set
}

// tokenClaims is what checkClaims reads of a verified payload: the registered claims' values (nil
// for a claim that is absent or null) and which known claims the payload has at all.
type tokenClaims struct {
	iss, aud      *string
	iat, nbf, exp *int64 // seconds since the epoch
	present       claimSet
}

// checkClaims checks a verified token's claims for a token of the kind, issued by issuer (its
// audience too), at now with the clock leeway: iss, aud, iat and exp present; iss and aud ours;
// exp not reached (RFC 7519: "on or after" exp it is expired), nbf and iat not in the future;
// uuid, deviceId and the kind's own claims present and the other kind's absent. It is the one
// check behind both verify (public-key tokens) and verifyHS256 (refresh tokens).
func checkClaims(c tokenClaims, kind tokenKind, issuer string, now time.Time, leeway time.Duration) error {
	if err := missingClaim(c.present, registeredClaims); err != nil {
		return err
	}
	if c.iss == nil || c.aud == nil || c.iat == nil || c.exp == nil {
		return refuse(refusalMalformed, errors.New("iss, aud, exp and iat are required"))
	}
	switch {
	case *c.iss != issuer:
		return refuse(refusalWrongIssuer, jwt.ErrInvalidIssuer)
	case *c.aud != issuer:
		return refuse(refusalWrongAudience, jwt.ErrInvalidAudience)
	case !now.Before(time.Unix(*c.exp, 0).Add(leeway)):
		return errRefusedExpired
	case c.nbf != nil && now.Add(leeway).Before(time.Unix(*c.nbf, 0)):
		return refuse(refusalNotYetValid, jwt.ErrNotValidYet)
	case now.Add(leeway).Before(time.Unix(*c.iat, 0)):
		return refuse(refusalNotYetValid, jwt.ErrIssuedInTheFuture)
	}
	own, others := accessOnlyClaims, refreshOnlyClaims
	if kind == refreshToken {
		own, others = refreshOnlyClaims, accessOnlyClaims
	}
	if err := missingClaim(c.present, commonClaims|own); err != nil {
		return err
	}
	if extra := c.present & others; extra != 0 {
		return refuse(refusalWrongType, fmt.Errorf("claim %q does not belong in this kind of token", firstClaim(extra)))
	}
	return nil
}

// missingClaim refuses a token that lacks one of want: it is a token of the other kind (the
// signature held, so we made it).
func missingClaim(present, want claimSet) error {
	if missing := want &^ present; missing != 0 {
		return refuse(refusalWrongType, fmt.Errorf("missing claim %q", firstClaim(missing)))
	}
	return nil
}

// firstClaim names the first claim of a non-empty set.
func firstClaim(set claimSet) string {
	for i, name := range claimNames {
		if set&(1<<i) != 0 {
			return name
		}
	}
	return ""
}
