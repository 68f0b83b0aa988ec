package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Refresh tokens are HS256 JWS under a refresh key: 256 random bits kept in the database beside the
// signing keys and never published (contract §2, as Keycloak has signed them since 4.5). Only
// shopauth reads a refresh token, so it needs no public-key signature: a refresh costs one (the
// access token's), and a service that verifies through the JWKS can never take a refresh token for
// an access token, since no published key has its kid or its algorithm.

// signRefresh signs a refresh token's payload with the refresh key of the moment.
func (s *Service) signRefresh(payload []byte, now time.Time) (token, signature, kid string, err error) {
	k := s.keys.refreshSignerAt(now)
	if k == nil {
		return "", "", "", errors.New("no refresh key")
	}
	token, signature, err = k.sign(payload)
	return token, signature, k.ID, err
}

// refreshWire is a refresh token's payload as decoded; pointers and raw values tell a missing
// claim from a zero one.
type refreshWire struct {
	Iss         *string         `json:"iss"`
	Aud         *string         `json:"aud"`
	Iat         *int64          `json:"iat"`
	Nbf         *int64          `json:"nbf"`
	Exp         *int64          `json:"exp"`
	UUID        string          `json:"uuid"`
	SecretChain string          `json:"secretChain"`
	DeviceID    string          `json:"deviceId"`
	Email       json.RawMessage `json:"email"`
	FullName    json.RawMessage `json:"fullName"`
	Roles       json.RawMessage `json:"roles"`
}

// hs256SignatureLength is the base64url length of an HMAC-SHA-256.
var hs256SignatureLength = base64.RawURLEncoding.EncodedLen(sha256.Size)

// verifyRefresh returns the refresh token's claims.
//
// A token whose header part is exactly the header of one of our refresh keys is checked over its
// compact form: the HMAC of the first two parts against the third with hmac.Equal, then the payload
// decoded once. The algorithm is the key's (HS256), pinned by the header bytes themselves; no other
// header may name a refresh key. Anything else is a refresh token the previous release signed with
// a public key of the ring (RS256, ES256 or EdDSA), accepted until it is rotated, or a forgery.
func (s *Service) verifyRefresh(raw string) (refreshClaims, error) {
	if raw == "" || len(raw) > maxTokenLength {
		return refreshClaims{}, unparsable(refreshToken, raw, errors.New("empty or oversized token"))
	}
	if header, _, ok := strings.Cut(raw, "."); ok {
		if k := s.keys.refreshKeyByHeader(header); k != nil {
			return s.verifyHS256(k, raw)
		}
	}
	v, err := s.verify(raw, refreshToken)
	if err != nil {
		return refreshClaims{}, err
	}
	var c refreshClaims
	if err := decodeClaims(v.payload, &c); err != nil {
		return c, err
	}
	if !isUUID(c.UUID) || !isUUID(c.DeviceID) || !isSecret(c.SecretChain) {
		return c, errMalformedRefresh
	}
	return c, nil
}

var (
	errMalformedRefresh = refuse(refusalMalformed, errors.New("malformed uuid, deviceId or secretChain"))
	errNotHS256         = refuse(refusalMalformed, errors.New("parse: not a compact HS256 JWS"))
)

// verifyHS256 checks a refresh token under the refresh key k, whose header it carries.
func (s *Service) verifyHS256(k *ringKey, raw string) (refreshClaims, error) {
	var c refreshClaims
	dot := strings.LastIndexByte(raw, '.')
	if dot <= len(k.header) {
		return c, errNotHS256
	}
	signed, sig := raw[:dot], raw[dot+1:]
	payloadPart := signed[len(k.header)+1:]
	if strings.IndexByte(payloadPart, '.') >= 0 || len(sig) != hs256SignatureLength {
		return c, errNotHS256
	}
	var want [sha256.Size]byte
	if _, err := strictBase64.Decode(want[:], []byte(sig)); err != nil {
		return c, refuse(refusalMalformed, errors.New("parse: signature is not canonical base64url"))
	}
	var got [sha256.Size]byte
	if !hmac.Equal(k.macs.sum(got[:0], []byte(signed)), want[:]) {
		return c, refuse(refusalBadSignature, errors.New("signature: HMAC does not match"))
	}
	// The HMAC holds, so these bytes are ones this server wrote: decode them once.
	payload, err := strictBase64.DecodeString(payloadPart)
	if err != nil {
		return c, refuse(refusalMalformed, errors.New("parse: payload is not canonical base64url"))
	}
	w, ok := readRefreshPayload(payload)
	if !ok {
		if err := json.Unmarshal(payload, &w); err != nil {
			return c, refuse(refusalMalformed, fmt.Errorf("claims: %w", err))
		}
	}
	if err := checkClaims(w.claims(), refreshToken, s.cfg.Issuer, s.Now(), s.cfg.ClockLeeway); err != nil {
		return c, err
	}
	if !isUUID(w.UUID) || !isUUID(w.DeviceID) || !isSecret(w.SecretChain) {
		return c, errMalformedRefresh
	}
	return refreshClaims{Iss: *w.Iss, Aud: *w.Aud, Iat: *w.Iat, Exp: *w.Exp,
		UUID: w.UUID, SecretChain: w.SecretChain, DeviceID: w.DeviceID}, nil
}

// claims is what checkClaims reads of the payload: a null claim counts as absent, and so does an
// empty uuid, deviceId or secretChain.
func (w *refreshWire) claims() tokenClaims {
	c := tokenClaims{iss: w.Iss, aud: w.Aud, iat: w.Iat, nbf: w.Nbf, exp: w.Exp}
	for _, p := range []struct {
		has   bool
		claim claimSet
	}{
		{w.Iss != nil, claimIss}, {w.Aud != nil, claimAud}, {w.Iat != nil, claimIat}, {w.Exp != nil, claimExp},
		{w.UUID != "", claimUUID}, {w.DeviceID != "", claimDeviceID}, {w.SecretChain != "", claimSecretChain},
		{w.Email != nil, claimEmail}, {w.FullName != nil, claimFullName}, {w.Roles != nil, claimRoles},
	} {
		if p.has {
			c.present |= p.claim
		}
	}
	return c
}

// readRefreshPayload reads a payload laid out as refreshPayload writes it, the claims in its
// order, each string plain printable ASCII, each number an integer: what json.Unmarshal would
// read into a refreshWire, without its reflection (a sixth of verifying a refresh token). ok is
// false for any other payload (an earlier release's, say), which json.Unmarshal then reads.
func readRefreshPayload(p []byte) (w refreshWire, ok bool) {
	r := payloadReader{p: p}
	iss, aud := r.str(`{"iss":`), r.str(`,"aud":`)
	iat, exp := r.num(`,"iat":`), r.num(`,"exp":`)
	w.UUID, w.SecretChain, w.DeviceID = r.str(`,"uuid":`), r.str(`,"secretChain":`), r.str(`,"deviceId":`)
	if !r.literal(`}`) || len(r.p) != 0 {
		return refreshWire{}, false
	}
	w.Iss, w.Aud, w.Iat, w.Exp = &iss, &aud, &iat, &exp
	return w, true
}

// payloadReader reads a payload from the front; once a read fails, every later one does.
type payloadReader struct {
	p      []byte
	failed bool
}

func (r *payloadReader) literal(s string) bool {
	if r.failed || len(r.p) < len(s) || string(r.p[:len(s)]) != s {
		r.failed = true
		return false
	}
	r.p = r.p[len(s):]
	return true
}

// str reads the member name, then a string of printable ASCII other than " and \.
func (r *payloadReader) str(name string) string {
	if !r.literal(name + `"`) {
		return ""
	}
	for i, c := range r.p {
		if c == '"' {
			s := string(r.p[:i])
			r.p = r.p[i+1:]
			return s
		}
		if c < 0x20 || c > 0x7e || c == '\\' {
			break
		}
	}
	r.failed = true
	return ""
}

// num reads the member name, then an integer as JSON writes it (no sign but -, no leading 0).
func (r *payloadReader) num(name string) int64 {
	if !r.literal(name) {
		return 0
	}
	end := 0
	if end < len(r.p) && r.p[end] == '-' {
		end++
	}
	digits := end
	for end < len(r.p) && '0' <= r.p[end] && r.p[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(string(r.p[:end]), 10, 64)
	if err != nil || end == digits || (r.p[digits] == '0' && end > digits+1) {
		r.failed = true
		return 0
	}
	r.p = r.p[end:]
	return n
}
