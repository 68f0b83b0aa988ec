package main

import "testing"

// decodeTokens cuts the two tokens out when they are plain token text, and decodes the JSON
// otherwise, so an answer it cannot cut is still read right or refused.
func TestDecodeTokens(t *testing.T) {
	for _, tc := range []struct {
		name, raw       string
		access, refresh string
		err             bool
	}{
		{"the server's answer", `{"accessToken":"a.b.c","refreshToken":"d.e-f_g"}`, "a.b.c", "d.e-f_g", false},
		{"the other order, spaces", `{ "refreshToken": "r.r", "accessToken": "a.a" }`, "a.a", "r.r", false},
		{"an escape: decoded", `{"accessToken":"a\u002eb","refreshToken":"r"}`, "a.b", "r", false},
		{"no refresh token", `{"accessToken":"a.b.c"}`, "", "", true},
		{"an empty access token", `{"accessToken":"","refreshToken":"r"}`, "", "", true},
		{"not JSON", `{"accessToken":"a`, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, r, err := decodeTokens([]byte(tc.raw))
			if (err != nil) != tc.err || a != tc.access || r != tc.refresh {
				t.Fatalf("decodeTokens = %q, %q, %v; want %q, %q, error %v", a, r, err, tc.access, tc.refresh, tc.err)
			}
		})
	}
}
