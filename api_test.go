package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shopauth/internal/testkit"
)

// newTestMain is the one way the root tests build a Main: the server as `shopauth serve` builds it,
// on a free port and a temp database, logging nothing; not yet opened.
func newTestMain(tb testing.TB) *Main {
	tb.Helper()
	m := NewMain()
	m.Addr = "127.0.0.1:0"
	m.DBPath = filepath.Join(tb.TempDir(), "shop.db")
	m.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.Stdout = io.Discard
	m.MailLog = true // a test may serve under an https:// issuer; its mails go to the (discarded) log
	return m
}

// startServer runs the server exactly as `shopauth serve` does, on a free port and a temp database.
func startServer(t *testing.T, configure func(*Main)) *Main {
	t.Helper()
	m := newTestMain(t)
	if configure != nil {
		configure(m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		m.Close()
	})
	return m
}

// claimOrder returns the payload's claim names in the order they are written.
func claimOrder(t *testing.T, token string) []string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var names []string
	dec.Token() // {
	for dec.More() {
		name, _ := dec.Token()
		names = append(names, name.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// decode returns a compact JWS's header and claims, unverified.
func decode(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	return testkit.DecodeJWT(t, token)
}

func TestCoreWalk(t *testing.T) {
	m := startServer(t, func(m *Main) { m.Config.ReuseInterval = 0 })
	url := m.URL()

	pair := register(t, url, "no-reply@shopsys.com", "user1234")

	me := gql(t, url, `{ currentCustomerUser { uuid firstName lastName email telephone } }`, nil, bearer(pair.AccessToken))
	var cu struct {
		UUID, FirstName, LastName, Email string
		Telephone                        *string
	}
	json.Unmarshal(me.Data["currentCustomerUser"], &cu)
	if cu.FirstName != "Jaromír" || cu.LastName != "Jágr" || cu.Email != "no-reply@shopsys.com" || cu.Telephone == nil || *cu.Telephone != "605000123" {
		t.Fatalf("currentCustomerUser = %s", me.Raw)
	}
	// X-Auth-Token is accepted as well (Shopsys 13+).
	me2 := gql(t, url, `{ currentCustomerUser { email } }`, nil, map[string]string{"X-Auth-Token": "Bearer " + pair.AccessToken})
	if !strings.Contains(string(me2.Raw), "no-reply@shopsys.com") {
		t.Fatalf("X-Auth-Token: %s", me2.Raw)
	}

	next := refresh(t, url, pair.RefreshToken).Token(t, "RefreshTokens")
	_, oldClaims := decode(t, pair.RefreshToken)
	_, newClaims := decode(t, next.RefreshToken)
	if oldClaims["secretChain"] == newClaims["secretChain"] || oldClaims["deviceId"] != newClaims["deviceId"] {
		t.Fatalf("rotation: secretChain must change and deviceId stay: %v → %v", oldClaims, newClaims)
	}
	// The used token is refused (no grace here), and reuse ends the session.
	refresh(t, url, pair.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")
	refresh(t, url, next.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")

	// A new login, then Logout ends that session: its refresh token and access token die.
	login := gql(t, url, `mutation { Login(input: {email: "NO-REPLY@shopsys.com", password: "user1234"}) { accessToken refreshToken } }`, nil, nil).
		Token(t, "Login")
	out := gql(t, url, `mutation { Logout }`, nil, bearer(login.AccessToken))
	if string(out.Raw) != `{"data":{"Logout":true}}` {
		t.Fatalf("Logout = %s", out.Raw)
	}
	refresh(t, url, login.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")
	gql(t, url, `{ currentCustomerUser { email } }`, nil, bearer(login.AccessToken)).
		WantError(t, 401, "Token is not valid.", "invalid-token")
}

func TestSeedRequestByteForByte(t *testing.T) {
	m := startServer(t, nil)
	pair := register(t, m.URL(), "seed@shop.cz", "password1")
	body := `{"query":"mutation { RefreshTokens(input: { refreshToken: \"` + pair.RefreshToken + `\" }) { accessToken refreshToken } }"}`
	r := post(t, m.URL(), body, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("status %d, content type %q", r.Status, r.Header.Get("Content-Type"))
	}
	next := r.Token(t, "RefreshTokens")
	want := `{"data":{"RefreshTokens":{"accessToken":"` + next.AccessToken + `","refreshToken":"` + next.RefreshToken + `"}}}`
	if string(r.Raw) != want {
		t.Fatalf("body\n%s\nwant\n%s", r.Raw, want)
	}
}

func TestTokenClaimsAndLifetimes(t *testing.T) {
	m := startServer(t, func(m *Main) { m.Config.Issuer = "https://shop.example" })
	pair := register(t, m.URL(), "claims@shop.cz", "password1")
	for _, tc := range []struct {
		name   string
		token  string
		alg    string
		claims []string // in this order (contract §2)
		ttl    int64
	}{
		{"access", pair.AccessToken, "RS256", []string{"iss", "aud", "iat", "nbf", "exp", "deviceId", "uuid", "email", "fullName", "roles"}, 3600},
		{"refresh", pair.RefreshToken, "HS256", []string{"iss", "aud", "iat", "exp", "uuid", "secretChain", "deviceId"}, 1209600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header, claims := decode(t, tc.token)
			if header["alg"] != tc.alg || header["typ"] != "JWT" || header["kid"] == "" || len(header) != 3 {
				t.Errorf("header = %v, want alg %s", header, tc.alg)
			}
			if len(claims) != len(tc.claims) {
				t.Errorf("claims = %v, want exactly %v", claims, tc.claims)
			}
			for _, name := range tc.claims {
				if _, ok := claims[name]; !ok {
					t.Errorf("missing claim %q", name)
				}
			}
			if got := claimOrder(t, tc.token); strings.Join(got, " ") != strings.Join(tc.claims, " ") {
				t.Errorf("claim order %v, want %v", got, tc.claims)
			}
			if nbf, ok := claims["nbf"]; ok && nbf != claims["iat"] {
				t.Errorf("nbf %v, want iat %v", nbf, claims["iat"])
			}
			if claims["iss"] != "https://shop.example" || claims["aud"] != "https://shop.example" {
				t.Errorf("iss/aud = %v/%v", claims["iss"], claims["aud"])
			}
			iat, err1 := claims["iat"].(json.Number).Int64()
			exp, err2 := claims["exp"].(json.Number).Int64()
			if err1 != nil || err2 != nil || exp-iat != tc.ttl {
				t.Errorf("exp-iat = %d, want %d (iat and exp must be integers)", exp-iat, tc.ttl)
			}
			if d := time.Since(time.Unix(iat, 0)); d < -time.Second || d > time.Minute {
				t.Errorf("iat is %v away from now", d)
			}
		})
	}
	_, access := decode(t, pair.AccessToken)
	_, refreshClaims := decode(t, pair.RefreshToken)
	if access["fullName"] != "Jágr Jaromír" || access["email"] != "claims@shop.cz" {
		t.Errorf("fullName/email = %v/%v", access["fullName"], access["email"])
	}
	if roles, _ := access["roles"].([]any); len(roles) != 1 || roles[0] != "ROLE_LOGGED_CUSTOMER" {
		t.Errorf("roles = %v", access["roles"])
	}
	if access["deviceId"] != refreshClaims["deviceId"] || access["uuid"] != refreshClaims["uuid"] {
		t.Errorf("access and refresh disagree on deviceId/uuid")
	}
	secret, _ := refreshClaims["secretChain"].(string)
	if len(secret) != 40 || strings.Trim(secret, "0123456789abcdef") != "" {
		t.Errorf("secretChain %q is not 40 lowercase hex characters", secret)
	}
}

func TestErrorsAsTheContractSays(t *testing.T) {
	m := startServer(t, nil)
	url := m.URL()
	pair := register(t, url, "jan@shop.cz", "password1")
	long := strings.Repeat("x", 101)

	tests := []struct {
		name     string
		query    string
		header   map[string]string
		status   int
		message  string
		userCode string
		field    string // expected key in extensions.validation
		violates string // expected message there
	}{
		{"login unknown email", `mutation { Login(input: {email: "nobody@shop.cz", password: "password1"}) { accessToken } }`, nil, 200, "Log in failed.", "invalid-credentials", "", ""},
		{"login wrong password", `mutation { Login(input: {email: "jan@shop.cz", password: "password2"}) { accessToken } }`, nil, 200, "Log in failed.", "invalid-credentials", "", ""},
		{"refresh garbage", `mutation { RefreshTokens(input: {refreshToken: "abcd"}) { accessToken } }`, nil, 200, "Token is not valid.", "invalid-token", "", ""},
		{"access token as refresh token", `mutation { RefreshTokens(input: {refreshToken: "` + pair.AccessToken + `"}) { accessToken } }`, nil, 200, "Token is not valid.", "invalid-token", "", ""},
		{"refresh token as bearer", `{ currentCustomerUser { email } }`, bearer(pair.RefreshToken), 401, "Token is not valid.", "invalid-token", "", ""},
		{"bearer 123", `mutation { Login(input: {email: "jan@shop.cz", password: "password1"}) { accessToken } }`, bearer("123"), 401, "Token is not valid.", "invalid-token", "", ""},
		{"anonymous currentCustomerUser", `{ currentCustomerUser { email } }`, nil, 200, "No customer user is currently logged in.", "invalid-token", "", ""},
		{"non-Bearer header is anonymous", `{ currentCustomerUser { email } }`, map[string]string{"Authorization": "Basic Zm9vOmJhcg=="}, 200, "No customer user is currently logged in.", "invalid-token", "", ""},
		{"anonymous Logout", `mutation { Logout }`, nil, 200, "Token is not valid.", "invalid-token", "", ""},
		{"anonymous customerSessions", `{ customerSessions { deviceId } }`, nil, 200, "Token is not valid.", "invalid-token", "", ""},
		{"anonymous RevokeSessions", `mutation { RevokeSessions(scope: ALL) }`, nil, 200, "Token is not valid.", "invalid-token", "", ""},
		{"anonymous ChangePersonalData", `mutation { ChangePersonalData(input: {firstName: "A", lastName: "B"}) { email } }`, nil, 200, "Token is not valid.", "invalid-token", "", ""},
		{"anonymous ChangePassword", `mutation { ChangePassword(input: {email: "jan@shop.cz", oldPassword: "password1", newPassword: "password2"}) { email } }`, nil, 200, "Token is not valid.", "invalid-token", "", ""},
		{"change password wrong old", `mutation { ChangePassword(input: {email: "jan@shop.cz", oldPassword: "password9", newPassword: "password2"}) { email } }`, bearer(pair.AccessToken), 200, "This account doesn't exist or password is incorrect", "invalid-account-or-password", "", ""},
		{"change password wrong email", `mutation { ChangePassword(input: {email: "other@shop.cz", oldPassword: "password1", newPassword: "password2"}) { email } }`, bearer(pair.AccessToken), 200, "This account doesn't exist or password is incorrect", "invalid-account-or-password", "", ""},
		{"change password too short", `mutation { ChangePassword(input: {email: "jan@shop.cz", oldPassword: "password1", newPassword: "short"}) { email } }`, bearer(pair.AccessToken), 200, "validation", "validation", "input.newPassword", "New password must be at least 8 characters long"},
		{"register duplicate email", `mutation { Register(input: {firstName: "J", lastName: "N", email: "JAN@shop.cz", password: "password1"}) { accessToken } }`, nil, 200, "validation", "validation", "input.email", "This email is already registered"},
		{"register bad email", `mutation { Register(input: {firstName: "J", lastName: "N", email: "no-replyshopsys.com", password: "password1"}) { accessToken } }`, nil, 200, "validation", "validation", "input.email", "Please enter valid email"},
		{"register short password", `mutation { Register(input: {firstName: "J", lastName: "N", email: "a@shop.cz", password: "123"}) { accessToken } }`, nil, 200, "validation", "validation", "input.password", "Password must be at least 8 characters long"},
		{"register long first name", `mutation { Register(input: {firstName: "` + long + `", lastName: "N", email: "a@shop.cz", password: "password1"}) { accessToken } }`, nil, 200, "validation", "validation", "input.firstName", "First name cannot be longer than 100 characters"},
		{"register blank last name", `mutation { Register(input: {firstName: "J", lastName: " ", email: "a@shop.cz", password: "password1"}) { accessToken } }`, nil, 200, "validation", "validation", "input.lastName", "Please enter last name"},
		{"personal data long name", `mutation { ChangePersonalData(input: {firstName: "J", lastName: "` + long + `"}) { email } }`, bearer(pair.AccessToken), 200, "validation", "validation", "input.lastName", "Last name cannot be longer than 100 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gql(t, url, tt.query, nil, tt.header)
			r.WantError(t, tt.status, tt.message, tt.userCode)
			if tt.status == 200 && !strings.Contains(string(r.Raw), `"data":null`) {
				t.Errorf("want data: null, got %s", r.Raw)
			}
			if tt.status == 401 && r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
			if tt.field != "" {
				v, _ := r.Errors[0].Extensions["validation"].(map[string]any)
				list, _ := v[tt.field].([]any)
				if len(list) == 0 || list[0].(map[string]any)["message"] != tt.violates || list[0].(map[string]any)["code"] == "" {
					t.Errorf("validation = %v, want %s: %q with a code", v, tt.field, tt.violates)
				}
			}
		})
	}
	// The 401 body is exactly the contract's.
	r := gql(t, url, `{ __typename }`, nil, bearer("123"))
	if want := `{"errors":[{"message":"Token is not valid.","extensions":{"userCode":"invalid-token"}}]}`; string(r.Raw) != want {
		t.Errorf("401 body = %s, want %s", r.Raw, want)
	}
}

func TestAccountMutations(t *testing.T) {
	m := startServer(t, nil)
	url := m.URL()
	pair := register(t, url, "jan@shop.cz", "password1")
	second := gql(t, url, `mutation { Login(input: {email: "jan@shop.cz", password: "password1"}) { accessToken refreshToken } }`, nil, nil).Token(t, "Login")

	list := gql(t, url, `{ customerSessions { deviceId createdAt lastRefreshedAt expiresAt current } }`, nil, bearer(pair.AccessToken))
	var sessions []struct {
		DeviceID        string
		CreatedAt       string
		LastRefreshedAt *string
		ExpiresAt       string
		Current         bool
	}
	json.Unmarshal(list.Data["customerSessions"], &sessions)
	if len(sessions) != 2 || sessions[0].Current == sessions[1].Current || sessions[0].LastRefreshedAt != nil {
		t.Fatalf("customerSessions = %s", list.Raw)
	}

	data := gql(t, url, `mutation { ChangePersonalData(input: {firstName: "John", lastName: "Doe", telephone: "123456321"}) { firstName lastName email telephone } }`, nil, bearer(pair.AccessToken))
	if want := `{"data":{"ChangePersonalData":{"firstName":"John","lastName":"Doe","email":"jan@shop.cz","telephone":"123456321"}}}`; string(data.Raw) != want {
		t.Fatalf("ChangePersonalData = %s", data.Raw)
	}

	revoked := gql(t, url, `mutation { RevokeSessions(scope: OTHERS) }`, nil, bearer(pair.AccessToken))
	if string(revoked.Raw) != `{"data":{"RevokeSessions":1}}` {
		t.Fatalf("RevokeSessions = %s", revoked.Raw)
	}
	gql(t, url, `{ currentCustomerUser { email } }`, nil, bearer(second.AccessToken)).WantError(t, 401, "Token is not valid.", "invalid-token")

	changed := gql(t, url, `mutation { ChangePassword(input: {email: "jan@shop.cz", oldPassword: "password1", newPassword: "password2"}) { email firstName } }`, nil, bearer(pair.AccessToken))
	if string(changed.Raw) != `{"data":{"ChangePassword":{"email":"jan@shop.cz","firstName":"John"}}}` {
		t.Fatalf("ChangePassword = %s", changed.Raw)
	}
	// Every session ended, the caller's too.
	gql(t, url, `{ currentCustomerUser { email } }`, nil, bearer(pair.AccessToken)).WantError(t, 401, "Token is not valid.", "invalid-token")
	refresh(t, url, pair.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")
	gql(t, url, `mutation { Login(input: {email: "jan@shop.cz", password: "password1"}) { accessToken } }`, nil, nil).
		WantError(t, 200, "Log in failed.", "invalid-credentials")
	gql(t, url, `mutation { Login(input: {email: "jan@shop.cz", password: "password2"}) { accessToken refreshToken } }`, nil, nil).Token(t, "Login")
}

// gqlResponse is testkit's GraphQL answer, with the readers some tests add (admin_test.go,
// social_flow_test.go).
type gqlResponse struct{ testkit.Response }

func post(t *testing.T, url, body string, header map[string]string) gqlResponse {
	t.Helper()
	return gqlResponse{testkit.Post(t, url, body, header)}
}

func gql(t *testing.T, url, query string, vars map[string]any, header map[string]string) gqlResponse {
	t.Helper()
	return gqlResponse{testkit.GQL(t, url, query, vars, header)}
}

func refresh(t *testing.T, url, refreshToken string) gqlResponse {
	t.Helper()
	return gqlResponse{testkit.Refresh(t, url, refreshToken)}
}

func login(t *testing.T, url, email, password string) gqlResponse {
	t.Helper()
	return gqlResponse{testkit.Login(t, url, email, password)}
}

var (
	bearer   = testkit.Bearer
	register = testkit.Register
)

// startAtIssuer starts the server with its issuer equal to the URL it listens on, as a deployment
// has it (discovery clients and social login redirects compare the two).
func startAtIssuer(t *testing.T, configure func(*Main)) *Main {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, func(m *Main) {
		m.Listener, m.Addr = l, l.Addr().String()
		m.Config.Issuer = "http://" + m.Addr
		if configure != nil {
			configure(m)
		}
	})
}
