package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"
)

// RoleLoggedCustomer is the one role a customer's access token carries.
const RoleLoggedCustomer = "ROLE_LOGGED_CUSTOMER"

// accessClaims are the access token's claims, in the order Shopsys writes them (nbf = iat, as
// current Shopsys releases send).
type accessClaims struct {
	Iss      string   `json:"iss"`
	Aud      string   `json:"aud"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf"`
	Exp      int64    `json:"exp"`
	DeviceID string   `json:"deviceId"`
	UUID     string   `json:"uuid"`
	Email    string   `json:"email"`
	FullName string   `json:"fullName"`
	Roles    []string `json:"roles"`
	// AdministratorUUID is the console operator who logged in as the customer (Shopsys's claim);
	// absent from every other token.
	AdministratorUUID string `json:"administratorUuid,omitempty"`
}

// refreshClaims are the refresh token's claims.
type refreshClaims struct {
	Iss         string `json:"iss"`
	Aud         string `json:"aud"`
	Iat         int64  `json:"iat"`
	Exp         int64  `json:"exp"`
	UUID        string `json:"uuid"`
	SecretChain string `json:"secretChain"`
	DeviceID    string `json:"deviceId"`
}

// maxTokenLength bounds what is parsed at all: our tokens are well under 2 KiB.
const maxTokenLength = 8 << 10

var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// isUUID reports whether s is a UUID as the tokens carry it: lowercase hex, 8-4-4-4-12. (A loop:
// the regular expression it replaces took about a microsecond of each refresh's three checks.)
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
		} else if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

// isSecret reports whether s is a secret chain: 40 lowercase hex characters.
func isSecret(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

type tokenKind int

const (
	accessToken tokenKind = iota
	refreshToken
)

// verified is what a token proved about itself.
type verified struct {
	key     *ringKey
	claims  map[string]json.RawMessage
	payload []byte
	iat     time.Time
	exp     time.Time
	// notBefore is nbf, zero when absent (our tokens have none; only the access cache needs it).
	notBefore time.Time
	legacy    bool // no kid: verified against the imported Shopsys key
}

// verify checks a compact JWS of the given kind: the key by kid (a token without kid only against an
// imported Shopsys key), the algorithm the key has (never the header's choice), the signature,
// exp/nbf/iat with the leeway, iss, aud and the claim set of the kind.
func (s *Service) verify(raw string, kind tokenKind) (*verified, error) {
	if raw == "" || len(raw) > maxTokenLength {
		return nil, unparsable(kind, raw, errors.New("empty or oversized token"))
	}
	tok, err := jose.ParseSignedCompact(raw, algorithms)
	if err != nil {
		return nil, unparsable(kind, raw, fmt.Errorf("parse: %w", err))
	}
	if len(tok.Signatures) != 1 {
		return nil, refuse(refusalMalformed, errors.New("want exactly one signature"))
	}
	h := tok.Signatures[0].Header
	var key *ringKey
	if h.KeyID == "" {
		key = s.keys.shopsysKey()
		if key == nil || kind != accessToken {
			return nil, refuse(refusalNoKid, errors.New("token has no kid"))
		}
	} else if key = s.keys.byKeyID(h.KeyID); key == nil {
		if s.keys.isRefreshKID(h.KeyID) {
			// A refresh key verifies only HS256 refresh tokens with its exact header (verifyRefresh).
			return nil, refuse(refusalWrongType, fmt.Errorf("alg %q under a refresh key's kid", h.Algorithm))
		}
		return nil, refuse(refusalUnknownKid, errors.New("unknown kid"))
	}
	if h.Algorithm != string(key.joseAlg) {
		return nil, refuse(refusalWrongAlg, fmt.Errorf("alg %q does not match the key's %q", h.Algorithm, key.Algorithm))
	}
	if len(h.ExtraHeaders) > 0 {
		for name := range h.ExtraHeaders {
			if name == "crit" {
				return nil, refuse(refusalMalformed, errors.New("crit header not understood"))
			}
		}
	}
	// The payload is decoded from the verified bytes only: once into the claim set (to check which
	// claims are present) and once into the registered claims, with go-jose's case-sensitive JSON.
	payload, err := tok.Verify(key.public.Key)
	if err != nil {
		return nil, refuse(refusalBadSignature, fmt.Errorf("signature: %w", err))
	}
	// A signature that verifies may still be spelled two ways (padding bits); accept one.
	if !canonical(raw) {
		return nil, refuse(refusalMalformed, errors.New("not canonical base64url"))
	}
	var raws map[string]json.RawMessage
	if err := josejson.Unmarshal(payload, &raws); err != nil {
		return nil, refuse(refusalMalformed, fmt.Errorf("claims: %w", err))
	}
	var std jwt.Claims
	if err := josejson.Unmarshal(payload, &std); err != nil {
		return nil, refuse(refusalMalformed, fmt.Errorf("claims: %w", err))
	}
	c := tokenClaims{present: claimsPresent(raws),
		iat: (*int64)(std.IssuedAt), nbf: (*int64)(std.NotBefore), exp: (*int64)(std.Expiry)}
	if c.present&claimIss != 0 {
		c.iss = &std.Issuer
	}
	if r, ok := raws["aud"]; ok {
		// aud must be our issuer written as a string, as Shopsys writes it; a list is not ours.
		var aud string
		if err := json.Unmarshal(r, &aud); err != nil {
			return nil, refuse(refusalWrongAudience, errors.New("aud is not a string"))
		}
		c.aud = &aud
	}
	if err := checkClaims(c, kind, s.cfg.Issuer, s.Now(), s.cfg.ClockLeeway); err != nil {
		return nil, err
	}
	v := &verified{key: key, claims: raws, payload: payload, iat: std.IssuedAt.Time(), exp: std.Expiry.Time(), legacy: h.KeyID == ""}
	if std.NotBefore != nil {
		v.notBefore = std.NotBefore.Time()
	}
	return v, nil
}

// canonical reports whether each of the three parts is base64url without padding and with zero
// padding bits, so that one token has exactly one spelling (no malleable variants of a signature).
func canonical(raw string) bool {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if _, err := strictBase64.DecodeString(p); err != nil {
			return false
		}
	}
	return true
}

var strictBase64 = base64.RawURLEncoding.Strict()

// verifyAccess returns the access token's claims. A token that verified before is taken from the
// cache, after the checks that depend on the time.
func (s *Service) verifyAccess(raw string) (*verified, accessClaims, error) {
	var c accessClaims
	var id [sha256.Size]byte
	epoch := s.keys.access.current()
	if raw != "" && len(raw) <= maxTokenLength {
		id = sha256.Sum256([]byte(raw))
		if e := s.keys.access.get(id); e != nil {
			if !e.timely(s.Now(), s.cfg.ClockLeeway) {
				return nil, c, errRefusedExpired
			}
			return e.v, e.claims, nil
		}
	}
	v, err := s.verify(raw, accessToken)
	if err != nil {
		return nil, c, err
	}
	if err := decodeClaims(v.payload, &c); err != nil {
		return nil, c, err
	}
	if !isUUID(c.UUID) || !isUUID(c.DeviceID) {
		return nil, c, refuse(refusalMalformed, errors.New("uuid or deviceId is not a UUID"))
	}
	if len(c.Roles) != 1 || c.Roles[0] != RoleLoggedCustomer {
		return nil, c, refuse(refusalMalformed, errors.New("unexpected roles"))
	}
	if !v.legacy {
		s.keys.access.put(id, &accessEntry{v: v, claims: c, notBefore: v.notBefore, issued: v.iat, until: v.exp}, epoch)
	}
	return v, c, nil
}

// decodeClaims decodes the verified payload strictly into the kind's struct: wrong types fail.
// (It used to re-encode the claim map first; decoding the payload itself gives the same values.)
func decodeClaims(payload []byte, dst any) error {
	if err := json.Unmarshal(payload, dst); err != nil {
		return refuse(refusalMalformed, fmt.Errorf("claims: %w", err))
	}
	return nil
}

// signAccess issues an access token for the customer's device, whose session began as login and
// ends at end (zero: no bound but the access lifetime).
func (s *Service) signAccess(c *Customer, deviceID string, now time.Time, login LoginInfo, end time.Time) (string, error) {
	key := s.keys.signerAt(now)
	payload, err := json.Marshal(accessClaims{
		Iss: s.cfg.Issuer, Aud: s.cfg.Issuer,
		Iat: now.Unix(), Nbf: now.Unix(), Exp: capAt(now.Add(s.cfg.AccessTTL), end).Unix(),
		DeviceID: deviceID, UUID: c.UUID, Email: c.Email, FullName: c.FullName(),
		Roles: []string{RoleLoggedCustomer}, AdministratorUUID: login.AdministratorUUID,
	})
	if err != nil {
		return "", err
	}
	tok, _, err := key.sign(payload)
	return tok, err
}

// refreshPayload is the refresh token's payload; the same inputs give the same bytes.
func (s *Service) refreshPayload(customerUUID, deviceID, secret string, iat, exp time.Time) []byte {
	b, _ := json.Marshal(refreshClaims{
		Iss: s.cfg.Issuer, Aud: s.cfg.Issuer,
		Iat: iat.Unix(), Exp: exp.Unix(),
		UUID: customerUUID, SecretChain: secret, DeviceID: deviceID,
	})
	return b
}
