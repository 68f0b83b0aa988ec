package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"shopauth/mail/mailtest"
)

// The whole recovery flow through the real HTTP handler and a real SMTP conversation.
func TestPasswordRecoveryOverHTTPAndSMTP(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	m := startServer(t, func(m *Main) {
		m.SMTPURL, m.MailLog = smtp.URL(), false
		m.RecoveryURL = "https://shop.example/reset?email={email}&hash={hash}"
	})
	u := m.URL()
	old := register(t, u, "jan@shop.cz", "password1")

	for _, email := range []string{"jan@shop.cz", "nobody@shop.cz"} {
		r := gql(t, u, `mutation ($e: String!) { RequestPasswordRecovery(email: $e) }`, map[string]any{"e": email}, nil)
		if string(r.Raw) != `{"data":{"RequestPasswordRecovery":"success"}}` {
			t.Fatalf("RequestPasswordRecovery(%s) = %s", email, r.Raw)
		}
	}
	msg := smtp.Next(t, 5*time.Second)
	parsed, err := mailtest.Parse(msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	link, _ := parsed.Link("https://shop.example/reset")
	lu, err := url.Parse(link)
	if err != nil || lu.Query().Get("email") != "jan@shop.cz" || len(lu.Query().Get("hash")) != 50 {
		t.Fatalf("link %q does not carry the email and a 50-character hash", link)
	}
	hash := lu.Query().Get("hash")
	// Only the known customer got a mail.
	select {
	case extra := <-smtp.Messages:
		t.Fatalf("a second mail was sent, to %v", extra.To)
	case <-time.After(300 * time.Millisecond):
	}

	recoverQ := `mutation ($e: String!, $h: String!, $p: Password!) { RecoverPassword(input: {email: $e, hash: $h, newPassword: $p}) { accessToken refreshToken } }`
	bad := strings.Repeat("a", 50)
	for _, tc := range []struct{ name, email, hash string }{
		{"wrong hash", "jan@shop.cz", bad},
		{"unknown email", "nobody@shop.cz", hash},
	} {
		r := gql(t, u, recoverQ, map[string]any{"e": tc.email, "h": tc.hash, "p": "password2"}, nil)
		r.WantError(t, 200, "validation", "validation")
		if !strings.Contains(string(r.Raw), `"input.hash":[{"message":"Provided hash is not valid."`) || strings.Contains(string(r.Raw), "input.email") {
			t.Fatalf("%s: %s", tc.name, r.Raw)
		}
	}
	pair := gql(t, u, recoverQ, map[string]any{"e": "jan@shop.cz", "h": hash, "p": "password2"}, nil).Token(t, "RecoverPassword")
	if me := gql(t, u, `{ currentCustomerUser { email } }`, nil, bearer(pair.AccessToken)); !strings.Contains(string(me.Raw), "jan@shop.cz") {
		t.Fatalf("the recovered session does not work: %s", me.Raw)
	}
	// Every earlier session ended; the hash is used up; the new password logs in.
	gql(t, u, `{ currentCustomerUser { email } }`, nil, bearer(old.AccessToken)).WantError(t, 401, "Token is not valid.", "invalid-token")
	refresh(t, u, old.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")
	gql(t, u, recoverQ, map[string]any{"e": "jan@shop.cz", "h": hash, "p": "password3"}, nil).WantError(t, 200, "validation", "validation")
	gql(t, u, `mutation { Login(input: {email: "jan@shop.cz", password: "password2"}) { accessToken refreshToken } }`, nil, nil).Token(t, "Login")
}
