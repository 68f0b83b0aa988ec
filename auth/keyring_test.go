package auth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"shopauth/auth"
	"shopauth/db/sqlite"
)

// pendingKeys counts the stored keys still to start signing at now: signing keys and refresh keys.
func pendingKeys(t *testing.T, s interface {
	SigningKeys(context.Context) ([]auth.SigningKey, error)
}, now time.Time) (signing, refresh int) {
	t.Helper()
	keys, err := s.SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		switch {
		case !k.CreatedAt.After(now):
		case k.Algorithm == auth.HS256:
			refresh++
		default:
			signing++
		}
	}
	return signing, refresh
}

// TestRotateAtOnceLeavesOneNextKey: two `keys rotate` run at once (two processes on one database)
// leave one next signing key and one next refresh key; the one that came second says it kept the
// pending key. A third rotation later, while the key is still pending, adds nothing either; --now
// still makes a key that signs at once.
func TestRotateAtOnceLeavesOneNextKey(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	d2, err := sqlite.Open(ctx, e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	svc2, err := auth.New(ctx, d2, e.cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	svc2.Now = e.clock
	now := e.clock()

	rots := make([]auth.Rotation, 2)
	var wg sync.WaitGroup
	for i, svc := range []*auth.Service{e.svc, svc2} {
		wg.Go(func() {
			r, err := svc.RotateKey(ctx, auth.RS256, auth.SignAfterPublishing)
			if err != nil {
				t.Errorf("rotation %d: %v", i, err)
			}
			rots[i] = r
		})
	}
	wg.Wait()
	if signing, refresh := pendingKeys(t, e.db, now); signing != 1 || refresh != 1 {
		t.Fatalf("after two rotations at once: %d next signing keys, %d next refresh keys; want 1 and 1", signing, refresh)
	}
	if rots[0].Key.ID != rots[1].Key.ID || rots[0].AlreadyPending == rots[1].AlreadyPending {
		t.Fatalf("rotations = %+v / %+v, want the same key, one of them AlreadyPending", rots[0], rots[1])
	}

	e.advance(time.Minute) // the refresh key has started; the signing key is still pending
	again, err := svc2.RotateKey(ctx, auth.RS256, auth.SignAfterPublishing)
	if err != nil || !again.AlreadyPending || again.Key.ID != rots[0].Key.ID {
		t.Fatalf("rotation while %s is pending = %+v, %v; want it kept", rots[0].Key.ID, again, err)
	}
	if signing, refresh := pendingKeys(t, e.db, e.clock()); signing != 1 || refresh != 0 {
		t.Fatalf("after a third rotation: %d next signing keys, %d next refresh keys; want 1 and 0", signing, refresh)
	}

	leaked, err := e.svc.RotateKey(ctx, auth.RS256, auth.SignNow)
	if err != nil || leaked.AlreadyPending || leaked.Key.ID == rots[0].Key.ID {
		t.Fatalf("rotate --now while a key is pending = %+v, %v; want a new key", leaked, err)
	}
	if got := e.svc.SignerForTest().ID; got != leaked.Key.ID {
		t.Fatalf("after rotate --now %s signs, want %s", got, leaked.Key.ID)
	}
}

// TestRefreshKeyRotationLogsNobodyOut: after `keys rotate`, refresh tokens of the old refresh key
// keep refreshing (and grace still answers the same bytes); new ones are signed by the new key
// once it has started.
func TestRefreshKeyRotationLogsNobodyOut(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pair := e.register("rotate-refresh@shop.cz")
	old := e.svc.RefreshKeyForTest()
	first := e.mustRefresh(pair.RefreshToken)

	if _, err := e.svc.RotateKey(ctx, auth.RS256, auth.SignAfterPublishing); err != nil {
		t.Fatal(err)
	}
	if got := e.svc.RefreshKeyForTest().ID; got != old.ID {
		t.Fatalf("the new refresh key signs at once (%s); it should wait for the other servers to load it", got)
	}
	// Grace across the rotation: the same bytes, under the old kid.
	if again := e.mustRefresh(pair.RefreshToken); again.RefreshToken != first.RefreshToken {
		t.Fatal("the grace answer changed across a rotation")
	}
	e.advance(time.Minute)
	rk := e.svc.RefreshKeyForTest()
	if rk.ID == old.ID {
		t.Fatal("the new refresh key does not sign a minute after rotate")
	}
	second := e.mustRefresh(first.RefreshToken) // old refresh key's token
	if _, kid := tokenHeader(t, second.RefreshToken); kid != rk.ID {
		t.Errorf("successor kid %s, want the new refresh key %s", kid, rk.ID)
	}
	e.mustRefresh(second.RefreshToken)

	// --now: the new refresh key signs at once.
	if _, err := e.svc.RotateKey(ctx, auth.RS256, auth.SignNow); err != nil {
		t.Fatal(err)
	}
	if got := e.svc.RefreshKeyForTest().ID; got == rk.ID || got == old.ID {
		t.Fatal("rotate --now: the new refresh key does not sign at once")
	}
}

// TestRotatePublishesBeforeSigning: `keys rotate` puts the new key in the JWKS at once and signs
// with it only after PublishDelay; `--now` and an import sign at once.
func TestRotatePublishesBeforeSigning(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := e.svc.SignerForTest()
	rotatedAt := e.clock()
	rot, err := e.svc.RotateKey(ctx, auth.ES256, auth.SignAfterPublishing)
	next := rot.Key
	if err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range e.svc.JWKS().Keys {
		kids[k.KeyID] = true
	}
	if !kids[next.ID] || !kids[first.ID] {
		t.Fatalf("JWKS right after rotate = %v, want both %s and %s", kids, first.ID, next.ID)
	}
	if auth.PublishDelay != 5*time.Minute+30*time.Second {
		t.Fatalf("PublishDelay = %v", auth.PublishDelay)
	}
	for _, at := range []time.Duration{0, time.Minute, auth.PublishDelay - time.Second} {
		e.setNow(rotatedAt.Add(at))
		pair := e.register("before" + at.String() + "@shop.cz")
		if _, kid := tokenHeader(t, pair.AccessToken); kid != first.ID {
			t.Fatalf("%v after rotate the token is signed by %s, want the old key %s (the new one is not yet in every cached JWKS)", at, kid, first.ID)
		}
		var pending bool
		for _, k := range e.svc.Keys() {
			pending = pending || (k.ID == next.ID && k.Pending && !k.Signing && k.Live)
		}
		if !pending {
			t.Fatalf("%v after rotate keys list does not show the new key as next: %+v", at, e.svc.Keys())
		}
	}
	e.setNow(rotatedAt.Truncate(time.Second).Add(auth.PublishDelay))
	pair := e.register("after@shop.cz")
	if alg, kid := tokenHeader(t, pair.AccessToken); kid != next.ID || alg != auth.ES256 {
		t.Fatalf("at PublishDelay the token is %s %s, want ES256 %s", alg, kid, next.ID)
	}
	// The restarted service agrees (the start time is stored).
	e.restart()
	if e.svc.SignerForTest().ID != next.ID {
		t.Fatal("after restart another key signs")
	}

	// --now signs at once, even with another rotation pending.
	e.advance(250 * time.Millisecond)
	pending, err := e.svc.RotateKey(ctx, auth.RS256, auth.SignAfterPublishing)
	pendingKey := pending.Key
	if err != nil {
		t.Fatal(err)
	}
	rotNow, err := e.svc.RotateKey(ctx, auth.EdDSA, auth.SignNow)
	now := rotNow.Key
	if err != nil {
		t.Fatal(err)
	}
	if got := e.svc.SignerForTest().ID; got != now.ID {
		t.Fatalf("rotate --now: %s signs, want %s", got, now.ID)
	}
	// An imported key signs at once too.
	imported, err := auth.GenerateKey(auth.RS256, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	imported.Shopsys = true
	if err := e.svc.AddKey(ctx, imported); err != nil {
		t.Fatal(err)
	}
	if got := e.svc.SignerForTest().ID; got != imported.ID {
		t.Fatalf("import: %s signs, want %s", got, imported.ID)
	}
	// The scheduled key still takes over at its time.
	e.advance(auth.PublishDelay)
	if got := e.svc.SignerForTest().ID; got != pendingKey.ID {
		t.Fatalf("after the delay %s signs, want the scheduled %s", got, pendingKey.ID)
	}
}

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

// TestKeyRotation: a rotated key signs from then on, the old one keeps verifying its tokens, the
// JWKS lists every key that may have live tokens and drops one when its last token has expired.
func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := e.svc.SignerForTest()
	old := e.register("keys@shop.cz")
	if _, kid := tokenHeader(t, old.AccessToken); kid != first.ID {
		t.Fatalf("kid %s, want %s", kid, first.ID)
	}
	rotatedAt := e.clock()
	// Several rotations inside one second: each new key must take over.
	var newest auth.SigningKey
	for i := range 3 {
		rot, err := e.svc.RotateKey(ctx, auth.RS256, auth.SignNow)
		k := rot.Key
		if err != nil {
			t.Fatal(err)
		}
		if got := e.svc.SignerForTest().ID; got != k.ID {
			t.Fatalf("rotation %d: key %s signs, want the new key %s", i, got, k.ID)
		}
		newest = k
	}
	e.mustAuthenticate(old.AccessToken)
	next := e.mustRefresh(old.RefreshToken) // signed by the old refresh key, rotated by the new one
	if _, kid := tokenHeader(t, next.AccessToken); kid != newest.ID {
		t.Fatal("the access token after rotation is not signed by the new key")
	}
	_, oldKid := tokenHeader(t, old.RefreshToken)
	if _, kid := tokenHeader(t, next.RefreshToken); kid != e.svc.RefreshKeyForTest().ID || kid == oldKid {
		t.Fatal("the refresh token after rotation is not signed by the new refresh key")
	}
	e.mustAuthenticate(next.AccessToken)

	kids := jwksKids(t, e.svc)
	if len(kids) != 4 || !kids[first.ID] || !kids[newest.ID] {
		t.Fatalf("JWKS kids = %v, want all four keys", kids)
	}
	// Once every token the old keys signed has expired, they leave the JWKS. (Keys made in one
	// second are spaced a millisecond apart; a retired key stays a minute longer for servers that
	// have not reloaded the ring yet.)
	e.setNow(rotatedAt.Add(e.cfg.RefreshTTL + time.Minute - time.Second))
	if kids := jwksKids(t, e.svc); !kids[first.ID] {
		t.Fatalf("JWKS dropped the first key inside the reload slack: %v", kids)
	}
	e.setNow(rotatedAt.Add(e.cfg.RefreshTTL + time.Minute + 3*time.Second))
	if kids := jwksKids(t, e.svc); len(kids) != 1 || !kids[newest.ID] {
		t.Fatalf("JWKS kids after expiry = %v, want only %s", kids, newest.ID)
	}
}

// jwksKids checks each JWKS entry's shape and returns the set of kids.
func jwksKids(t *testing.T, svc *auth.Service) map[string]bool {
	t.Helper()
	b, err := json.Marshal(svc.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range doc.Keys {
		if k["kty"] != "RSA" || k["use"] != "sig" || k["alg"] != "RS256" || k["kid"] == "" || k["n"] == nil || k["e"] == nil {
			t.Errorf("JWKS entry %v lacks kty/use/alg/kid/n/e", k)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS entry carries the private member %q", private)
			}
		}
		kids[k["kid"].(string)] = true
	}
	return kids
}

// shopsysPEM is a key as `openssl genrsa` writes it for Shopsys (PKCS#1 here; PKCS#8 also works).
func shopsysPEM(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// TestShopsysKeyImport: after importing a Shopsys private.key our tokens verify with its public key,
// Shopsys-issued access tokens (no kid) verify against it alone until exp, and a password change
// refuses those issued up to that second.
func TestShopsysKeyImport(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.setNow(e.clock().Truncate(time.Second))
	const email = "shopsys@shop.cz"
	e.register(email)
	cust := e.customer(email)
	priv, pemBytes := shopsysPEM(t)
	k, err := auth.ParsePrivateKeyPEM(pemBytes, e.clock(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddKey(ctx, k); err != nil {
		t.Fatal(err)
	}

	// Our new tokens are signed by the imported key: a service holding only public.key accepts them.
	ours := e.login(email)
	parts := strings.Split(ours.AccessToken, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("our token does not verify with the Shopsys public key: %v", err)
	}

	now := e.clock()
	shopsysHeader := map[string]any{"typ": "JWT", "alg": "RS256"}
	claims := map[string]any{
		"iss": e.cfg.Issuer, "aud": e.cfg.Issuer, "iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(4 * time.Minute).Unix(), "deviceId": "3f2a7a4e-52b4-4c3e-9f0e-0e8f6a1b2c3d", "uuid": cust.UUID,
		"email": email, "fullName": cust.FullName(), "roles": []string{auth.RoleLoggedCustomer},
	}
	legacy := signRS256(priv, shopsysHeader, claims)
	p := e.mustAuthenticate(legacy)
	if !p.Legacy || p.Customer.ID != cust.ID {
		t.Fatalf("principal = %+v, want the customer, legacy", p)
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	refreshClaims := map[string]any{"iss": e.cfg.Issuer, "aud": e.cfg.Issuer, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"uuid": cust.UUID, "secretChain": strings.Repeat("a", 40), "deviceId": "3f2a7a4e-52b4-4c3e-9f0e-0e8f6a1b2c3d"}
	cases := []forgeCase{
		{"no kid, signed by another key", signRS256(other, shopsysHeader, claims), wantSignature},
		{"no kid, expired", signRS256(priv, shopsysHeader, with(claims, "exp", now.Unix())), wantExpired},
		{"no kid, unknown customer", signRS256(priv, shopsysHeader, with(claims, "uuid", "00000000-0000-4000-8000-000000000000")), "not found"},
		{"no kid, HS256 with the Shopsys public key", signHS256(x509.MarshalPKCS1PublicKey(&priv.PublicKey), map[string]any{"alg": "HS256"}, claims), wantParse},
	}
	runForged(t, e, false, cases)
	runForged(t, e, true, []forgeCase{
		{"Shopsys refresh token (no kid)", signRS256(priv, shopsysHeader, refreshClaims), wantNoKid},
	})

	// After another rotation the imported key no longer signs, but Shopsys tokens still verify.
	if _, err := e.svc.RotateKey(ctx, auth.RS256, auth.SignNow); err != nil {
		t.Fatal(err)
	}
	e.mustAuthenticate(legacy)

	// A password change in the second a Shopsys token was issued refuses it.
	sameSecond := signRS256(priv, shopsysHeader, with(claims, "iat", now.Unix()))
	e.mustAuthenticate(sameSecond)
	e.setNow(now.Add(700 * time.Millisecond))
	if _, err := e.svc.ChangePassword(ctx, e.mustAuthenticate(ours.AccessToken), email, testPassword, "another passphrase"); err != nil {
		t.Fatal(err)
	}
	runForged(t, e, false, []forgeCase{
		{"Shopsys token from before the change", legacy, "password changed"},
		{"Shopsys token from the change's second", sameSecond, "password changed"},
		{"our token from before the change", ours.AccessToken, "not found"},
	})
}
