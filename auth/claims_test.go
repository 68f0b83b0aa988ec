package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// TestCheckClaims is the one table of the claims check that verify (public-key tokens) and
// verifyHS256 (refresh tokens) share: each case names the refusal, and the detail it carries.
func TestCheckClaims(t *testing.T) {
	const issuer = "https://shop.example"
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const leeway = 30 * time.Second
	str := func(s string) *string { return &s }
	at := func(d time.Duration) *int64 { n := now.Add(d).Unix(); return &n }
	access := func(f func(*tokenClaims)) tokenClaims {
		c := tokenClaims{iss: str(issuer), aud: str(issuer), iat: at(0), exp: at(time.Hour),
			present: registeredClaims | commonClaims | accessOnlyClaims}
		if f != nil {
			f(&c)
		}
		return c
	}
	refresh := func(f func(*tokenClaims)) tokenClaims {
		c := access(nil)
		c.present = registeredClaims | commonClaims | refreshOnlyClaims
		if f != nil {
			f(&c)
		}
		return c
	}
	without := func(set claimSet) func(*tokenClaims) { return func(c *tokenClaims) { c.present &^= set } }

	tests := []struct {
		name   string
		claims tokenClaims
		kind   tokenKind
		want   refusal // "" accepted
		detail string
	}{
		{"an access token", access(nil), accessToken, "", ""},
		{"a refresh token", refresh(nil), refreshToken, "", ""},
		{"missing iss", access(without(claimIss)), accessToken, refusalWrongType, `missing claim "iss"`},
		{"missing aud", access(without(claimAud)), accessToken, refusalWrongType, `missing claim "aud"`},
		{"missing iat", refresh(without(claimIat)), refreshToken, refusalWrongType, `missing claim "iat"`},
		{"missing exp", refresh(without(claimExp)), refreshToken, refusalWrongType, `missing claim "exp"`},
		{"exp null", access(func(c *tokenClaims) { c.exp = nil }), accessToken, refusalMalformed, "exp and iat are required"},
		{"iat null", access(func(c *tokenClaims) { c.iat = nil }), accessToken, refusalMalformed, "exp and iat are required"},
		{"another issuer", access(func(c *tokenClaims) { c.iss = str("https://evil.example") }), accessToken, refusalWrongIssuer, "(iss)"},
		{"the issuer with a trailing slash", refresh(func(c *tokenClaims) { c.iss = str(issuer + "/") }), refreshToken, refusalWrongIssuer, "(iss)"},
		{"another audience", access(func(c *tokenClaims) { c.aud = str("https://evil.example") }), accessToken, refusalWrongAudience, "(aud)"},
		{"an empty audience", refresh(func(c *tokenClaims) { c.aud = str("") }), refreshToken, refusalWrongAudience, "(aud)"},
		{"exp now plus the leeway: expired", access(func(c *tokenClaims) { c.exp = at(-leeway) }), accessToken, refusalExpired, "(exp)"},
		{"exp a second later: valid", access(func(c *tokenClaims) { c.exp = at(-leeway + time.Second) }), accessToken, "", ""},
		{"exp zero", refresh(func(c *tokenClaims) { c.exp = at(-now.Sub(time.Unix(0, 0))) }), refreshToken, refusalExpired, "(exp)"},
		{"nbf at the leeway: valid", access(func(c *tokenClaims) { c.nbf = at(leeway) }), accessToken, "", ""},
		{"nbf a second beyond the leeway", access(func(c *tokenClaims) { c.nbf = at(leeway + time.Second) }), accessToken, refusalNotYetValid, "(nbf)"},
		{"iat at the leeway: valid", refresh(func(c *tokenClaims) { c.iat = at(leeway) }), refreshToken, "", ""},
		{"iat a second beyond the leeway", refresh(func(c *tokenClaims) { c.iat = at(leeway + time.Second) }), refreshToken, refusalNotYetValid, "(iat)"},
		{"expired and for another issuer: the issuer first", access(func(c *tokenClaims) { c.exp = at(-time.Hour); c.iss = str("x") }), accessToken, refusalWrongIssuer, "(iss)"},
		{"missing uuid", access(without(claimUUID)), accessToken, refusalWrongType, `missing claim "uuid"`},
		{"missing deviceId", refresh(without(claimDeviceID)), refreshToken, refusalWrongType, `missing claim "deviceId"`},
		{"an access token presented as a refresh token", access(nil), refreshToken, refusalWrongType, `missing claim "secretChain"`},
		{"a refresh token presented as an access token", refresh(nil), accessToken, refusalWrongType, `missing claim "email"`},
		{"access claims with a secretChain", access(func(c *tokenClaims) { c.present |= claimSecretChain }), accessToken, refusalWrongType, `claim "secretChain" does not belong`},
		{"a refresh token with roles", refresh(func(c *tokenClaims) { c.present |= claimRoles }), refreshToken, refusalWrongType, `claim "roles" does not belong`},
		{"a refresh token with every access claim", refresh(func(c *tokenClaims) { c.present |= accessOnlyClaims }), refreshToken, refusalWrongType, `claim "email" does not belong`},
		{"an expired token of the other kind: expiry first", refresh(func(c *tokenClaims) { c.exp = at(-time.Hour) }), accessToken, refusalExpired, "(exp)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkClaims(tt.claims, tt.kind, issuer, now, leeway)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || refusalOf(err) != tt.want {
				t.Fatalf("err = %v (%q), want the refusal %q", err, refusalOf(err), tt.want)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("err = %q, want it to say %q", err, tt.detail)
			}
		})
	}
}

// TestRefusalKinds: a refusal survives being wrapped as invalid-token, keeps go-jose's error
// underneath, and a refusal of one kind is no other; an error that says no kind is "invalid".
func TestRefusalKinds(t *testing.T) {
	kinds := []refusal{refusalExpired, refusalNotYetValid, refusalWrongIssuer, refusalWrongAudience, refusalUnknownKid,
		refusalNoKid, refusalBadSignature, refusalWrongAlg, refusalWrongType, refusalMalformed, refusalSessionEnded,
		refusalSessionExpired, refusalReused, refusalAnotherCustomer, refusalPasswordChanged, refusalInvalid}
	seen := map[refusal]bool{}
	for _, k := range kinds {
		if seen[k] {
			t.Errorf("two refusals log %q", k)
		}
		seen[k] = true
		err := invalidToken(refuse(k, errors.New("detail")))
		if ErrorCode(err) != EInvalidToken || refusalOf(err) != k || !errors.Is(err, k) {
			t.Errorf("%q: code %q, kind %q, errors.Is %v", k, ErrorCode(err), refusalOf(err), errors.Is(err, k))
		}
		for _, other := range kinds {
			if other != k && errors.Is(err, other) {
				t.Errorf("a %q refusal is also %q", k, other)
			}
		}
	}
	if !errors.Is(invalidToken(errRefusedExpired), jwt.ErrExpired) {
		t.Error("an expiry refusal no longer wraps jwt.ErrExpired")
	}
	if got := refusalOf(invalidToken(errors.New("password changed"))); got != refusalInvalid {
		t.Errorf("an error without a kind is %q; the text of an error must not decide its kind", got)
	}
	if got := refusalOf(invalidToken(refuse(refusalSessionExpired, nil))); got.Error() != "session expired" {
		t.Errorf("a refusal without detail says %q", got)
	}
}
