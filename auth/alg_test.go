package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"shopauth/auth"
)

// tokenHeader decodes a compact JWS's protected header.
func tokenHeader(t *testing.T, token string) (alg, kid string) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.SplitN(token, ".", 2)[0])
	if err != nil {
		t.Fatalf("header of %q: %v", token, err)
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg, h.Kid
}

// verifyWithJWKS verifies token as another service would: the key by kid from the published JWKS,
// with only the algorithm that key advertises.
func verifyWithJWKS(t *testing.T, svc *auth.Service, token string) error {
	t.Helper()
	b, err := json.Marshal(svc.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	_, kid := tokenHeader(t, token)
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q", len(keys), kid)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(keys[0].Algorithm)})
	if err != nil {
		return err
	}
	_, err = jws.Verify(keys[0].Key)
	return err
}

// Rotating from RS256 to ES256 keeps the RS256 tokens valid; new tokens are ES256; the JWKS lists
// both keys, each with its own alg; and each kid verifies only with its own algorithm.
func TestRotationFromRS256ToES256(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old := e.register("rotate@example.com")
	oldAlg, oldKid := tokenHeader(t, old.AccessToken)
	if oldAlg != auth.RS256 {
		t.Fatalf("first key signs %s, want RS256", oldAlg)
	}

	e.advance(time.Second)
	r, err := e.svc.RotateKey(ctx, auth.ES256, auth.SignNow)
	k := r.Key
	if err != nil {
		t.Fatal(err)
	}
	if k.Algorithm != auth.ES256 || k.ID == oldKid {
		t.Fatalf("rotated key %s/%s, want a new ES256 key", k.ID, k.Algorithm)
	}

	// The RS256 access token still authenticates, here and against the JWKS.
	if p := e.mustAuthenticate(old.AccessToken); p.Customer.Email != "rotate@example.com" {
		t.Errorf("old access token names %q", p.Customer.Email)
	}
	if err := verifyWithJWKS(t, e.svc, old.AccessToken); err != nil {
		t.Errorf("old RS256 access token against the JWKS: %v", err)
	}

	// The JWKS lists both keys, each with its own alg and key type.
	b, _ := json.Marshal(e.svc.JWKS())
	var set struct {
		Keys []struct{ Kid, Alg, Kty, Crv, Use string }
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, key := range set.Keys {
		got[key.Kid] = key.Alg + "/" + key.Kty + "/" + key.Crv + "/" + key.Use
	}
	want := map[string]string{oldKid: "RS256/RSA//sig", k.ID: "ES256/EC/P-256/sig"}
	for kid, w := range want {
		if got[kid] != w {
			t.Errorf("JWKS entry %s = %q, want %q (whole set: %s)", kid, got[kid], w, b)
		}
	}

	// Refreshing the chain answers with an ES256 access token signed by the new key and an HS256
	// refresh token under the new refresh key, and they work.
	next := e.mustRefresh(old.RefreshToken)
	if alg, kid := tokenHeader(t, next.AccessToken); alg != auth.ES256 || kid != k.ID {
		t.Errorf("access token after rotation: alg %s kid %s, want ES256 %s", alg, kid, k.ID)
	}
	if alg, kid := tokenHeader(t, next.RefreshToken); alg != auth.HS256 || kid != e.svc.RefreshKeyForTest().ID {
		t.Errorf("refresh token after rotation: alg %s kid %s, want HS256 %s", alg, kid, e.svc.RefreshKeyForTest().ID)
	}
	e.mustAuthenticate(next.AccessToken)
	if err := verifyWithJWKS(t, e.svc, next.AccessToken); err != nil {
		t.Errorf("new ES256 access token against the JWKS: %v", err)
	}

	// After a restart (keys read back from the database) both generations still verify.
	e.restart()
	e.mustAuthenticate(old.AccessToken)
	e.mustAuthenticate(next.AccessToken)
	e.mustRefresh(next.RefreshToken)

	// The algorithm is the key's: an RS256 token relabelled ES256, or the reverse, is refused.
	for name, tok := range map[string]string{
		"RS256 token relabelled ES256": relabel(t, old.AccessToken, auth.ES256),
		"ES256 token relabelled RS256": relabel(t, next.AccessToken, auth.RS256),
	} {
		if _, err := e.svc.Authenticate(ctx, tok); auth.ErrorCode(err) != auth.EInvalidToken {
			t.Errorf("%s: err = %v, want invalid-token", name, err)
		}
	}
}

// relabel rewrites the header's alg, keeping kid, payload and signature.
func relabel(t *testing.T, token, alg string) string {
	t.Helper()
	_, kid := tokenHeader(t, token)
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	parts := strings.SplitN(token, ".", 2)
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1]
}
