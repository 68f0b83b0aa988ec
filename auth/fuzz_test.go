package auth_test

import (
	"context"
	"strings"
	"testing"

	"shopauth/auth"
)

// FuzzVerifyToken feeds arbitrary strings to the access-token and refresh-token paths. Whatever
// arrives, the answer is success or the contract's invalid-token error: never a panic, never an
// internal error. The seeds include real tokens, so the mutator starts next to valid ones.
func FuzzVerifyToken(f *testing.F) {
	e := newEnv(f)
	pair := e.register("fuzz@shop.cz")
	signer := e.svc.SignerForTest()
	_, claims := jwtParts(f, pair.AccessToken)
	ours := rsaKey(f, signer)
	f.Add(pair.AccessToken)
	f.Add(pair.RefreshToken)
	f.Add(signRS256(ours, ourHeader(signer.ID), with(claims, "exp", 0)))
	f.Add(signRS256(ours, map[string]any{"alg": "RS256"}, claims))
	f.Add(signHS256([]byte("secret"), map[string]any{"alg": "HS256", "kid": signer.ID}, claims))
	f.Add(unsigned(map[string]any{"alg": "none"}, claims))
	f.Add(strings.Split(pair.AccessToken, ".")[0] + "..")
	f.Add("")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		ctx := context.Background()
		if _, err := e.svc.Authenticate(ctx, raw); err != nil && auth.ErrorCode(err) != auth.EInvalidToken {
			t.Fatalf("Authenticate(%q): %v", raw, err)
		}
		if _, err := e.svc.Refresh(ctx, raw); err != nil && auth.ErrorCode(err) != auth.EInvalidToken {
			t.Fatalf("Refresh(%q): %v", raw, err)
		}
	})
}
