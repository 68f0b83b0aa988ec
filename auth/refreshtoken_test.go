package auth_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
)

func hsHeader(kid string) map[string]any {
	return map[string]any{"alg": "HS256", "kid": kid, "typ": "JWT"}
}

// TestRefreshTokenIsHS256 checks the refresh token's shape and that its key is never published.
func TestRefreshTokenIsHS256(t *testing.T) {
	e := newEnv(t)
	pair := e.register("hs256@shop.cz")
	rk := e.svc.RefreshKeyForTest()
	h, claims := jwtParts(t, pair.RefreshToken)
	if h["alg"] != "HS256" || h["kid"] != rk.ID || h["typ"] != "JWT" || len(h) != 3 {
		t.Fatalf("refresh header = %v, want HS256 under the refresh kid %s", h, rk.ID)
	}
	if want := b64(mustJSON(hsHeader(rk.ID))); strings.Split(pair.RefreshToken, ".")[0] != want {
		t.Errorf("header bytes %q, want %q", strings.Split(pair.RefreshToken, ".")[0], want)
	}
	if len(rk.Secret) != 32 || rk.Algorithm != auth.HS256 {
		t.Errorf("refresh key: %d bytes, %s; want 32 bytes, HS256", len(rk.Secret), rk.Algorithm)
	}
	if _, ok := claims["secretChain"]; !ok {
		t.Errorf("refresh claims %v", claims)
	}
	doc, _ := json.Marshal(e.svc.JWKS())
	if strings.Contains(string(doc), rk.ID) || strings.Contains(string(doc), "HS256") || strings.Contains(string(doc), `"oct"`) {
		t.Errorf("the JWKS shows the refresh key: %s", doc)
	}
	for _, k := range e.svc.JWKS().Keys {
		if _, kid := tokenHeader(t, pair.RefreshToken); k.KeyID == kid {
			t.Error("the JWKS has the refresh token's kid")
		}
	}
	var listed bool
	for _, k := range e.svc.Keys() {
		listed = listed || (k.ID == rk.ID && k.Refresh && k.Signing && k.Algorithm == auth.HS256)
	}
	if !listed {
		t.Errorf("keys list does not show the refresh key: %+v", e.svc.Keys())
	}

	// The key survives a restart (it is stored), and the token keeps refreshing.
	e.restart()
	if got := e.svc.RefreshKeyForTest(); got.ID != rk.ID || string(got.Secret) != string(rk.Secret) {
		t.Fatalf("after restart the refresh key is %s, want %s", got.ID, rk.ID)
	}
	e.mustRefresh(pair.RefreshToken)
}

// TestRefreshTokenAttacksHS256 forges tokens around the refresh key: HS256 is accepted only as a
// refresh token under a refresh kid, with that exact header, and nowhere else.
func TestRefreshTokenAttacksHS256(t *testing.T) {
	e := newEnv(t)
	e.setNow(e.clock().Truncate(time.Second))
	pair := e.register("hs-attack@shop.cz")
	now := e.clock()
	rk := e.svc.RefreshKeyForTest()
	signer := e.svc.SignerForTest()
	ours := rsaKey(t, signer)
	_, base := jwtParts(t, pair.RefreshToken)
	_, access := jwtParts(t, pair.AccessToken)
	hdr := hsHeader(rk.ID)
	good := signHS256(rk.Secret, hdr, base) // the same claims, re-signed (in another claim order)
	wrongKey := make([]byte, 32)
	rand.Read(wrongKey)

	refreshCases := []forgeCase{
		{"alg none under the refresh kid", unsigned(map[string]any{"alg": "none", "kid": rk.ID, "typ": "JWT"}, base), wantParse},
		{"RS256 header with the refresh kid, signed by our RSA key", signRS256(ours, ourHeader(rk.ID), base), `alg "RS256" under a refresh key's kid`},
		{"HS256 under the signing key's kid, keyed with the refresh key", signHS256(rk.Secret, hsHeader(signer.ID), base), wantParse},
		{"HS256 without kid", signHS256(rk.Secret, map[string]any{"alg": "HS256", "typ": "JWT"}, base), wantParse},
		{"HS256 with another header spelling", signHS256(rk.Secret, map[string]any{"alg": "HS256", "kid": rk.ID}, base), wantParse},
		{"HS512 under the refresh kid", signHS256(rk.Secret, map[string]any{"alg": "HS512", "kid": rk.ID, "typ": "JWT"}, base), wantParse},
		{"wrong key", signHS256(wrongKey, hdr, base), "signature: HMAC does not match"},
		{"tampered secretChain", tamper(good, 1, func(string) string {
			return b64(mustJSON(with(base, "secretChain", strings.Repeat("0", 40))))
		}), "signature: HMAC does not match"},
		{"tampered payload: one character", tamper(good, 1, flipMiddle), "signature: HMAC does not match"},
		{"tampered signature", tamper(good, 2, flipMiddle), "signature: HMAC does not match"},
		{"signature stripped", tamper(good, 2, func(string) string { return "" }), "parse: "},
		{"truncated signature", tamper(good, 2, func(s string) string { return s[:len(s)-2] }), "parse: "},
		{"padded signature", tamper(good, 2, func(s string) string { return s + "=" }), "parse: "},
		{"two parts", strings.Join(strings.Split(good, ".")[:2], "."), "parse: "},
		{"header only", strings.Split(good, ".")[0] + ".", "parse: "},
		{"four parts", strings.Replace(good, ".", "..", 1), "parse: "},
		{"expired at the boundary second", signHS256(rk.Secret, hdr, with(base, "exp", unix(now))), wantExpired},
		{"expired a second ago", signHS256(rk.Secret, hdr, with(base, "exp", unix(now)-1)), wantExpired},
		{"iat in the future", signHS256(rk.Secret, hdr, with(base, "iat", unix(now)+1)), wantFutureIat},
		{"nbf in the future", signHS256(rk.Secret, hdr, with(base, "nbf", unix(now)+1)), wantNotYet},
		{"wrong iss", signHS256(rk.Secret, hdr, with(base, "iss", "https://evil.example")), wantIssuer},
		{"wrong aud", signHS256(rk.Secret, hdr, with(base, "aud", "https://evil.example")), wantAudience},
		{"access claims under the refresh key", signHS256(rk.Secret, hdr, with(access, "secretChain", base["secretChain"])), `claim "email" does not belong`},
		{"access token as refresh token", pair.AccessToken, `missing claim "secretChain"`},
		{"secretChain malformed", signHS256(rk.Secret, hdr, with(base, "secretChain", "' OR ''='")), "malformed"},
		{"payload not JSON", signHS256Raw(rk.Secret, hdr, []byte("not json")), "claims: "},
		{"another customer's uuid", signHS256(rk.Secret, hdr, with(base, "uuid", "00000000-0000-4000-8000-000000000000")), "another customer"},
		{"deviceId of no session", signHS256(rk.Secret, hdr, with(base, "deviceId", "00000000-0000-4000-8000-000000000000")), "session ended"},
	}
	// The claim set is checked as verify checks it (checkClaims): a token lacking one is the other kind.
	for _, name := range []string{"iss", "aud", "iat", "exp", "uuid", "secretChain", "deviceId"} {
		refreshCases = append(refreshCases, forgeCase{"missing " + name, signHS256(rk.Secret, hdr, without(base, name)), `missing claim "` + name + `"`})
	}
	runForged(t, e, true, refreshCases)

	// Never as a bearer: HS256 is not an access-token algorithm, whatever it carries.
	runForged(t, e, false, []forgeCase{
		{"the refresh token in Authorization", pair.RefreshToken, wantParse},
		{"an HS256 access token under the refresh kid", signHS256(rk.Secret, hdr, with(access, "nbf", access["iat"])), wantParse},
		{"an HS256 access token under the signing kid, keyed with the refresh key", signHS256(rk.Secret, hsHeader(signer.ID), access), wantParse},
		{"RS256 access token under the refresh kid", signRS256(ours, ourHeader(rk.ID), access), `alg "RS256" under a refresh key's kid`},
		{"alg none access token under the refresh kid", unsigned(hsHeader(rk.ID), access), wantParse},
	})

	// None of that touched the chain: the real token rotates; presented again after the grace
	// interval it is reuse, which ends the session.
	next := e.mustRefresh(pair.RefreshToken)
	e.advance(e.cfg.ReuseInterval)
	runForged(t, e, true, []forgeCase{
		{"replayed after the grace interval", pair.RefreshToken, "refresh token reused"},
		{"the real successor afterwards", next.RefreshToken, "session ended"},
	})
}

func signHS256Raw(secret []byte, header any, payload []byte) string {
	input := b64(mustJSON(header)) + "." + b64(payload)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}
