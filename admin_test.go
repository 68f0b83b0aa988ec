package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/internal/testkit"
	"shopauth/mail/mailtest"
)

// adminEnv is a server with the admin console on a listener of its own, browsed at
// http://localhost:PORT as an operator's browser would (the console's RP ID is localhost).
type adminEnv struct {
	m     *Main
	admin string // http://localhost:PORT
	clock *testkit.Clock
	smtp  *mailtest.Server
}

func startAdmin(t *testing.T, configure ...func(*Main)) *adminEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	smtp := mailtest.Start(t, mailtest.Options{})
	m := startServer(t, func(m *Main) {
		m.Admin.Addr, m.Admin.Listener = ln.Addr().String(), ln
		m.SMTPURL, m.MailLog = smtp.URL(), false
		for _, f := range configure {
			f(m)
		}
	})
	clock := testkit.NewClock(time.Now())
	m.Service.Now = clock.Now
	return &adminEnv{m: m, admin: "http://localhost:" + port, clock: clock, smtp: smtp}
}

// operator is a console operator's browser: a cookie jar and a passkey authenticator.
type operator struct {
	env    *adminEnv
	client *http.Client
	keys   *testkit.Authenticator
}

func (e *adminEnv) newBrowser() *operator {
	jar, _ := cookiejar.New(nil)
	return &operator{env: e, client: &http.Client{Jar: jar}, keys: &testkit.Authenticator{Origin: e.admin}}
}

// call posts a console API request as the page does (JSON and X-Requested-With), with extra headers.
func (o *operator) call(t *testing.T, query string, vars map[string]any, header ...string) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	h := append([]string{"Content-Type", "application/json", "X-Requested-With", "shopauth-admin"}, header...)
	return o.raw(t, http.MethodPost, o.env.admin+"/admin/graphql", string(body), h...)
}

func (o *operator) raw(t *testing.T, method, url, body string, header ...string) gqlResponse {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	res, err := o.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := gqlResponse{testkit.Response{Status: res.StatusCode, Header: res.Header, Raw: raw}}
	json.Unmarshal(raw, &r)
	return r
}

func (r gqlResponse) ok(t *testing.T) gqlResponse {
	t.Helper()
	if r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("want data, got %d %s", r.Status, r.Raw)
	}
	return r
}

func (r gqlResponse) field(t *testing.T, name string, into any) {
	t.Helper()
	if err := json.Unmarshal(r.Data[name], into); err != nil {
		t.Fatalf("%s: %v in %s", name, err, r.Raw)
	}
}

// enrol adds the operator NAME as `operators add` does and registers a passkey from the link.
func (o *operator) enrol(t *testing.T, name string) {
	t.Helper()
	e, err := o.env.m.Service.AddConsoleOperator(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	var opts struct{ Options, Operator string }
	o.call(t, `mutation ($t: String!) { EnrolOptions(token: $t) { operator options } }`, map[string]any{"t": e.Secret}).ok(t).
		field(t, "EnrolOptions", &opts)
	if opts.Operator != name {
		t.Fatalf("EnrolOptions names %q, want %q", opts.Operator, name)
	}
	cred, err := o.keys.Create(opts.Options)
	if err != nil {
		t.Fatal(err)
	}
	o.call(t, `mutation ($i: EnrolInput!) { Enrol(input: $i) { name } }`,
		map[string]any{"i": map[string]any{"token": e.Secret, "credential": cred}}).ok(t)
}

// login logs the operator in with their passkey.
func (o *operator) login(t *testing.T) gqlResponse {
	t.Helper()
	var options string
	o.call(t, `mutation { LoginOptions }`, nil).ok(t).field(t, "LoginOptions", &options)
	cred, err := o.keys.Get(options)
	if err != nil {
		t.Fatal(err)
	}
	return o.call(t, `mutation ($c: String!) { Login(input: {credential: $c}) { name } }`, map[string]any{"c": cred})
}

func (o *operator) wantLoginRequired(t *testing.T, what string) {
	t.Helper()
	r := o.call(t, `{ me { name } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["userCode"] != auth.EOperatorLoginRequired {
		t.Fatalf("%s: want operator-login-required, got %d %s", what, r.Status, r.Raw)
	}
}

// TestAdminConsoleOnlyOnItsListener: the public listener answers 404 for the console's page and
// API; the admin listener serves the page under the strict CSP.
func TestAdminConsoleOnlyOnItsListener(t *testing.T) {
	e := startAdmin(t)
	b := e.newBrowser()
	for _, c := range []struct{ method, path string }{
		{"GET", "/admin"}, {"GET", "/admin/admin.js"}, {"POST", "/admin/graphql"}, {"GET", "/admin/graphql"},
	} {
		r := b.raw(t, c.method, e.m.URL()+c.path, `{"query":"{ me { name } }"}`,
			"Content-Type", "application/json", "X-Requested-With", "x")
		if r.Status != http.StatusNotFound {
			t.Errorf("public %s %s: %d, want 404", c.method, c.path, r.Status)
		}
	}
	page := b.raw(t, "GET", e.admin+"/admin", "")
	csp := page.Header.Get("Content-Security-Policy")
	if page.Status != 200 || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") ||
		!strings.Contains(string(page.Raw), "/admin/admin.js") {
		t.Errorf("admin page: %d, CSP %q", page.Status, csp)
	}
	// The public API knows nothing of the console's schema.
	r := gql(t, e.m.URL(), `{ customers { total } }`, nil, nil)
	if len(r.Errors) == 0 {
		t.Errorf("the public schema answered the console's query: %s", r.Raw)
	}
}

// TestAdminAPIRefusesWithoutOperator: every console field but the enrolment and login ones
// answers operator-login-required without a session, with a made-up cookie, and changes nothing.
func TestAdminAPIRefusesWithoutOperator(t *testing.T) {
	e := startAdmin(t)
	victim := register(t, e.m.URL(), "victim@shop.cz", "password1")
	c, _ := e.m.Service.ShowCustomer(context.Background(), "victim@shop.cz")
	calls := map[string]string{
		"me":               `{ me { name } }`,
		"customers":        `{ customers { total } }`,
		"customer":         `{ customer(uuid: "` + c.UUID + `") { email } }`,
		"auditLog":         `{ auditLog { reason } }`,
		"keys":             `{ keys { id } }`,
		"summary":          `{ summary { issuer } }`,
		"Logout":           `mutation { Logout }`,
		"EndSession":       `mutation { EndSession(input: {uuid: "` + c.UUID + `", deviceId: "` + c.SessionList[0].DeviceID + `"}) }`,
		"EndSessions":      `mutation { EndSessions(uuid: "` + c.UUID + `") }`,
		"SendRecoveryMail": `mutation { SendRecoveryMail(uuid: "` + c.UUID + `") }`,
		"DeleteCustomer":   `mutation { DeleteCustomer(input: {uuid: "` + c.UUID + `", confirmEmail: "victim@shop.cz"}) }`,
		"RotateKeys":       `mutation { RotateKeys { id } }`,
		"SendTestMail":     `mutation { SendTestMail(to: "x@shop.cz") }`,
		"LoginAsCustomer":  `mutation { LoginAsCustomer(uuid: "` + c.UUID + `") }`,
	}
	// Every field of the schema is either here or one of the ways in: a new field must be added.
	open := map[string]bool{"EnrolOptions": true, "Enrol": true, "LoginOptions": true, "Login": true}
	b := e.newBrowser()
	var schema struct {
		QueryType, MutationType struct{ Fields []struct{ Name string } }
	}
	b.call(t, `{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`, nil).ok(t).field(t, "__schema", &schema)
	for _, f := range append(schema.QueryType.Fields, schema.MutationType.Fields...) {
		if _, ok := calls[f.Name]; !ok && !open[f.Name] {
			t.Errorf("admin field %s is not checked for an operator here", f.Name)
		}
	}
	keysBefore := len(e.m.Service.Keys())
	for _, cookie := range []string{"", "made-up-secret"} {
		for name, q := range calls {
			t.Run(fmt.Sprintf("%s cookie=%q", name, cookie), func(t *testing.T) {
				r := b.call(t, q, nil, "Cookie", "shopauth_admin="+cookie)
				if len(r.Errors) == 0 || r.Errors[0].Extensions["userCode"] != auth.EOperatorLoginRequired {
					t.Fatalf("want operator-login-required, got %d %s", r.Status, r.Raw)
				}
			})
		}
	}
	wantAuthenticated(t, e.m.URL(), victim.AccessToken, true)
	if _, err := e.m.Service.ShowCustomer(context.Background(), "victim@shop.cz"); err != nil {
		t.Errorf("the customer is gone: %v", err)
	}
	if n := len(e.m.Service.Keys()); n != keysBefore {
		t.Errorf("keys %d -> %d: a refused rotation rotated", keysBefore, n)
	}
}

// wantAuthenticated checks whether the public API takes the access token.
func wantAuthenticated(t *testing.T, base, access string, want bool) {
	t.Helper()
	r := gql(t, base, `{ currentCustomerUser { email } }`, nil, bearer(access))
	if got := r.Status == 200 && len(r.Errors) == 0; got != want {
		t.Fatalf("access token accepted = %v, want %v: %d %s", got, want, r.Status, r.Raw)
	}
}

// TestAdminAPICrossSiteRefused: what another site's page can send (a form post, a fetch without
// the header, a fetch from another origin) is refused before anything runs.
func TestAdminAPICrossSiteRefused(t *testing.T) {
	e := startAdmin(t)
	b := e.newBrowser()
	b.enrol(t, "ana")
	customer := register(t, e.m.URL(), "kept@shop.cz", "password1")
	c, _ := e.m.Service.ShowCustomer(context.Background(), "kept@shop.cz")
	form := url.Values{"query": {`mutation { EndSessions(uuid: "` + c.UUID + `") }`}}.Encode()
	jsonBody := `{"query":"mutation { EndSessions(uuid: \"` + c.UUID + `\") }"}`
	cases := []struct {
		name   string
		method string
		body   string
		header []string
		status int
	}{
		{"a cross-site form post", "POST", form, []string{"Content-Type", "application/x-www-form-urlencoded",
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "X-Requested-With", ""}, 403},
		{"a form post without the header", "POST", form, []string{"Content-Type", "application/x-www-form-urlencoded", "X-Requested-With", ""}, 403},
		{"JSON without the header", "POST", jsonBody, []string{"Content-Type", "application/json", "X-Requested-With", ""}, 403},
		{"JSON with the header from another origin", "POST", jsonBody, []string{"Content-Type", "application/json",
			"X-Requested-With", "x", "Origin", "https://evil.example"}, 403},
		{"JSON with the header, a cross-site fetch", "POST", jsonBody, []string{"Content-Type", "application/json",
			"X-Requested-With", "x", "Sec-Fetch-Site", "cross-site"}, 403},
		{"text/plain with the header", "POST", jsonBody, []string{"Content-Type", "text/plain", "X-Requested-With", "x"}, 415},
		{"a GET", "GET", "", []string{"X-Requested-With", "x"}, 405},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.raw(t, c.method, e.admin+"/admin/graphql", c.body, c.header...)
			if r.Status != c.status || !strings.Contains(string(r.Raw), `"errors"`) {
				t.Fatalf("%d %s, want %d with a JSON error", r.Status, r.Raw, c.status)
			}
		})
	}
	wantAuthenticated(t, e.m.URL(), customer.AccessToken, true)
	// The same request as the page sends it works: the refusals above were the guard's.
	same := b.call(t, `mutation ($u: Uuid!) { EndSessions(uuid: $u) }`, map[string]any{"u": c.UUID}, "Origin", e.admin,
		"Sec-Fetch-Site", "same-origin").ok(t)
	if string(same.Data["EndSessions"]) != "1" {
		t.Fatalf("EndSessions = %s, want 1", same.Raw)
	}
	wantAuthenticated(t, e.m.URL(), customer.AccessToken, false)
}

// TestAdminOperatorSessions: enrol from a one-time link, log in with the passkey, the cookie's
// attributes, 8 h at most, 1 h idle, and a removed operator's session ends at once.
func TestAdminOperatorSessions(t *testing.T) {
	e := startAdmin(t)
	ana := e.newBrowser()
	ana.enrol(t, "ana")

	var me struct{ Name string }
	ana.call(t, `{ me { name } }`, nil).ok(t).field(t, "me", &me)
	if me.Name != "ana" {
		t.Fatalf("me = %+v after enrolling", me)
	}
	login := ana.login(t).ok(t)
	setCookie := login.Header.Get("Set-Cookie")
	for _, attr := range []string{"shopauth_admin=", "Path=/admin", "HttpOnly", "SameSite=Strict", "Max-Age=28800"} {
		if !strings.Contains(setCookie, attr) {
			t.Errorf("Set-Cookie %q lacks %s", setCookie, attr)
		}
	}

	t.Run("the enrolment link is used up", func(t *testing.T) {
		e2, _ := e.m.Service.AddConsoleOperator(context.Background(), "bob")
		bob := e.newBrowser()
		var opts struct{ Options string }
		bob.call(t, `mutation ($t: String!) { EnrolOptions(token: $t) { options } }`, map[string]any{"t": e2.Secret}).ok(t).
			field(t, "EnrolOptions", &opts)
		cred, _ := bob.keys.Create(opts.Options)
		enrol := `mutation ($i: EnrolInput!) { Enrol(input: $i) { name } }`
		bob.call(t, enrol, map[string]any{"i": map[string]any{"token": e2.Secret, "credential": cred}}).ok(t)
		again := bob.call(t, enrol, map[string]any{"i": map[string]any{"token": e2.Secret, "credential": cred}})
		again.WantError(t, 200, auth.MsgEnrolLinkInvalid, auth.EInvalidCredentials)
		// An expired link: 15 minutes.
		e3, _ := e.m.Service.AddConsoleOperator(context.Background(), "cyril")
		e.clock.Advance(auth.ConsoleEnrolTTL)
		bob.call(t, `mutation ($t: String!) { EnrolOptions(token: $t) { options } }`, map[string]any{"t": e3.Secret}).
			WantError(t, 200, auth.MsgEnrolLinkInvalid, auth.EInvalidCredentials)
	})

	t.Run("a customer's passkey does not open the console", func(t *testing.T) {
		// Both relying parties are localhost here: the customer's passkey is offered, and refused.
		_, port, _ := net.SplitHostPort(e.m.Listener.Addr().String())
		pair := register(t, e.m.URL(), "customer@shop.cz", "password1")
		keys := &testkit.Authenticator{Origin: "http://localhost:" + port}
		var opts string
		json.Unmarshal(gql(t, e.m.URL(), `mutation { PasskeyRegistrationOptions }`, nil, bearer(pair.AccessToken)).
			Data["PasskeyRegistrationOptions"], &opts)
		cred, err := keys.Create(opts)
		if err != nil {
			t.Fatal(err)
		}
		gql(t, e.m.URL(), `mutation ($c: String!) { RegisterPasskey(input: {credential: $c}) { id } }`,
			map[string]any{"c": cred}, bearer(pair.AccessToken))
		customer := e.newBrowser()
		customer.keys = keys
		keys.Origin = e.admin
		customer.login(t).WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
	})

	t.Run("idle for an hour", func(t *testing.T) {
		ana.login(t).ok(t)
		e.clock.Advance(auth.ConsoleIdleTimeout - time.Second)
		ana.call(t, `{ me { name } }`, nil).ok(t)
		e.clock.Advance(auth.ConsoleIdleTimeout - time.Second) // used a second ago... an hour minus one
		ana.call(t, `{ me { name } }`, nil).ok(t)
		e.clock.Advance(auth.ConsoleIdleTimeout)
		ana.wantLoginRequired(t, "idle for an hour")
	})

	t.Run("eight hours at most", func(t *testing.T) {
		ana.login(t).ok(t)
		for range 9 {
			e.clock.Advance(50 * time.Minute)
			ana.call(t, `{ me { name } }`, nil).ok(t) // 7 h 30 min of use, never idle
		}
		e.clock.Advance(50 * time.Minute)
		ana.wantLoginRequired(t, "after 8 h 20 min of use")
	})

	t.Run("a removed operator", func(t *testing.T) {
		ana.login(t).ok(t)
		r, err := e.m.Service.RemoveConsoleOperator(context.Background(), "ana")
		if err != nil || r.ConsoleSessions < 1 {
			t.Fatalf("RemoveConsoleOperator = %+v, %v; want her sessions ended", r, err)
		}
		ana.wantLoginRequired(t, "removed")
		var options string
		ana.call(t, `mutation { LoginOptions }`, nil).ok(t).field(t, "LoginOptions", &options)
		cred, _ := ana.keys.Get(options)
		ana.call(t, `mutation ($c: String!) { Login(input: {credential: $c}) { name } }`, map[string]any{"c": cred}).
			WantError(t, 200, auth.MsgLoginFailed, auth.EInvalidCredentials)
	})
}

// TestAdminActionsAudited: each console action does what the command line does and is in the
// audit log with the operator's name; ending a session kills the customer's token at once.
func TestAdminActionsAudited(t *testing.T) {
	e := startAdmin(t)
	ana := e.newBrowser()
	ana.enrol(t, "ana")
	first := register(t, e.m.URL(), "jana@shop.cz", "password1")
	second := gql(t, e.m.URL(), `mutation { Login(input: {email: "jana@shop.cz", password: "password1"}) { accessToken refreshToken } }`, nil, nil).Token(t, "Login")
	var page struct {
		Total     int
		Customers []struct{ UUID, Email string }
	}
	ana.call(t, `{ customers(search: "JANA") { total customers { uuid email } } }`, nil).ok(t).field(t, "customers", &page)
	if page.Total != 1 || page.Customers[0].Email != "jana@shop.cz" {
		t.Fatalf("search: %+v", page)
	}
	uuid := page.Customers[0].UUID
	var detail struct {
		EmailVerified, HasPassword bool
		SocialIdentities           []struct{ Type string }
		Sessions                   []struct{ DeviceID string }
	}
	ana.call(t, `query ($u: Uuid!) { customer(uuid: $u) { emailVerified hasPassword socialIdentities { type } sessions { deviceId } passkeys { id } audit { reason } } }`,
		map[string]any{"u": uuid}).ok(t).field(t, "customer", &detail)
	if len(detail.Sessions) != 2 || detail.EmailVerified || !detail.HasPassword || len(detail.SocialIdentities) != 0 {
		t.Fatalf("customer: %+v, want two sessions, a password, an unverified email, no social accounts", detail)
	}
	_, firstClaims := testkit.DecodeJWT(t, first.AccessToken)
	ana.call(t, `mutation ($i: EndSessionInput!) { EndSession(input: $i) }`,
		map[string]any{"i": map[string]any{"uuid": uuid, "deviceId": firstClaims["deviceId"]}}).ok(t)
	wantAuthenticated(t, e.m.URL(), first.AccessToken, false)
	wantAuthenticated(t, e.m.URL(), second.AccessToken, true)

	ana.call(t, `mutation ($u: Uuid!) { SendRecoveryMail(uuid: $u) }`, map[string]any{"u": uuid}).ok(t)
	if msg := e.smtp.Next(t, 5*time.Second); len(msg.To) != 1 || msg.To[0] != "jana@shop.cz" {
		t.Errorf("recovery mail went to %v", msg.To)
	}
	ana.call(t, `mutation { RotateKeys { id pending } }`, nil).ok(t)
	ana.call(t, `mutation { SendTestMail(to: "ops@shop.cz") }`, nil).ok(t)
	if msg := e.smtp.Next(t, 5*time.Second); len(msg.To) != 1 || msg.To[0] != "ops@shop.cz" {
		t.Errorf("test mail went to %v", msg.To)
	}
	ana.call(t, `mutation ($u: Uuid!) { DeleteCustomer(input: {uuid: $u, confirmEmail: "someone@else.cz"}) }`, map[string]any{"u": uuid}).
		WantError(t, 200, auth.MsgValidation, auth.EValidation)
	wantAuthenticated(t, e.m.URL(), second.AccessToken, true)
	ana.call(t, `mutation ($u: Uuid!) { DeleteCustomer(input: {uuid: $u, confirmEmail: " Jana@Shop.cz "}) }`, map[string]any{"u": uuid}).ok(t)
	wantAuthenticated(t, e.m.URL(), second.AccessToken, false)

	var events []struct{ Reason, Operator, CustomerUUID string }
	ana.call(t, `{ auditLog(filter: {since: "2000-01-01"}) { reason operator customerUuid } }`, nil).ok(t).field(t, "auditLog", &events)
	for _, want := range []auth.AuditReason{auth.AuditConsoleSessionEnded, auth.AuditConsoleRecovery, auth.AuditConsoleKeysRotated,
		auth.AuditConsoleTestMail, auth.AuditOperatorDelete, auth.AuditConsoleLogin, auth.AuditConsolePasskeyAdded} {
		found := false
		for _, ev := range events {
			if strings.HasPrefix(ev.Reason, string(want)) && ev.Operator == "ana" {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit event %q by ana in %+v", want, events)
		}
	}
	var filtered []struct{ Reason string }
	ana.call(t, `{ auditLog(filter: {event: "recovery mail"}) { reason } }`, nil).ok(t).field(t, "auditLog", &filtered)
	if len(filtered) != 1 || filtered[0].Reason != string(auth.AuditConsoleRecovery) {
		t.Errorf("event filter: %+v", filtered)
	}
	ana.call(t, `{ auditLog(filter: {since: "yesterday"}) { reason } }`, nil).WantError(t, 200, auth.MsgValidation, auth.EValidation)

	// The operator's recovery mails come out of the customer's budget: 3 in 15 minutes.
	own := register(t, e.m.URL(), "budget@shop.cz", "password1")
	b, _ := e.m.Service.ShowCustomer(context.Background(), "budget@shop.cz")
	for range 3 {
		ana.call(t, `mutation ($u: Uuid!) { SendRecoveryMail(uuid: $u) }`, map[string]any{"u": b.UUID}).ok(t)
	}
	ana.call(t, `mutation ($u: Uuid!) { SendRecoveryMail(uuid: $u) }`, map[string]any{"u": b.UUID}).
		WantError(t, 200, auth.MsgRecoveryMailsSpent, auth.ETooManyLoginAttempts)

	// A verified email and a linked social account show on the customer's page.
	err := e.m.DB.Update(context.Background(), func(tx auth.Tx) error {
		c, err := tx.CustomerByEmail("budget@shop.cz")
		if err != nil {
			return err
		}
		c.EmailVerified = true
		if err := tx.UpdateCustomer(c); err != nil {
			return err
		}
		return tx.CreateSocialIdentity(auth.SocialIdentity{Type: "google", Subject: "1234", CustomerID: c.ID,
			Email: "budget@gmail.com", LinkedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	var linked struct {
		EmailVerified    bool
		SocialIdentities []struct{ Type, Subject, Email string }
	}
	ana.call(t, `query ($u: Uuid!) { customer(uuid: $u) { emailVerified socialIdentities { type subject email } } }`,
		map[string]any{"u": b.UUID}).ok(t).field(t, "customer", &linked)
	if !linked.EmailVerified || len(linked.SocialIdentities) != 1 || linked.SocialIdentities[0].Email != "budget@gmail.com" {
		t.Errorf("customer page: %+v, want the verified email and the google account", linked)
	}

	// Log in as the customer: the hand-off's session carries the operator's UUID, and the
	// console's customer page shows how it began.
	var meUUID struct{ UUID string }
	ana.call(t, `{ me { uuid } }`, nil).ok(t).field(t, "me", &meUUID)
	var link string
	ana.call(t, `mutation ($u: Uuid!) { LoginAsCustomer(uuid: $u) }`, map[string]any{"u": b.UUID}).ok(t).field(t, "LoginAsCustomer", &link)
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, e.m.Config.Issuer+"/account?") {
		t.Fatalf("LoginAsCustomer = %q, want the default redirect page", link)
	}
	as, err := e.m.Service.LoginWithSocialCode(context.Background(), u.Query().Get("code"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, claims := testkit.DecodeJWT(t, as.Tokens.AccessToken); claims["administratorUuid"] != meUUID.UUID || claims["email"] != "budget@shop.cz" {
		t.Errorf("the hand-off's access token: %v, want administratorUuid %s", claims, meUUID.UUID)
	}
	var budget struct {
		Sessions []struct{ LoginType, AdministratorUUID string }
		Audit    []struct{ Reason, Operator string }
	}
	ana.call(t, `query ($u: Uuid!) { customer(uuid: $u) { sessions { loginType administratorUuid } audit { reason operator } } }`,
		map[string]any{"u": b.UUID}).ok(t).field(t, "customer", &budget)
	kinds := map[string]string{}
	for _, s := range budget.Sessions {
		kinds[s.LoginType] = s.AdministratorUUID
	}
	if len(budget.Sessions) != 2 || kinds["admin"] != meUUID.UUID || kinds["web"] != "" {
		t.Errorf("sessions: %+v, want the operator's (with their UUID) and the customer's own", budget.Sessions)
	}
	if len(budget.Audit) == 0 || budget.Audit[0].Reason != string(auth.AuditImpersonation) || budget.Audit[0].Operator != "ana" {
		t.Errorf("audit: %+v", budget.Audit)
	}
	// The customer sees the operator's session among their own (as /account lists them).
	listed := gql(t, e.m.URL(), `{ customerSessions { current loginInfo { loginType } } }`, nil, bearer(own.AccessToken))
	if !strings.Contains(string(listed.Raw), `"loginType":"admin"`) || !strings.Contains(string(listed.Raw), `"loginType":"web"`) {
		t.Errorf("the customer's sessions: %s", listed.Raw)
	}

	var summary struct {
		Health, Issuer, Store string
		SchemaVersion         int
		Settings              []struct{ Name, Value string }
	}
	sum := ana.call(t, `{ summary { health issuer store schemaVersion settings { name value } } }`, nil).ok(t)
	sum.field(t, "summary", &summary)
	if summary.Health != "ok" || summary.Issuer != e.m.Config.Issuer || !strings.HasPrefix(summary.Store, "SQLite") ||
		summary.SchemaVersion < 1 || strings.Contains(string(sum.Raw), "chain_key") {
		t.Errorf("summary: %s", sum.Raw)
	}
}

// TestAdminSummaryHidesSecrets: the console's settings summary names the mail server and the
// database without their passwords.
func TestAdminSummaryHidesSecrets(t *testing.T) {
	m := NewMain()
	m.SMTPURL, m.MailLog = "smtp://shop:mail-s3cret@mail.shop.cz:587", false
	m.DBPath = "postgres://shopauth:db-s3cret@db.shop.cz/shopauth?password=db-s3cret2"
	info := m.adminInfo()
	all := info.Store + info.Version
	for _, s := range info.Settings {
		all += " " + s.N + "=" + s.V
	}
	for _, secret := range []string{"mail-s3cret", "db-s3cret", "db-s3cret2"} {
		if strings.Contains(all, secret) {
			t.Errorf("the summary shows %s: %s", secret, all)
		}
	}
	if !strings.Contains(all, "mail.shop.cz:587") || !strings.Contains(all, "db.shop.cz") {
		t.Errorf("the summary does not name the mail server and the database: %s", all)
	}
}

// TestAdminPasskeyRecordIsBounded: an operator's passkey is stored as a customer's is, without the
// client data and attestation object a client chose the size of, both at enrolment and when a
// login updates it.
func TestAdminPasskeyRecordIsBounded(t *testing.T) {
	e := startAdmin(t)
	ana := e.newBrowser()
	ana.keys.ClientDataPadding = 3000
	ana.enrol(t, "ana")
	stored := func(when string) {
		t.Helper()
		ids := ana.keys.CredentialIDs()
		if len(ids) != 1 {
			t.Fatalf("%d credentials", len(ids))
		}
		id, err := base64.RawURLEncoding.DecodeString(ids[0])
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := e.m.DB.ConsolePasskeyOperator(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Credential) > 1500 || strings.Contains(string(p.Credential), "clientDataJSON") {
			t.Errorf("%s: the stored record is %d bytes: %s", when, len(p.Credential), p.Credential)
		}
	}
	stored("after enrolment")
	ana.login(t).ok(t)
	stored("after a login")
}
