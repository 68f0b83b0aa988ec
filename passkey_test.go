package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shopauth/internal/testkit"
)

func TestPasskeyFlagsRefusedAtStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"RP ID a public suffix", []string{"--issuer", "https://auth.shop.co.uk", "--webauthn-rp-id", "co.uk"}, `"co.uk"`},
		{"RP ID not covering the issuer", []string{"--issuer", "https://auth.shop.cz", "--webauthn-rp-id", "www.shop.cz"}, `"https://auth.shop.cz"`},
		{"RP ID not covering a CORS origin", []string{"--issuer", "https://auth.shop.cz", "--webauthn-rp-id", "shop.cz",
			"--cors-origins", "https://www.shop.cz,https://shop.example"}, `"https://shop.example"`},
		{"origin outside the RP ID", []string{"--issuer", "https://auth.shop.cz", "--webauthn-origins", "https://evil.example"}, `"https://evil.example"`},
		{"origin not an origin", []string{"--issuer", "https://shop.cz", "--webauthn-origins", "shop.cz"}, `"shop.cz"`},
		{"origin with a path", []string{"--issuer", "https://shop.cz", "--webauthn-origins", "https://shop.cz/x"}, `"https://shop.cz/x"`},
		{"RP ID an IP address", []string{"--webauthn-rp-id", "192.0.2.1"}, `"192.0.2.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SHOPAUTH_DB", db)
			code, _, stderr := runArgs(t, "", tt.args...)
			if code != 2 || !strings.Contains(stderr, "invalid configuration") || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want 2 naming %s; stderr:\n%s", code, tt.want, stderr)
			}
		})
	}
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv("SHOPAUTH_DB", db)
		t.Setenv("SHOPAUTH_WEBAUTHN_RP_ID", "github.io")
		if code, _, stderr := runArgs(t, "", "--issuer", "https://shop.github.io"); code != 2 || !strings.Contains(stderr, `"github.io"`) {
			t.Errorf("exit %d, want 2 naming github.io; stderr:\n%s", code, stderr)
		}
	})
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused configuration created the database")
	}
}

// passkeyOptions runs an options mutation and returns its JSON string.
func passkeyOptions(t *testing.T, url, field string, header map[string]string) string {
	t.Helper()
	r := gql(t, url, `mutation { `+field+` }`, nil, header)
	var s string
	if r.Status != 200 || len(r.Errors) > 0 || json.Unmarshal(r.Data[field], &s) != nil {
		t.Fatalf("%s: %d %s", field, r.Status, r.Raw)
	}
	return s
}

func TestPasskeysOverGraphQL(t *testing.T) {
	m := startServer(t, func(m *Main) {
		m.Config.Issuer = "https://auth.shop.cz"
		m.WebAuthnRPID = "shop.cz"
		m.CORSOrigins = []string{"https://www.shop.cz"}
	})
	url := m.URL()
	pair := register(t, url, "passkey@shop.cz", "password1")
	me := bearer(pair.AccessToken)
	authn := &testkit.Authenticator{Origin: "https://www.shop.cz"} // a CORS origin: accepted by default

	cred, err := authn.Create(passkeyOptions(t, url, "PasskeyRegistrationOptions", me))
	if err != nil {
		t.Fatal(err)
	}
	const registerPasskey = `mutation ($c: String!, $n: String) { RegisterPasskey(input: {credential: $c, name: $n}) { id name createdAt lastUsedAt } }`
	r := gql(t, url, registerPasskey, map[string]any{"c": cred, "n": "Phone"}, me)
	var added struct {
		ID, Name, CreatedAt string
		LastUsedAt          *string
	}
	if r.Status != 200 || len(r.Errors) > 0 || json.Unmarshal(r.Data["RegisterPasskey"], &added) != nil ||
		added.ID != authn.CredentialIDs()[0] || added.Name != "Phone" || added.CreatedAt == "" || added.LastUsedAt != nil {
		t.Fatalf("RegisterPasskey: %s", r.Raw)
	}

	// The same credential again: its challenge is used up.
	r = gql(t, url, registerPasskey, map[string]any{"c": cred}, me)
	r.WantError(t, 200, "validation", "validation")
	if !strings.Contains(string(r.Raw), `"input.credential"`) || strings.Contains(string(r.Raw), "hallenge") {
		t.Errorf("replayed registration: %s, want a validation error on input.credential without internals", r.Raw)
	}

	assertion, err := authn.Get(passkeyOptions(t, url, "PasskeyLoginOptions", nil))
	if err != nil {
		t.Fatal(err)
	}
	const loginWithPasskey = `mutation ($c: String!) { LoginWithPasskey(input: {credential: $c}) { accessToken refreshToken } }`
	tok := gql(t, url, loginWithPasskey, map[string]any{"c": assertion}, nil).Token(t, "LoginWithPasskey")
	who := gql(t, url, `{ currentCustomerUser { email } customerSessions { current } passkeys { id name lastUsedAt } }`, nil, bearer(tok.AccessToken))
	if !strings.Contains(string(who.Raw), `"email":"passkey@shop.cz"`) || strings.Count(string(who.Raw), `"current"`) != 2 ||
		!strings.Contains(string(who.Raw), `"name":"Phone","lastUsedAt":"20`) {
		t.Fatalf("after LoginWithPasskey: %s", who.Raw)
	}
	refresh(t, url, tok.RefreshToken).Token(t, "RefreshTokens")

	// Replayed, and then bad in every way the browser could send it: the same answer, no internals.
	for name, c := range map[string]string{"replayed": assertion, "garbage": "{{", "empty": ""} {
		r := gql(t, url, loginWithPasskey, map[string]any{"c": c}, nil)
		r.WantError(t, 200, "Log in failed.", "invalid-credentials")
		if len(r.Errors[0].Extensions) != 1 {
			t.Errorf("%s: extensions %v, want only userCode", name, r.Errors[0].Extensions)
		}
	}

	if r := gql(t, url, `mutation ($id: String!) { RemovePasskey(id: $id) }`, map[string]any{"id": added.ID}, me); string(r.Data["RemovePasskey"]) != "true" {
		t.Fatalf("RemovePasskey: %s", r.Raw)
	}
	assertion, _ = authn.Get(passkeyOptions(t, url, "PasskeyLoginOptions", nil))
	gql(t, url, loginWithPasskey, map[string]any{"c": assertion}, nil).WantError(t, 200, "Log in failed.", "invalid-credentials")
	r = gql(t, url, `mutation ($id: String!) { RemovePasskey(id: $id) }`, map[string]any{"id": added.ID}, me)
	r.WantError(t, 200, "validation", "validation")

	// Anonymous calls of the authenticated ones.
	for _, q := range []string{`{ passkeys { id } }`, `mutation { PasskeyRegistrationOptions }`,
		`mutation { RegisterPasskey(input: {credential: "{}"}) { id } }`, `mutation { RemovePasskey(id: "AAAA") }`} {
		gql(t, url, q, nil, nil).WantError(t, 200, "Token is not valid.", "invalid-token")
	}
}

// TestPasskeyLimitsMeasured measures what a hostile customer can make a server store: one adding 200
// passkeys with 1023-byte credential ids and 45 KB of client data (what the database grows by,
// how long it takes, how large the registration options become), and a flood of
// PasskeyRegistrationOptions (challenge rows stored per second). It asserts nothing and runs only
// when asked:
//
//	SHOPAUTH_MEASURE=1 go test -run TestPasskeyLimitsMeasured -v .
func TestPasskeyLimitsMeasured(t *testing.T) {
	if os.Getenv("SHOPAUTH_MEASURE") == "" {
		t.Skip("set SHOPAUTH_MEASURE=1 to measure")
	}
	m := startServer(t, func(m *Main) {
		m.Config.Issuer = "https://auth.shop.cz"
		m.WebAuthnRPID = "shop.cz"
		m.CORSOrigins = []string{"https://www.shop.cz"}
	})
	url := m.URL()
	dbBytes := func() int64 {
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(m.DBPath + suffix); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	raw, err := sql.Open("sqlite", "file:"+m.DBPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	count := func(query string) int64 {
		var n sql.NullInt64
		if err := raw.QueryRow(query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n.Int64
	}

	const registerPasskey = `mutation ($c: String!) { RegisterPasskey(input: {credential: $c}) { id } }`
	// register makes 200 attempts of one customer to add a passkey with ids and client data of the
	// given sizes, then reports what they stored and how large the next options answer is.
	attempt := func(email string, idLength, clientData int) {
		me := bearer(register(t, url, email, "password1").AccessToken)
		before, start := dbBytes(), time.Now()
		stored := count(`SELECT coalesce(sum(length(credential_id) + length(name) + length(credential)), 0) FROM passkeys`)
		added, refusals := 0, map[string]int{}
		for range 200 {
			r := gql(t, url, `mutation { PasskeyRegistrationOptions }`, nil, me)
			if len(r.Errors) > 0 {
				refusals["options: "+firstError(r)]++
				continue
			}
			var opts string
			json.Unmarshal(r.Data["PasskeyRegistrationOptions"], &opts)
			authn := &testkit.Authenticator{Origin: "https://www.shop.cz", IDLength: idLength, ClientDataPadding: clientData}
			cred, err := authn.Create(opts)
			if err != nil {
				t.Fatal(err)
			}
			if r := gql(t, url, registerPasskey, map[string]any{"c": cred}, me); len(r.Errors) > 0 {
				refusals["register: "+firstError(r)]++
				continue
			}
			added++
		}
		elapsed := time.Since(start)
		options := gql(t, url, `mutation { PasskeyRegistrationOptions }`, nil, me)
		t.Logf("%s: 200 attempts with %d-byte ids and %d bytes of client data padding: %d passkeys added in %v; refused: %v",
			email, idLength, clientData, added, elapsed.Round(time.Millisecond), refusals)
		t.Logf("%s: database files grew by %.2f MiB; passkeys rows grew by %d bytes (%d per passkey)", email,
			float64(dbBytes()-before)/(1<<20), count(`SELECT sum(length(credential_id) + length(name) + length(credential)) FROM passkeys`)-stored,
			(count(`SELECT sum(length(credential_id) + length(name) + length(credential)) FROM passkeys`)-stored)/int64(max(added, 1)))
		t.Logf("%s: the next options answer: %d bytes (%s)", email, len(options.Raw), firstError(options))
	}
	attempt("many@shop.cz", 1023, 45_000)   // what the issue describes
	attempt("largest@shop.cz", 1023, 3_900) // the largest a passkey may now be

	// The largest options answer: at 19 of the largest passkeys (the options throttle allows the
	// next 9 a minute later).
	time.Sleep(61 * time.Second)
	me := bearer(login(t, url, "largest@shop.cz", "password1").Token(t, "Login").AccessToken)
	for range 9 {
		r := gql(t, url, `mutation { PasskeyRegistrationOptions }`, nil, me)
		var opts string
		json.Unmarshal(r.Data["PasskeyRegistrationOptions"], &opts)
		cred, err := (&testkit.Authenticator{Origin: "https://www.shop.cz", IDLength: 1023, ClientDataPadding: 3_900}).Create(opts)
		if err != nil {
			t.Fatalf("%v: %s", err, r.Raw)
		}
		if r := gql(t, url, registerPasskey, map[string]any{"c": cred}, me); len(r.Errors) > 0 {
			t.Fatalf("register: %s", r.Raw)
		}
	}
	options := gql(t, url, `mutation { PasskeyRegistrationOptions }`, nil, me)
	t.Logf("largest@shop.cz: the options answer at %d passkeys: %d bytes (%s); passkeys rows hold %d bytes", count(
		`SELECT count(*) FROM passkeys p JOIN customers c ON c.id = p.customer_id WHERE c.email = 'largest@shop.cz'`),
		len(options.Raw), firstError(options), count(`SELECT sum(length(credential_id) + length(name) + length(credential)) FROM passkeys`))

	// The flood: 8 clients asking for registration options with one token for 2 s.
	fresh := bearer(register(t, url, "flood@shop.cz", "password1").AccessToken)
	rows := count(`SELECT count(*) FROM passkey_challenges WHERE ceremony = 'registration'`)
	var wg sync.WaitGroup
	var answered, refused atomic.Int64
	deadline := time.Now().Add(2 * time.Second)
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if r := gql(t, url, `mutation { PasskeyRegistrationOptions }`, nil, fresh); len(r.Errors) > 0 {
					refused.Add(1)
				} else {
					answered.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stored := count(`SELECT count(*) FROM passkey_challenges WHERE ceremony = 'registration'`) - rows
	t.Logf("flood of PasskeyRegistrationOptions for %v: %d answered, %d refused, %d challenge rows stored (%.0f per second)",
		elapsed.Round(time.Millisecond), answered.Load(), refused.Load(), stored, float64(stored)/elapsed.Seconds())
}

func firstError(r gqlResponse) string {
	if len(r.Errors) == 0 {
		return "no error"
	}
	msg := fmt.Sprintf("%s / %v", r.Errors[0].Message, r.Errors[0].Extensions["userCode"])
	if v, ok := r.Errors[0].Extensions["validation"]; ok {
		msg += fmt.Sprintf(" %v", v)
	}
	return msg
}
