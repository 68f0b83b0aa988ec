package auth_test

import (
	"testing"

	"shopauth/auth"
	"shopauth/internal/testkit"
)

// FuzzPasskeyCredential feeds arbitrary strings to LoginWithPasskey and RegisterPasskey, starting
// next to real credentials (the seeds are a live assertion and a live registration). Whatever
// arrives, the answer is a success or the contract's error (invalid-credentials, validation):
// never a panic or an internal error.
func FuzzPasskeyCredential(f *testing.F) {
	e := newPasskeyEnv(f, func(c *auth.Config) { c.LoginFailuresPerEmail, c.LoginFailuresPerIP = 1<<30, 1<<30 })
	e.addPasskey("Phone")
	f.Add(e.assertion())
	second := &testkit.Authenticator{Origin: shopOrigin} // the first holds an excluded credential
	reg, err := second.Create(e.registrationCredentialOptions())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(reg)
	f.Add(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, credential string) {
		if _, err := e.svc.LoginWithPasskey(ctx, credential); err != nil && auth.ErrorCode(err) != auth.EInvalidCredentials {
			t.Fatalf("LoginWithPasskey(%q): %v", credential, err)
		}
		if _, err := e.svc.RegisterPasskey(ctx, e.p, credential, nil); err != nil && auth.ErrorCode(err) != auth.EValidation {
			t.Fatalf("RegisterPasskey(%q): %v", credential, err)
		}
	})
}

// BenchmarkLoginWithPasskey is a whole discoverable login against SQLite: options (a stored
// challenge), the software authenticator's P-256 signature, and LoginWithPasskey (parse, verify,
// use the challenge, update the counter, start a session: one RS256 and one HS256 signature).
//
//	go test -run '^$' -bench LoginWithPasskey -benchmem ./auth
func BenchmarkLoginWithPasskey(b *testing.B) {
	e := newPasskeyEnv(b, func(c *auth.Config) { c.LoginFailuresPerEmail, c.LoginFailuresPerIP = 1<<30, 1<<30 })
	e.addPasskey("Phone")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.svc.LoginWithPasskey(ctx, e.assertion()); err != nil {
			b.Fatal(err)
		}
	}
}
