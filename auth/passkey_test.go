package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/internal/testkit"
)

const shopOrigin = "https://www.shop.cz"

func withPasskeys(c *auth.Config) {
	c.WebAuthn = auth.RelyingParty{ID: "shop.cz", Origins: []string{shopOrigin, "https://auth.shop.cz"}}
}

// passkeyEnv is a service with passkeys on, a customer who is logged in, and the customer's
// software authenticator.
type passkeyEnv struct {
	*testEnv
	email string
	p     *auth.Principal
	authn *testkit.Authenticator
}

func newPasskeyEnv(t testing.TB, configure ...func(*auth.Config)) *passkeyEnv {
	t.Helper()
	e := &passkeyEnv{testEnv: newEnv(t, append([]func(*auth.Config){withPasskeys}, configure...)...),
		email: "passkey@shop.cz", authn: &testkit.Authenticator{Origin: shopOrigin}}
	e.p = e.mustAuthenticate(e.register(e.email).AccessToken)
	return e
}

var ctx = auth.NewContextWithClient(context.Background(), auth.Client{IP: "192.0.2.7"})

// registrationCredential asks for creation options and lets the authenticator answer them.
func (e *passkeyEnv) registrationCredential() string {
	e.t.Helper()
	opts, err := e.svc.PasskeyRegistrationOptions(ctx, e.p)
	if err != nil {
		e.t.Fatalf("PasskeyRegistrationOptions: %v", err)
	}
	cred, err := e.authn.Create(opts)
	if err != nil {
		e.t.Fatalf("authenticator create: %v", err)
	}
	return cred
}

func (e *passkeyEnv) addPasskey(name string) auth.PasskeyInfo {
	e.t.Helper()
	info, err := e.svc.RegisterPasskey(ctx, e.p, e.registrationCredential(), &name)
	if err != nil {
		e.t.Fatalf("RegisterPasskey: %v", err)
	}
	return info
}

// assertion asks for login options and lets the authenticator answer them.
func (e *passkeyEnv) assertion() string {
	e.t.Helper()
	opts, err := e.svc.PasskeyLoginOptions(ctx)
	if err != nil {
		e.t.Fatalf("PasskeyLoginOptions: %v", err)
	}
	cred, err := e.authn.Get(opts)
	if err != nil {
		e.t.Fatalf("authenticator get: %v", err)
	}
	return cred
}

func (e *passkeyEnv) audit() []auth.AuditEvent {
	e.t.Helper()
	list, err := e.db.AuditLog(context.Background(), auth.AuditQuery{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *passkeyEnv) passkeys() []auth.PasskeyInfo {
	e.t.Helper()
	list, err := e.svc.Passkeys(ctx, e.p)
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *passkeyEnv) storedPasskeys() []auth.Passkey {
	e.t.Helper()
	list, err := e.db.Passkeys(context.Background(), e.p.Customer.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

// publicKey decodes the "publicKey" member of options JSON.
func publicKey(t *testing.T, options string) map[string]any {
	t.Helper()
	var o struct {
		PublicKey map[string]any `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(options), &o); err != nil || o.PublicKey == nil {
		t.Fatalf("options %s: not {\"publicKey\": {...}}: %v", options, err)
	}
	return o.PublicKey
}

func TestPasskeyRegistrationOptions(t *testing.T) {
	e := newPasskeyEnv(t)
	opts, err := e.svc.PasskeyRegistrationOptions(ctx, e.p)
	if err != nil {
		t.Fatal(err)
	}
	pk := publicKey(t, opts)
	sel, _ := pk["authenticatorSelection"].(map[string]any)
	if sel["residentKey"] != "required" || sel["requireResidentKey"] != true || sel["userVerification"] != "required" {
		t.Errorf("authenticatorSelection = %v, want a required resident key and user verification", sel)
	}
	if rp, _ := pk["rp"].(map[string]any); rp["id"] != "shop.cz" {
		t.Errorf("rp = %v, want id shop.cz", pk["rp"])
	}
	user, _ := pk["user"].(map[string]any)
	handle, err := base64.RawURLEncoding.DecodeString(user["id"].(string))
	if err != nil || len(handle) != 32 || strings.Contains(string(handle), e.p.Customer.UUID) {
		t.Errorf("user.id = %v: want 32 opaque base64url bytes (%v)", user["id"], err)
	}
	if user["name"] != e.email || user["displayName"] == "" {
		t.Errorf("user = %v", user)
	}
	challenge, err := base64.RawURLEncoding.DecodeString(pk["challenge"].(string))
	if err != nil || len(challenge) < 32 {
		t.Errorf("challenge %v: want at least 32 random base64url bytes (%v)", pk["challenge"], err)
	}
	if _, ok := pk["excludeCredentials"]; ok {
		t.Errorf("excludeCredentials = %v before any passkey exists", pk["excludeCredentials"])
	}

	// The same customer gets the same handle every time; options are never reused.
	added := e.addPasskey("Laptop")
	again := publicKey(t, e.registrationCredentialOptions())
	if again["user"].(map[string]any)["id"] != user["id"] {
		t.Error("the user handle changed between two ceremonies")
	}
	if again["challenge"] == pk["challenge"] {
		t.Error("two ceremonies got the same challenge")
	}
	ex, _ := again["excludeCredentials"].([]any)
	if len(ex) != 1 || ex[0].(map[string]any)["id"] != added.ID || ex[0].(map[string]any)["type"] != "public-key" {
		t.Errorf("excludeCredentials = %v, want the registered passkey %s", again["excludeCredentials"], added.ID)
	}
	// The authenticator that holds it refuses to make a second one.
	if _, err := e.authn.Create(e.registrationCredentialOptions()); err == nil {
		t.Error("an authenticator holding an excluded credential made another")
	}
}

func (e *passkeyEnv) registrationCredentialOptions() string {
	e.t.Helper()
	opts, err := e.svc.PasskeyRegistrationOptions(ctx, e.p)
	if err != nil {
		e.t.Fatal(err)
	}
	return opts
}

func TestPasskeyLoginStartsASessionLikeLogin(t *testing.T) {
	e := newPasskeyEnv(t)
	info := e.addPasskey("  Phone  ")
	if info.Name != "Phone" || info.ID == "" || !info.CreatedAt.Equal(e.clock()) || !info.LastUsedAt.IsZero() {
		t.Fatalf("registered %+v", info)
	}
	if list := e.passkeys(); len(list) != 1 || list[0].ID != info.ID || list[0].Name != info.Name || !list[0].CreatedAt.Equal(info.CreatedAt) {
		t.Fatalf("passkeys = %+v, want [%+v]", list, info)
	}

	opts, err := e.svc.PasskeyLoginOptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pk := publicKey(t, opts)
	if _, ok := pk["allowCredentials"]; ok || pk["userVerification"] != "required" || pk["rpId"] != "shop.cz" {
		t.Errorf("login options %v: want no allowCredentials, userVerification required, rpId shop.cz", pk)
	}
	cred, err := e.authn.Get(opts)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.sessions(e.email))
	e.advance(3 * 60e9)
	pair, err := e.svc.LoginWithPasskey(ctx, cred)
	if err != nil {
		t.Fatalf("LoginWithPasskey: %v", err)
	}

	// The same tokens as Login: an access token of a live session, a refresh token that rotates.
	p := e.mustAuthenticate(pair.AccessToken)
	if p.Customer.ID != e.p.Customer.ID || p.DeviceID == e.p.DeviceID || p.Legacy {
		t.Fatalf("principal %+v: want the customer on a new device", p)
	}
	_, claims := jwtParts(t, pair.AccessToken)
	if claims["email"] != e.email || claims["uuid"] != e.p.Customer.UUID {
		t.Errorf("access claims %v", claims)
	}
	if got := len(e.sessions(e.email)); got != before+1 {
		t.Errorf("%d sessions, want %d", got, before+1)
	}
	next := e.mustRefresh(pair.RefreshToken)
	if err := e.svc.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, next.AccessToken); auth.ErrorCode(err) != auth.EInvalidToken {
		t.Errorf("after Logout the passkey session's access token: %v, want invalid-token", err)
	}

	stored := e.storedPasskeys()
	if len(stored) != 1 || stored[0].SignCount != 1 || !stored[0].LastUsedAt.Equal(e.clock()) {
		t.Errorf("stored passkey %+v: want sign count 1 and last used now", stored)
	}
	if list := e.passkeys(); !list[0].LastUsedAt.Equal(e.clock()) {
		t.Errorf("passkeys lastUsedAt = %v", list[0].LastUsedAt)
	}
}

// TestPasskeyLoginLosesARace: a login whose assertion verified but whose passkey changed before its
// session started (the customer removed it, or a parallel login used it with a later counter) is
// "Log in failed." and starts no session; the parallel writer's outcome stands.
func TestPasskeyLoginLosesARace(t *testing.T) {
	tests := []struct {
		name         string
		winner       func(e *passkeyEnv, info auth.PasskeyInfo, other string) error
		wantSessions int // sessions the winner started
		wantPasskeys int
	}{
		{"the customer removed the passkey", func(e *passkeyEnv, info auth.PasskeyInfo, _ string) error {
			return e.svc.RemovePasskey(ctx, e.p, info.ID)
		}, 0, 0},
		{"a parallel login used it", func(e *passkeyEnv, _ auth.PasskeyInfo, other string) error {
			_, err := e.svc.LoginWithPasskey(ctx, other)
			return err
		}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPasskeyEnv(t)
			info := e.addPasskey("Phone")
			cred, other := e.assertion(), e.assertion() // counters 1 and 2
			// auth.New writes too: the writes are counted from the login on.
			armed, writes := false, 0
			racing := e.serviceOver(auth.InterceptedStore{Store: e.db, OnUpdate: func(c context.Context, fn func(auth.Tx) error) error {
				// The second write starts the session: the challenge is used up and the assertion
				// verified against the passkey as it was read.
				if writes++; armed && writes == 2 {
					if err := tt.winner(e, info, other); err != nil {
						t.Errorf("the parallel writer: %v", err)
					}
				}
				return e.db.Update(c, fn)
			}})
			armed, writes = true, 0
			before := len(e.sessions(e.email))
			_, err := racing.LoginWithPasskey(ctx, cred)
			wantLoginFailed(t, err)
			if r := reason(err); r != "the passkey changed meanwhile" {
				t.Errorf("refused for %q, want the lost race", r)
			}
			if got := len(e.sessions(e.email)); got != before+tt.wantSessions {
				t.Errorf("%d sessions, want %d: only the winner's", got, before+tt.wantSessions)
			}
			if got := len(e.storedPasskeys()); got != tt.wantPasskeys {
				t.Errorf("%d passkeys stored, want %d", got, tt.wantPasskeys)
			}
		})
	}
}

// wantLoginFailed fails unless err is exactly "Log in failed." / invalid-credentials.
func wantLoginFailed(t *testing.T, err error) {
	t.Helper()
	if auth.ErrorCode(err) != auth.EInvalidCredentials || auth.ErrorMessage(err) != auth.MsgLoginFailed {
		t.Fatalf("got %v (%s / %q), want invalid-credentials / Log in failed.", err, auth.ErrorCode(err), auth.ErrorMessage(err))
	}
}

// mutate decodes a credential's JSON, lets f change it, and encodes it again.
func mutate(t *testing.T, cred string, f func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(cred), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ := json.Marshal(m)
	return string(b)
}

// flipBit flips the lowest bit of one byte of a base64url response field.
func flipBit(t *testing.T, cred, field string, at int) string {
	return mutate(t, cred, func(m map[string]any) {
		r := m["response"].(map[string]any)
		b, err := base64.RawURLEncoding.DecodeString(r[field].(string))
		if err != nil {
			t.Fatal(err)
		}
		if at < 0 {
			at += len(b)
		}
		b[at] ^= 1
		r[field] = base64.RawURLEncoding.EncodeToString(b)
	})
}

func TestPasskeyLoginRefusesBadInput(t *testing.T) {
	cases := []struct {
		name string
		// credential returns what is presented; it may use the env (register, log in, move the clock).
		credential func(t *testing.T, e *passkeyEnv) string
	}{
		{"empty", func(t *testing.T, e *passkeyEnv) string { return "" }},
		{"garbage", func(t *testing.T, e *passkeyEnv) string { return "not json at all {" }},
		{"JSON of another shape", func(t *testing.T, e *passkeyEnv) string { return `{"id":1,"response":[]}` }},
		{"huge", func(t *testing.T, e *passkeyEnv) string { return strings.Repeat("a", 100<<10) }},
		{"truncated", func(t *testing.T, e *passkeyEnv) string { c := e.assertion(); return c[:len(c)/2] }},
		{"flipped signature bit", func(t *testing.T, e *passkeyEnv) string {
			return flipBit(t, e.assertion(), "signature", -5)
		}},
		{"flipped authenticator data bit", func(t *testing.T, e *passkeyEnv) string {
			return flipBit(t, e.assertion(), "authenticatorData", 33) // the counter's first byte: still parses
		}},
		{"flipped client data bit", func(t *testing.T, e *passkeyEnv) string {
			return flipBit(t, e.assertion(), "clientDataJSON", -3)
		}},
		{"replayed assertion", func(t *testing.T, e *passkeyEnv) string {
			c := e.assertion()
			if _, err := e.svc.LoginWithPasskey(ctx, c); err != nil {
				t.Fatalf("first use: %v", err)
			}
			return c
		}},
		{"another origin", func(t *testing.T, e *passkeyEnv) string {
			e.authn.Origin = "https://www.shop.cz.evil.example"
			return e.assertion()
		}},
		{"another RP ID", func(t *testing.T, e *passkeyEnv) string {
			e.authn.RPID = "evil.example"
			return e.assertion()
		}},
		{"removed credential", func(t *testing.T, e *passkeyEnv) string {
			c := e.assertion()
			if err := e.svc.RemovePasskey(ctx, e.p, e.passkeys()[0].ID); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"credential this server never registered", func(t *testing.T, e *passkeyEnv) string {
			other := &testkit.Authenticator{Origin: shopOrigin}
			if _, err := other.Create(e.registrationCredentialOptions()); err != nil {
				t.Fatal(err)
			}
			opts, _ := e.svc.PasskeyLoginOptions(ctx)
			c, err := other.Get(opts)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"user handle of another customer", func(t *testing.T, e *passkeyEnv) string {
			other := e.mustAuthenticate(e.register("other@shop.cz").AccessToken)
			opts, _ := e.svc.PasskeyRegistrationOptions(ctx, other)
			var o map[string]any
			json.Unmarshal([]byte(opts), &o)
			handle := o["publicKey"].(map[string]any)["user"].(map[string]any)["id"]
			return mutate(t, e.assertion(), func(m map[string]any) { m["response"].(map[string]any)["userHandle"] = handle })
		}},
		{"no user handle", func(t *testing.T, e *passkeyEnv) string {
			return mutate(t, e.assertion(), func(m map[string]any) { delete(m["response"].(map[string]any), "userHandle") })
		}},
		{"expired challenge", func(t *testing.T, e *passkeyEnv) string {
			c := e.assertion()
			e.advance(auth.PasskeyChallengeTTL)
			return c
		}},
		{"registration challenge", func(t *testing.T, e *passkeyEnv) string {
			var o map[string]any
			json.Unmarshal([]byte(e.registrationCredentialOptions()), &o)
			pk := o["publicKey"].(map[string]any)
			b, _ := json.Marshal(map[string]any{"publicKey": map[string]any{"rpId": "shop.cz", "challenge": pk["challenge"]}})
			c, err := e.authn.Get(string(b))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"challenge the server never gave", func(t *testing.T, e *passkeyEnv) string {
			c, err := e.authn.Get(`{"publicKey":{"rpId":"shop.cz","challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}`)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"id and rawId differ", func(t *testing.T, e *passkeyEnv) string {
			return mutate(t, e.assertion(), func(m map[string]any) { m["id"] = "AAAA" })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newPasskeyEnv(t)
			e.addPasskey("Phone")
			cred := tc.credential(t, e)
			sessions, stored := len(e.sessions(e.email)), e.storedPasskeys()
			_, err := e.svc.LoginWithPasskey(ctx, cred)
			wantLoginFailed(t, err)
			if got := len(e.sessions(e.email)); got != sessions {
				t.Errorf("sessions %d -> %d: a refused login changed them", sessions, got)
			}
			after := e.storedPasskeys()
			if len(after) != len(stored) || (len(after) == 1 && (after[0].SignCount != stored[0].SignCount ||
				!after[0].LastUsedAt.Equal(stored[0].LastUsedAt))) {
				t.Errorf("passkeys %+v -> %+v: a refused login changed them", stored, after)
			}
			for _, a := range e.audit() {
				if strings.HasPrefix(a.Reason, string(auth.AuditPasskeyClone)) {
					t.Errorf("audit %+v: nothing here is a clone", a)
				}
			}
		})
	}
}

func TestPasskeyCloneIsRefusedAndAudited(t *testing.T) {
	e := newPasskeyEnv(t)
	e.addPasskey("Phone")
	for range 3 {
		if _, err := e.svc.LoginWithPasskey(ctx, e.assertion()); err != nil {
			t.Fatal(err)
		}
	}
	e.authn.SetSignCount(1) // a copy of the key made after the first login: it sends 2, we hold 3
	sessions := len(e.sessions(e.email))
	_, err := e.svc.LoginWithPasskey(ctx, e.assertion())
	wantLoginFailed(t, err)
	if got := len(e.sessions(e.email)); got != sessions {
		t.Errorf("a cloned authenticator started a session")
	}
	if s := e.storedPasskeys()[0].SignCount; s != 3 {
		t.Errorf("sign count %d, want 3 kept", s)
	}
	var clones []auth.AuditEvent
	for _, a := range e.audit() {
		if strings.HasPrefix(a.Reason, string(auth.AuditPasskeyClone)) {
			clones = append(clones, a)
		}
	}
	if len(clones) != 1 || clones[0].CustomerID != e.p.Customer.ID ||
		!strings.Contains(clones[0].Reason, "stored 3, presented 2") || clones[0].RemoteAddr != "192.0.2.7" {
		t.Fatalf("audit %+v: want one clone event for the customer from 192.0.2.7", e.audit())
	}
}

// A counter that stays at zero (authenticators that keep none, such as synced passkeys) is fine.
func TestPasskeyWithoutCounter(t *testing.T) {
	e := newPasskeyEnv(t)
	e.addPasskey("Synced")
	for range 2 {
		e.authn.SetSignCount(^uint32(0)) // the next assertion sends 0 (the counter wraps)
		if _, err := e.svc.LoginWithPasskey(ctx, e.assertion()); err != nil {
			t.Fatalf("a zero counter refused: %v", err)
		}
	}
}

func TestPasskeyRegistrationRefusesBadInput(t *testing.T) {
	cases := []struct {
		name       string
		credential func(t *testing.T, e *passkeyEnv) string
	}{
		{"empty", func(t *testing.T, e *passkeyEnv) string { return "" }},
		{"garbage", func(t *testing.T, e *passkeyEnv) string { return "\x00\xff{{" }},
		{"truncated", func(t *testing.T, e *passkeyEnv) string { c := e.registrationCredential(); return c[:len(c)-40] }},
		{"flipped public key bit", func(t *testing.T, e *passkeyEnv) string {
			return flipBit(t, e.registrationCredential(), "attestationObject", -10) // the key's y: off the curve
		}},
		{"flipped RP ID hash bit", func(t *testing.T, e *passkeyEnv) string {
			c := e.registrationCredential()
			var m map[string]any
			json.Unmarshal([]byte(c), &m)
			att, _ := base64.RawURLEncoding.DecodeString(m["response"].(map[string]any)["attestationObject"].(string))
			h := sha256.Sum256([]byte("shop.cz"))
			at := bytes.Index(att, h[:])
			if at < 0 {
				t.Fatal("no RP ID hash in the attestation object")
			}
			return flipBit(t, c, "attestationObject", at+7)
		}},
		{"flipped client data bit", func(t *testing.T, e *passkeyEnv) string {
			return flipBit(t, e.registrationCredential(), "clientDataJSON", -3)
		}},
		{"replayed", func(t *testing.T, e *passkeyEnv) string {
			c := e.registrationCredential()
			if _, err := e.svc.RegisterPasskey(ctx, e.p, c, nil); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"another origin", func(t *testing.T, e *passkeyEnv) string {
			e.authn.Origin = "https://evil.example"
			return e.registrationCredential()
		}},
		{"another RP ID", func(t *testing.T, e *passkeyEnv) string {
			e.authn.RPID = "evil.example"
			return e.registrationCredential()
		}},
		{"options of another customer", func(t *testing.T, e *passkeyEnv) string {
			other := e.mustAuthenticate(e.register("other@shop.cz").AccessToken)
			opts, _ := e.svc.PasskeyRegistrationOptions(ctx, other)
			c, err := e.authn.Create(opts)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"login options", func(t *testing.T, e *passkeyEnv) string {
			opts, _ := e.svc.PasskeyLoginOptions(ctx)
			var o map[string]any
			json.Unmarshal([]byte(opts), &o)
			var r map[string]any
			json.Unmarshal([]byte(e.registrationCredentialOptions()), &r)
			r["publicKey"].(map[string]any)["challenge"] = o["publicKey"].(map[string]any)["challenge"]
			b, _ := json.Marshal(r)
			c, err := e.authn.Create(string(b))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"expired options", func(t *testing.T, e *passkeyEnv) string {
			c := e.registrationCredential()
			e.advance(auth.PasskeyChallengeTTL + 1)
			return c
		}},
		{"an assertion", func(t *testing.T, e *passkeyEnv) string {
			e.addPasskey("first")
			return e.assertion()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newPasskeyEnv(t)
			cred := tc.credential(t, e)
			before := e.storedPasskeys()
			_, err := e.svc.RegisterPasskey(ctx, e.p, cred, nil)
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Code != auth.EValidation || len(ae.Validation["input.credential"]) != 1 ||
				ae.Validation["input.credential"][0].Message != auth.MsgPasskeyNotVerified {
				t.Fatalf("got %v, want a validation error on input.credential", err)
			}
			if after := e.storedPasskeys(); len(after) != len(before) {
				t.Errorf("passkeys %d -> %d: a refused registration stored one", len(before), len(after))
			}
		})
	}
}

func TestPasskeyNames(t *testing.T) {
	e := newPasskeyEnv(t)
	info, err := e.svc.RegisterPasskey(ctx, e.p, e.registrationCredential(), nil)
	if err != nil || info.Name != "Passkey" {
		t.Fatalf("no name: %+v %v, want the name Passkey", info, err)
	}
	long := strings.Repeat("ž", 101)
	e.authn = &testkit.Authenticator{Origin: shopOrigin} // a second device: the first holds an excluded credential
	_, err = e.svc.RegisterPasskey(ctx, e.p, e.registrationCredential(), &long)
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Code != auth.EValidation || ae.Validation["input.name"] == nil {
		t.Fatalf("101-character name: %v, want a validation error on input.name", err)
	}
	for _, bad := range []string{"Phone\nAdmin", "\x1b[31mred", "tab\there"} {
		_, err = e.svc.RegisterPasskey(ctx, e.p, e.registrationCredential(), &bad)
		if !errors.As(err, &ae) || ae.Code != auth.EValidation || ae.Validation["input.name"][0].Message != auth.MsgPasskeyNameInvalid {
			t.Errorf("name %q: %v, want a validation error on input.name", bad, err)
		}
	}
	if got := len(e.storedPasskeys()); got != 1 {
		t.Errorf("%d passkeys stored, want only the first", got)
	}
}

func TestPasskeyOperationsNeedALogin(t *testing.T) {
	e := newPasskeyEnv(t)
	for name, call := range map[string]func() error{
		"passkeys":                   func() error { _, err := e.svc.Passkeys(ctx, nil); return err },
		"PasskeyRegistrationOptions": func() error { _, err := e.svc.PasskeyRegistrationOptions(ctx, nil); return err },
		"RegisterPasskey":            func() error { _, err := e.svc.RegisterPasskey(ctx, nil, "{}", nil); return err },
		"RemovePasskey":              func() error { return e.svc.RemovePasskey(ctx, nil, "AAAA") },
	} {
		if err := call(); auth.ErrorCode(err) != auth.EInvalidToken || auth.ErrorMessage(err) != auth.MsgInvalidToken {
			t.Errorf("%s anonymous: %v, want Token is not valid. / invalid-token", name, err)
		}
	}
}

func TestRemovePasskey(t *testing.T) {
	e := newPasskeyEnv(t)
	mine := e.addPasskey("Phone")
	other := &passkeyEnv{testEnv: e.testEnv, email: "other@shop.cz", authn: &testkit.Authenticator{Origin: shopOrigin}}
	other.p = e.mustAuthenticate(e.register(other.email).AccessToken)
	theirs := other.addPasskey("Theirs")

	for _, id := range []string{theirs.ID, "", "!!not base64!!", "AAAA"} {
		err := e.svc.RemovePasskey(ctx, e.p, id)
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Code != auth.EValidation || ae.Validation["id"] == nil {
			t.Errorf("RemovePasskey(%q): %v, want a validation error on id", id, err)
		}
	}
	if len(other.passkeys()) != 1 {
		t.Fatal("a customer removed another customer's passkey")
	}
	if err := e.svc.RemovePasskey(ctx, e.p, mine.ID); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, a := range e.audit() {
		if a.CustomerID == e.p.Customer.ID {
			if a.DeviceID != e.p.DeviceID || a.RemoteAddr != "192.0.2.7" {
				t.Errorf("audit %+v: want the caller's device and address", a)
			}
			reasons = append(reasons, a.Reason)
		}
	}
	// Newest first; the refused removals above recorded nothing.
	if strings.Join(reasons, "|") != string(auth.AuditPasskeyRemoved+"|"+auth.AuditPasskeyAdded) {
		t.Errorf("the customer's audit: %q, want the removal then the addition", reasons)
	}
	if len(e.passkeys()) != 0 {
		t.Fatal("the passkey is still listed")
	}
	if _, err := e.svc.LoginWithPasskey(ctx, e.assertion()); err == nil {
		t.Fatal("a removed passkey still logs in")
	}
	// Once removed, the authenticator may register it again (the exclusion list no longer names it).
	e.authn = &testkit.Authenticator{Origin: shopOrigin}
	e.addPasskey("New phone")
}

// Failed passkey logins count per address, but a valid assertion is never refused by the
// throttle: five garbage logins from one address made every customer's valid
// passkey login from it fail for a minute.
func TestPasskeyLoginThrottleNeverRefusesAValidAssertion(t *testing.T) {
	e := newPasskeyEnv(t)
	e.addPasskey("Phone")
	neighbour := &passkeyEnv{testEnv: e.testEnv, email: "neighbour@shop.cz", authn: &testkit.Authenticator{Origin: shopOrigin}}
	neighbour.p = e.mustAuthenticate(e.register(neighbour.email).AccessToken)
	neighbour.addPasskey("Laptop")

	for range e.cfg.LoginFailuresPerEmail {
		_, err := e.svc.LoginWithPasskey(ctx, "garbage")
		wantLoginFailed(t, err)
	}
	// The address has spent its passkey budget: what fails from it now says so.
	for name, cred := range map[string]string{
		"garbage":             "garbage",
		"a bad signature":     flipBit(t, e.assertion(), "signature", -5),
		"id and rawId differ": mutate(t, e.assertion(), func(m map[string]any) { m["id"] = "AAAA" }),
	} {
		if _, err := e.svc.LoginWithPasskey(ctx, cred); auth.ErrorCode(err) != auth.ETooManyLoginAttempts {
			t.Errorf("%s from a spent address: %v, want too-many-login-attempts", name, err)
		}
	}
	// Every customer's own passkey still logs in from that address, again and again.
	for i := range 3 {
		for _, who := range []*passkeyEnv{e, neighbour} {
			pair, err := e.svc.LoginWithPasskey(ctx, who.assertion())
			if err != nil {
				t.Fatalf("valid assertion %d of %s from the spent address: %v", i, who.email, err)
			}
			if p := e.mustAuthenticate(pair.AccessToken); p.Customer.ID != who.p.Customer.ID {
				t.Fatalf("%s logged in as %s", who.email, p.Customer.Email)
			}
		}
	}
	// Another address has its own budget.
	other := auth.NewContextWithClient(context.Background(), auth.Client{IP: "198.51.100.1"})
	_, err := e.svc.LoginWithPasskey(other, "garbage")
	wantLoginFailed(t, err)
	// The budget is a minute's.
	e.advance(time.Minute)
	_, err = e.svc.LoginWithPasskey(ctx, "garbage")
	wantLoginFailed(t, err)
}

// Passkey failures are not password guesses: they leave the address's password budget alone.
func TestPasskeyFailuresLeaveThePasswordBudget(t *testing.T) {
	e := newPasskeyEnv(t, func(c *auth.Config) { c.LoginFailuresPerEmail, c.LoginFailuresPerIP = 3, 3 })
	for range 4 {
		e.svc.LoginWithPasskey(ctx, "garbage")
	}
	if _, err := e.svc.Login(ctx, e.email, testPassword); err != nil {
		t.Fatalf("password login from the address after passkey failures: %v", err)
	}
}

// A challenge is used up before its signature is checked, failure or not: a flood gets no more
// signature checks than PasskeyLoginOptions handed out challenges, however often or in how many
// parallel requests it presents each one.
func TestPasskeyLoginChecksOneSignaturePerChallenge(t *testing.T) {
	e := newPasskeyEnv(t, func(c *auth.Config) { c.LoginFailuresPerEmail = 100 })
	e.addPasskey("Phone")

	good := e.assertion()
	_, err := e.svc.LoginWithPasskey(ctx, flipBit(t, good, "signature", -5))
	wantLoginFailed(t, err)
	_, err = e.svc.LoginWithPasskey(ctx, good)
	wantLoginFailed(t, err) // its challenge went with the forged one

	// In parallel: a service logging why each attempt failed.
	logs := &testkit.LogBuffer{}
	svc, err := auth.New(context.Background(), e.db, e.cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = e.clock
	forged := flipBit(t, e.assertion(), "signature", -5)
	const parallel = 8
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			if _, err := svc.LoginWithPasskey(ctx, forged); auth.ErrorCode(err) != auth.EInvalidCredentials {
				t.Errorf("forged assertion: %v", err)
			}
		})
	}
	wg.Wait()
	refusals := strings.Count(logs.String(), "passkey login refused")
	checked := strings.Count(logs.String(), "assertion signature")
	if refusals != parallel || checked != 1 {
		t.Fatalf("%d refusals, %d after a signature check; want %d and 1:\n%s", refusals, checked, parallel, logs.String())
	}
}

// A ceremony begun on one instance finishes on another (here: after a restart), since the
// challenge lives in the database.
func TestPasskeyChallengeSurvivesARestart(t *testing.T) {
	e := newPasskeyEnv(t)
	cred := e.registrationCredential()
	e.restart()
	if _, err := e.svc.RegisterPasskey(ctx, e.p, cred, nil); err != nil {
		t.Fatalf("registration begun before the restart: %v", err)
	}
	login := e.assertion()
	e.restart()
	if _, err := e.svc.LoginWithPasskey(ctx, login); err != nil {
		t.Fatalf("login begun before the restart: %v", err)
	}
}

// Many parallel uses of one assertion start exactly one session.
func TestPasskeyAssertionIsSingleUseUnderConcurrency(t *testing.T) {
	e := newPasskeyEnv(t, func(c *auth.Config) { c.LoginFailuresPerEmail = 100 })
	e.addPasskey("Phone")
	cred := e.assertion()
	sessions := len(e.sessions(e.email))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			if _, err := e.svc.LoginWithPasskey(ctx, cred); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if auth.ErrorCode(err) != auth.EInvalidCredentials {
				t.Errorf("parallel use: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || len(e.sessions(e.email)) != sessions+1 {
		t.Fatalf("%d logins succeeded, %d new sessions; want exactly 1", ok, len(e.sessions(e.email))-sessions)
	}
}

func TestPasskeyChallengesArePruned(t *testing.T) {
	e := newPasskeyEnv(t)
	cred := e.registrationCredential()
	e.advance(auth.PasskeyChallengeTTL)
	if _, err := e.svc.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	e.setNow(e.clock().Add(-auth.PasskeyChallengeTTL)) // even back in time, the challenge is gone
	if _, err := e.svc.RegisterPasskey(ctx, e.p, cred, nil); auth.ErrorCode(err) != auth.EValidation {
		t.Fatalf("pruned challenge: %v, want validation", err)
	}
}

func TestDeletingACustomerDeletesThePasskeys(t *testing.T) {
	e := newPasskeyEnv(t)
	e.addPasskey("Phone")
	cred := e.assertion()
	e.exec(`DELETE FROM customers WHERE id = ?`, e.p.Customer.ID)
	if list, _ := e.db.Passkeys(context.Background(), e.p.Customer.ID); len(list) != 0 {
		t.Fatalf("passkeys of a deleted customer: %+v", list)
	}
	_, err := e.svc.LoginWithPasskey(ctx, cred)
	wantLoginFailed(t, err)
}

func TestPasskeysOff(t *testing.T) {
	e := newEnv(t) // the default issuer's host is an IP address: RelyingParty zero, passkeys off
	p := e.mustAuthenticate(e.register("off@shop.cz").AccessToken)
	if _, err := e.svc.PasskeyRegistrationOptions(ctx, p); auth.ErrorCode(err) != auth.EPasskeysDisabled {
		t.Errorf("registration options with passkeys off: %v", err)
	}
	if _, err := e.svc.PasskeyLoginOptions(ctx); auth.ErrorCode(err) != auth.EPasskeysDisabled {
		t.Errorf("login options with passkeys off: %v", err)
	}
	if list, err := e.svc.Passkeys(ctx, p); err != nil || len(list) != 0 {
		t.Errorf("passkeys with passkeys off: %v %v, want an empty list", list, err)
	}
}

// addDevicePasskey registers a passkey from a new authenticator (one that holds none of the
// customer's, so the exclusion list does not stop it), moving the clock on a minute whenever the
// registration options' throttle would refuse.
func (e *passkeyEnv) addDevicePasskey(t *testing.T, n int) {
	t.Helper()
	e.authn = &testkit.Authenticator{Origin: shopOrigin}
	if n%auth.PasskeyRegistrationOptionsPerMinute == 0 {
		e.advance(time.Minute)
	}
	e.addPasskey("Device")
}

// wantPasskeyViolation fails unless err is a validation error on input.credential with message.
func wantPasskeyViolation(t *testing.T, err error, message string) {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Code != auth.EValidation || len(ae.Validation["input.credential"]) != 1 ||
		ae.Validation["input.credential"][0].Message != message {
		t.Fatalf("got %v (%+v), want a validation error on input.credential: %q", err, ae, message)
	}
}

// A customer has at most 20 passkeys: one customer once stored 200.
func TestPasskeysPerCustomerAreCapped(t *testing.T) {
	e := newPasskeyEnv(t)
	for i := range auth.MaxPasskeysPerCustomer - 1 {
		e.addDevicePasskey(t, i)
	}
	e.advance(time.Minute)
	// Two ceremonies begun at 19: the first makes 20, the second is the 21st.
	e.authn = &testkit.Authenticator{Origin: shopOrigin}
	twentieth := e.registrationCredential()
	e.authn = &testkit.Authenticator{Origin: shopOrigin}
	twentyFirst := e.registrationCredential()
	if _, err := e.svc.RegisterPasskey(ctx, e.p, twentieth, nil); err != nil {
		t.Fatalf("the 20th passkey: %v", err)
	}
	_, err := e.svc.RegisterPasskey(ctx, e.p, twentyFirst, nil)
	wantPasskeyViolation(t, err, auth.MsgPasskeyTooMany)
	if n := len(e.storedPasskeys()); n != auth.MaxPasskeysPerCustomer {
		t.Fatalf("%d passkeys stored, want %d", n, auth.MaxPasskeysPerCustomer)
	}
	// At the cap the options say so, before an authenticator makes a passkey for nothing.
	_, err = e.svc.PasskeyRegistrationOptions(ctx, e.p)
	wantPasskeyViolation(t, err, auth.MsgPasskeyTooMany)

	// Removing one makes room for one.
	if err := e.svc.RemovePasskey(ctx, e.p, e.passkeys()[0].ID); err != nil {
		t.Fatal(err)
	}
	e.addDevicePasskey(t, 1)
	if n := len(e.storedPasskeys()); n != auth.MaxPasskeysPerCustomer {
		t.Fatalf("%d passkeys after removing one and adding one, want %d", n, auth.MaxPasskeysPerCustomer)
	}
}

// Parallel registrations cannot pass the cap between them.
func TestPasskeyCapHoldsUnderConcurrency(t *testing.T) {
	e := newPasskeyEnv(t)
	for i := range auth.MaxPasskeysPerCustomer - 2 {
		e.addDevicePasskey(t, i)
	}
	e.advance(time.Minute)
	var creds []string
	for range 6 {
		e.authn = &testkit.Authenticator{Origin: shopOrigin}
		creds = append(creds, e.registrationCredential())
	}
	var wg sync.WaitGroup
	for _, c := range creds {
		wg.Go(func() {
			if _, err := e.svc.RegisterPasskey(ctx, e.p, c, nil); err != nil && auth.ErrorMessage(err) != auth.MsgValidation {
				t.Errorf("parallel registration: %v", err)
			}
		})
	}
	wg.Wait()
	if n := len(e.storedPasskeys()); n != auth.MaxPasskeysPerCustomer {
		t.Fatalf("%d passkeys after parallel registrations, want %d", n, auth.MaxPasskeysPerCustomer)
	}
}

// PasskeyRegistrationOptions stores a challenge per call: at most 10 a minute per customer (a
// flood once stored a thousand challenge rows a second).
func TestPasskeyRegistrationOptionsAreThrottled(t *testing.T) {
	e := newPasskeyEnv(t)
	for i := range auth.PasskeyRegistrationOptionsPerMinute {
		if _, err := e.svc.PasskeyRegistrationOptions(ctx, e.p); err != nil {
			t.Fatalf("options %d: %v", i+1, err)
		}
	}
	elsewhere := auth.NewContextWithClient(context.Background(), auth.Client{IP: "198.51.100.1"})
	for _, c := range []context.Context{ctx, elsewhere} {
		if _, err := e.svc.PasskeyRegistrationOptions(c, e.p); auth.ErrorCode(err) != auth.ETooManyLoginAttempts {
			t.Fatalf("options past %d a minute: %v, want too-many-login-attempts from any address",
				auth.PasskeyRegistrationOptionsPerMinute, err)
		}
	}
	// Another customer has a budget of their own; the customer gets new options a minute later.
	other := e.mustAuthenticate(e.register("other@shop.cz").AccessToken)
	if _, err := e.svc.PasskeyRegistrationOptions(ctx, other); err != nil {
		t.Fatalf("another customer: %v", err)
	}
	e.advance(time.Minute)
	e.addPasskey("Phone")
}

// What a client sends is bounded in size, and what is stored does not grow with it (45 KB of
// client data were once stored with each passkey).
func TestPasskeyRegistrationSizes(t *testing.T) {
	padTransports := func(t *testing.T, cred string) string {
		return mutate(t, cred, func(m map[string]any) {
			var junk []any
			for i := range 100 {
				junk = append(junk, fmt.Sprintf("%03d%s", i, strings.Repeat("t", 97)))
			}
			m["response"].(map[string]any)["transports"] = append(junk, "internal", "internal")
		})
	}
	cases := []struct {
		name        string
		idLength    int
		clientData  int // bytes of padding in the client data
		change      func(t *testing.T, cred string) string
		wantMessage string // "" when accepted
	}{
		{name: "1023-byte credential id", idLength: 1023},
		{name: "1024-byte credential id", idLength: 1024, wantMessage: auth.MsgPasskeyNotVerified},
		{name: "3 KB of client data", idLength: 1023, clientData: 3000},
		{name: "5 KB of client data", clientData: 5000, wantMessage: auth.MsgPasskeyTooLarge},
		{name: "45 KB of client data", idLength: 1023, clientData: 45_000, wantMessage: auth.MsgPasskeyTooLarge},
		{name: "a 33 KB credential", change: func(t *testing.T, c string) string {
			return mutate(t, c, func(m map[string]any) { m["padding"] = strings.Repeat("p", 33<<10) })
		}, wantMessage: auth.MsgPasskeyTooLarge},
		{name: "invented transports", change: padTransports},
		{name: "an invented attachment", change: func(t *testing.T, c string) string {
			return mutate(t, c, func(m map[string]any) { m["authenticatorAttachment"] = strings.Repeat("a", 10_000) })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newPasskeyEnv(t)
			e.authn = &testkit.Authenticator{Origin: shopOrigin, IDLength: tc.idLength, ClientDataPadding: tc.clientData}
			cred := e.registrationCredential()
			if tc.change != nil {
				cred = tc.change(t, cred)
			}
			_, err := e.svc.RegisterPasskey(ctx, e.p, cred, nil)
			if tc.wantMessage != "" {
				wantPasskeyViolation(t, err, tc.wantMessage)
				if n := len(e.storedPasskeys()); n != 0 {
					t.Fatalf("%d passkeys stored", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("RegisterPasskey: %v", err)
			}
			stored := e.storedPasskeys()
			if len(stored) != 1 {
				t.Fatalf("%d passkeys stored, want 1", len(stored))
			}
			// The record holds the key and the id, not what the client padded.
			rec := stored[0].Credential
			if limit := 2*len(stored[0].CredentialID) + 1000; len(rec) > limit {
				t.Errorf("stored record of %d bytes for a %d-byte id, want at most %d:\n%.300s", len(rec), len(stored[0].CredentialID), limit, rec)
			}
			for _, padding := range []string{"xxxxxxxx", "tttttttt", "aaaaaaaa"} {
				if strings.Contains(string(rec), padding) {
					t.Errorf("the stored record keeps the client's padding %q", padding)
				}
			}
			if tc.name == "invented transports" && !strings.Contains(string(rec), `"transport":["internal"]`) {
				t.Errorf("stored record %s: want the known transport, once", rec)
			}
			// And it still logs in.
			if _, err := e.svc.LoginWithPasskey(ctx, e.assertion()); err != nil {
				t.Fatalf("login with the passkey: %v", err)
			}
		})
	}
}
