package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"shopauth/auth"
)

// forgeCase is one hostile token and the check that must refuse it (a substring of the logged
// reason), or "" when the token must be accepted.
type forgeCase struct {
	name  string
	token string
	want  string
}

const (
	wantParse     = "parse: "
	wantSignature = "signature: "
	wantUnknown   = "unknown kid"
	wantNoKid     = "token has no kid"
	wantExpired   = "token is expired (exp)"
	wantNotYet    = "token not valid yet (nbf)"
	wantFutureIat = "token issued in the future (iat)"
	wantIssuer    = "invalid issuer claim (iss)"
	wantAudience  = "invalid audience claim (aud)"
	wantOversized = "empty or oversized token"
)

func signRS512(key *rsa.PrivateKey, header, claims any) string {
	input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	d := sha512.Sum512([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA512, d[:])
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

func signPS256(key *rsa.PrivateKey, header, claims any) string {
	input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, d[:], nil)
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

func signES256(key *ecdsa.PrivateKey, header, claims any) string {
	input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, d[:])
	if err != nil {
		panic(err)
	}
	return input + "." + b64(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
}

// tamper replaces one part (0 header, 1 payload, 2 signature) of a compact JWS.
func tamper(tok string, part int, f func(string) string) string {
	p := strings.Split(tok, ".")
	p[part] = f(p[part])
	return strings.Join(p, ".")
}

// flipMiddle changes a character in the middle of a base64url string, so the decoded bytes differ
// (the last character may carry only padding bits, which a lenient decoder ignores).
func flipMiddle(s string) string {
	i := len(s) / 2
	repl := byte('A')
	if s[i] == 'A' {
		repl = 'B'
	}
	return s[:i] + string(repl) + s[i+1:]
}

// runForged checks each case against Authenticate (access) or Refresh (refresh).
func runForged(t *testing.T, e *testEnv, refresh bool, cases []forgeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if refresh {
				_, err = e.svc.Refresh(context.Background(), tc.token)
			} else {
				_, err = e.svc.Authenticate(context.Background(), tc.token)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantInvalidToken(t, err)
			if got := reason(err); !strings.Contains(got, tc.want) {
				t.Fatalf("refused for %q; want a reason containing %q", got, tc.want)
			}
		})
	}
}

// TestAccessTokenAttacks forges access tokens and asserts which check refuses each one.
func TestAccessTokenAttacks(t *testing.T) {
	e := newEnv(t)
	e.setNow(e.clock().Truncate(time.Second)) // boundary cases want whole seconds
	pair := e.register("attack@shop.cz")
	now := e.clock()
	signer := e.svc.SignerForTest()
	ours := rsaKey(t, signer)
	kid := signer.ID
	_, base := jwtParts(t, pair.AccessToken)
	hdr := ourHeader(kid)

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkix, _ := x509.MarshalPKIXPublicKey(&ours.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	pkcs1 := x509.MarshalPKCS1PublicKey(&ours.PublicKey)

	// A JWK/JKU/X5U header must never be fetched or trusted: this server counts any fetch.
	var fetched atomic.Int32
	lure := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer lure.Close()
	otherJWK := map[string]any{"kty": "RSA", "kid": kid, "n": b64(other.PublicKey.N.Bytes()), "e": "AQAB"}

	ts := func(d time.Duration) int64 { return unix(now.Add(d)) }
	good := signRS256(ours, hdr, base)

	cases := []forgeCase{
		{"control: the real token", pair.AccessToken, ""},
		{"control: re-signed claims", good, ""},

		{"alg none", unsigned(map[string]any{"alg": "none", "kid": kid, "typ": "JWT"}, base), wantParse},
		{"alg None", unsigned(map[string]any{"alg": "None", "kid": kid}, base), wantParse},
		{"alg NONE", unsigned(map[string]any{"alg": "NONE", "kid": kid}, base), wantParse},
		{"alg none without kid", unsigned(map[string]any{"alg": "none"}, base), wantParse},
		{"RS256 with the signature stripped", tamper(good, 2, func(string) string { return "" }), wantSignature},

		{"HS256 keyed with the public key (PKIX DER)", signHS256(pkix, map[string]any{"alg": "HS256", "kid": kid}, base), wantParse},
		{"HS256 keyed with the public key (PEM)", signHS256(pubPEM, map[string]any{"alg": "HS256", "kid": kid}, base), wantParse},
		{"HS256 keyed with the public key (PKCS#1)", signHS256(pkcs1, map[string]any{"alg": "HS256", "kid": kid}, base), wantParse},
		{"HS256 without kid", signHS256(pubPEM, map[string]any{"alg": "HS256"}, base), wantParse},

		{"RS512 validly signed by our key", signRS512(ours, map[string]any{"alg": "RS512", "kid": kid}, base), wantParse},
		{"PS256 validly signed by our key", signPS256(ours, map[string]any{"alg": "PS256", "kid": kid}, base), wantParse},
		{"ES256 header with our kid", signES256(ec, map[string]any{"alg": "ES256", "kid": kid}, base), `alg "ES256" does not match the key's "RS256"`},
		{"EdDSA header with our kid", tamper(good, 0, func(string) string { return b64(mustJSON(map[string]any{"alg": "EdDSA", "kid": kid})) }), `alg "EdDSA" does not match`},

		{"another RSA key signing with our kid", signRS256(other, hdr, base), wantSignature},
		{"tampered payload: another uuid", tamper(good, 1, func(string) string {
			return b64(mustJSON(with(base, "uuid", "00000000-0000-4000-8000-000000000000")))
		}), wantSignature},
		{"tampered payload: later exp", tamper(good, 1, func(string) string { return b64(mustJSON(with(base, "exp", ts(99*time.Hour)))) }), wantSignature},
		{"tampered payload: one character", tamper(good, 1, flipMiddle), wantSignature},
		{"tampered header: typ", tamper(good, 0, func(string) string {
			return b64(mustJSON(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt"}))
		}), wantSignature},
		{"tampered header: key order", tamper(good, 0, func(string) string {
			return b64([]byte(`{"kid":"` + kid + `","alg":"RS256","typ":"JWT"}`))
		}), wantSignature},
		{"tampered signature: one character", tamper(good, 2, flipMiddle), wantSignature},
		{"truncated signature", tamper(good, 2, func(s string) string { return s[:len(s)/2] }), wantSignature},
		{"signature of another of our tokens", tamper(good, 2, func(string) string { return strings.Split(pair.RefreshToken, ".")[2] }), wantSignature},

		{"kid pointing nowhere", signRS256(ours, ourHeader("no-such-key"), base), wantUnknown},
		{"kid as a path", signRS256(ours, ourHeader("../../../../dev/null"), base), wantUnknown},
		{"kid as SQL", signRS256(ours, ourHeader("' OR '1'='1"), base), wantUnknown},
		{"kid as SQL with comment", signRS256(ours, ourHeader(kid+"'; DROP TABLE signing_keys; --"), base), wantUnknown},
		{"kid with NUL", signRS256(ours, ourHeader(kid+"\x00"), base), wantUnknown},
		{"kid of 4 KB", signRS256(ours, ourHeader(strings.Repeat("k", 4<<10)), base), wantUnknown},
		{"kid of 10 KB", signRS256(ours, ourHeader(strings.Repeat("k", 10<<10)), base), wantOversized},
		{"kid a number", signRS256(ours, map[string]any{"alg": "RS256", "kid": 1}, base), wantParse},
		{"kid an object", signRS256(ours, map[string]any{"alg": "RS256", "kid": map[string]any{"$ne": ""}}, base), wantParse},
		{"kid empty, no Shopsys key", signRS256(ours, ourHeader(""), base), wantNoKid},
		{"no kid, no Shopsys key", signRS256(ours, map[string]any{"alg": "RS256", "typ": "JWT"}, base), wantNoKid},

		{"jku to a lure, signed by another key", signRS256(other, with(hdr, "jku", lure.URL+"/jwks.json"), base), wantSignature},
		{"x5u to a lure, signed by another key", signRS256(other, with(hdr, "x5u", lure.URL+"/cert.pem"), base), wantSignature},
		{"jwk embedding another key, with our kid", signRS256(other, with(hdr, "jwk", otherJWK), base), wantSignature},
		{"jwk embedding another key, no kid", signRS256(other, map[string]any{"alg": "RS256", "jwk": otherJWK}, base), wantNoKid},
		{"jku on a token our key signed is ignored", signRS256(ours, with(hdr, "jku", lure.URL+"/jwks.json"), base), ""},
		{"crit header", signRS256(ours, with(hdr, "crit", []string{"exp"}, "exp", 1), base), "crit"},

		{"exp equal to now", signRS256(ours, hdr, with(base, "exp", ts(0))), wantExpired},
		{"exp one second ahead", signRS256(ours, hdr, with(base, "exp", ts(time.Second))), ""},
		{"exp one second ago", signRS256(ours, hdr, with(base, "exp", ts(-time.Second))), wantExpired},
		{"exp zero", signRS256(ours, hdr, with(base, "exp", 0)), wantExpired},
		{"exp null", signRS256(ours, hdr, with(base, "exp", nil)), "exp and iat are required"},
		{"exp a string", signRS256(ours, hdr, with(base, "exp", "tomorrow")), "claims: "},
		{"nbf one second ahead", signRS256(ours, hdr, with(base, "nbf", ts(time.Second))), wantNotYet},
		{"nbf equal to now", signRS256(ours, hdr, with(base, "nbf", ts(0))), ""},
		{"iat one second ahead", signRS256(ours, hdr, with(base, "iat", ts(time.Second))), wantFutureIat},
		{"iat equal to now", signRS256(ours, hdr, with(base, "iat", ts(0))), ""},

		{"wrong iss", signRS256(ours, hdr, with(base, "iss", "https://evil.example")), wantIssuer},
		{"iss with a trailing slash", signRS256(ours, hdr, with(base, "iss", e.cfg.Issuer+"/")), wantIssuer},
		{"wrong aud", signRS256(ours, hdr, with(base, "aud", "https://evil.example")), wantAudience},
		{"aud a list with us", signRS256(ours, hdr, with(base, "aud", []string{e.cfg.Issuer})), "aud is not a string"},
		{"aud a list without us", signRS256(ours, hdr, with(base, "aud", []string{"https://evil.example"})), "aud is not a string"},
		{"aud a number", signRS256(ours, hdr, with(base, "aud", 1)), "claims: "},

		{"roles of an admin", signRS256(ours, hdr, with(base, "roles", []string{"ROLE_ADMIN"})), "unexpected roles"},
		{"roles with an extra role", signRS256(ours, hdr, with(base, "roles", []string{auth.RoleLoggedCustomer, "ROLE_ADMIN"})), "unexpected roles"},
		{"uuid as SQL", signRS256(ours, hdr, with(base, "uuid", "' OR 1=1 --")), "not a UUID"},
		{"deviceId upper-case", signRS256(ours, hdr, with(base, "deviceId", strings.ToUpper(base["deviceId"].(string)))), "not a UUID"},
		{"uuid a number", signRS256(ours, hdr, with(base, "uuid", 7)), "claims: "},
		{"uuid of another customer", signRS256(ours, hdr, with(base, "uuid", "00000000-0000-4000-8000-000000000000")), "another customer"},
		{"deviceId of no session", signRS256(ours, hdr, with(base, "deviceId", "00000000-0000-4000-8000-000000000000")), "not found"},
		{"refresh claim smuggled in", signRS256(ours, hdr, with(base, "secretChain", strings.Repeat("a", 40))), `claim "secretChain" does not belong`},

		{"refresh token as bearer", pair.RefreshToken, wantParse},
		{"garbage", "garbage", wantParse},
		{"empty", "", wantOversized},
		{"three dots", "..", wantParse},
		{"two parts", strings.Join(strings.Split(good, ".")[:2], "."), wantParse},
		{"five parts (JWE shape)", good + ".x.y", wantParse},
		{"JSON serialization", `{"payload":"` + strings.Split(good, ".")[1] + `","signatures":[]}`, wantParse},
		{"padded base64", tamper(good, 1, func(s string) string { return s + "==" }), wantParse},
		{"whitespace around", " " + good + " ", wantParse},
		{"non-ASCII", "ěščřžýáíé.ďťň.ů", wantParse},
		{"non-UTF-8", "\xff\xfe\xfd.\xff.\xff", wantParse},
		{"NUL bytes", "\x00.\x00.\x00", wantParse},
		{"1 MB", strings.Repeat("A", 1<<20), wantOversized},
		{"1 MB of dots", strings.Repeat(".", 1<<20), wantOversized},
		{"just over the size limit", good + "." + strings.Repeat("A", 8<<10), wantOversized},
	}
	// Each required claim, missing in turn.
	for _, name := range []string{"iss", "aud", "iat", "exp", "deviceId", "uuid", "email", "fullName", "roles"} {
		cases = append(cases, forgeCase{"missing " + name, signRS256(ours, hdr, without(base, name)), "missing claim"})
	}
	runForged(t, e, false, cases)
	if n := fetched.Load(); n != 0 {
		t.Errorf("the lure server was fetched %d times; headers must never be fetched", n)
	}
}

// TestLeewayBoundaries checks exp, nbf and iat on both sides of a 30 s clock leeway.
func TestLeewayBoundaries(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.ClockLeeway = 30 * time.Second })
	e.setNow(e.clock().Truncate(time.Second))
	pair := e.register("leeway@shop.cz")
	now := e.clock()
	signer := e.svc.SignerForTest()
	ours, hdr := rsaKey(t, signer), ourHeader(signer.ID)
	_, base := jwtParts(t, pair.AccessToken)
	ts := func(d time.Duration) int64 { return unix(now.Add(d)) }
	runForged(t, e, false, []forgeCase{
		{"exp 29 s ago", signRS256(ours, hdr, with(base, "exp", ts(-29*time.Second))), ""},
		{"exp 30 s ago", signRS256(ours, hdr, with(base, "exp", ts(-30*time.Second))), wantExpired},
		{"nbf 30 s ahead", signRS256(ours, hdr, with(base, "nbf", ts(30*time.Second))), ""},
		{"nbf 31 s ahead", signRS256(ours, hdr, with(base, "nbf", ts(31*time.Second))), wantNotYet},
		{"iat 30 s ahead", signRS256(ours, hdr, with(base, "iat", ts(30*time.Second))), ""},
		{"iat 31 s ahead", signRS256(ours, hdr, with(base, "iat", ts(31*time.Second))), wantFutureIat},
	})
}

// TestRefreshTokenAttacks forges refresh tokens. None may rotate or end the session, except the
// last case, a well-signed token with a secret the chain never had, which is treated as reuse.
func TestRefreshTokenAttacks(t *testing.T) {
	e := newEnv(t)
	e.setNow(e.clock().Truncate(time.Second))
	pair := e.register("refresh-attack@shop.cz")
	now := e.clock()
	signer := e.svc.SignerForTest()
	ours, hdr := rsaKey(t, signer), ourHeader(signer.ID)
	_, base := jwtParts(t, pair.RefreshToken)
	_, access := jwtParts(t, pair.AccessToken)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkix, _ := x509.MarshalPKIXPublicKey(&ours.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	good := signRS256(ours, hdr, base)

	cases := []forgeCase{
		{"alg none", unsigned(map[string]any{"alg": "none", "kid": signer.ID}, base), wantParse},
		{"HS256 keyed with the public key", signHS256(pubPEM, map[string]any{"alg": "HS256", "kid": signer.ID}, base), wantParse},
		{"RS512 validly signed by our key", signRS512(ours, map[string]any{"alg": "RS512", "kid": signer.ID}, base), wantParse},
		{"another RSA key with our kid", signRS256(other, hdr, base), wantSignature},
		{"tampered secretChain", tamper(good, 1, func(string) string {
			return b64(mustJSON(with(base, "secretChain", strings.Repeat("0", 40))))
		}), wantSignature},
		{"tampered header", tamper(good, 0, func(string) string { return b64(mustJSON(with(hdr, "typ", "JWS"))) }), wantSignature},
		{"no kid", signRS256(ours, map[string]any{"alg": "RS256", "typ": "JWT"}, base), wantNoKid},
		{"kid pointing nowhere", signRS256(ours, ourHeader("gone"), base), wantUnknown},
		{"access token as refresh token", pair.AccessToken, `missing claim "secretChain"`},
		{"access claims re-signed with a secretChain", signRS256(ours, hdr, with(access, "secretChain", base["secretChain"])), `claim "email" does not belong`},
		{"secretChain upper-case", signRS256(ours, hdr, with(base, "secretChain", strings.ToUpper(base["secretChain"].(string)))), "malformed"},
		{"secretChain too short", signRS256(ours, hdr, with(base, "secretChain", "abc")), "malformed"},
		{"secretChain as SQL", signRS256(ours, hdr, with(base, "secretChain", "' OR ''='")), "malformed"},
		{"deviceId not a UUID", signRS256(ours, hdr, with(base, "deviceId", "../x")), "malformed"},
		{"exp equal to now", signRS256(ours, hdr, with(base, "exp", unix(now))), wantExpired},
		{"wrong aud", signRS256(ours, hdr, with(base, "aud", "https://evil.example")), wantAudience},
		{"wrong iss", signRS256(ours, hdr, with(base, "iss", "https://evil.example")), wantIssuer},
		{"another customer's uuid", signRS256(ours, hdr, with(base, "uuid", "00000000-0000-4000-8000-000000000000")), "another customer"},
		{"deviceId of no session", signRS256(ours, hdr, with(base, "deviceId", "00000000-0000-4000-8000-000000000000")), "session ended"},
		{"garbage", "x.y.z", wantParse},
		{"1 MB", strings.Repeat("x", 1<<20), wantOversized},
		{"non-ASCII", "žluťoučký.kůň.úpěl", wantParse},
	}
	for _, name := range []string{"iss", "aud", "iat", "exp", "uuid", "secretChain", "deviceId"} {
		cases = append(cases, forgeCase{"missing " + name, signRS256(ours, hdr, without(base, name)), "missing claim"})
	}
	runForged(t, e, true, cases)

	// None of that touched the chain: the real token still rotates.
	next := e.mustRefresh(pair.RefreshToken)

	// A well-signed token whose secret the chain never had is reuse: the session ends.
	runForged(t, e, true, []forgeCase{
		{"secret the chain never had", signRS256(ours, hdr, with(base, "secretChain", strings.Repeat("ab", 20))), "refresh token reused"},
		{"the real successor afterwards", next.RefreshToken, "session ended"},
	})
}

// TestDeletedCustomer: a deleted customer's tokens are refused (the sessions go with the row).
func TestDeletedCustomer(t *testing.T) {
	e := newEnv(t)
	pair := e.register("gone@shop.cz")
	e.mustAuthenticate(pair.AccessToken)
	e.exec(`DELETE FROM customers WHERE email = ?`, "gone@shop.cz")

	_, err := e.svc.Authenticate(context.Background(), pair.AccessToken)
	wantInvalidToken(t, err)
	_, err = e.svc.Refresh(context.Background(), pair.RefreshToken)
	wantInvalidToken(t, err)
	if got := reason(err); got != "session ended" {
		t.Errorf("refresh refused for %q, want %q", got, "session ended")
	}
}

func TestSignaturePaddingBitsAreNotMalleable(t *testing.T) {
	env := newEnv(t)
	pair := env.register("malleable@shop.cz")
	parts := strings.Split(pair.AccessToken, ".")
	sig := parts[2]
	// A 256-byte RSA signature is 342 base64url characters; the last one carries 4 padding bits.
	// Flipping one of them decodes to the same signature: the token must still be refused.
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[len(sig)-1])
	variant := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last^1]
	forged := parts[0] + "." + parts[1] + "." + sig[:len(sig)-1] + string(variant)
	if _, err := env.svc.Authenticate(context.Background(), pair.AccessToken); err != nil {
		t.Fatalf("the original token fails: %v", err)
	}
	if _, err := env.svc.Authenticate(context.Background(), forged); auth.ErrorCode(err) != auth.EInvalidToken {
		t.Fatalf("a second spelling of the signature: err = %v, want invalid-token", err)
	}
}
