package auth_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"shopauth/auth"
)

// verifyMailer records verification links.
type verifyMailer struct{ links chan string }

func (m verifyMailer) SendRecovery(ctx context.Context, c auth.Customer, hash string) error {
	return nil
}
func (m verifyMailer) SendVerification(ctx context.Context, c auth.Customer, link string) error {
	m.links <- link
	return nil
}

func TestEmailVerification(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mailer := verifyMailer{links: make(chan string, 8)}
	e.svc.Mailer = mailer
	p := e.mustAuthenticate(e.register("jan@shop.cz").AccessToken)
	if err := e.svc.RequestEmailVerification(ctx, p); err != nil {
		t.Fatal(err)
	}
	link := <-mailer.links
	u, err := url.Parse(link)
	if err != nil || u.Path != "/account" || u.Query().Get("email") != "jan@shop.cz" || len(u.Query().Get("verify")) != 50 {
		t.Fatalf("the default link %s is not ISSUER/account?verify={hash}&email={email}", link)
	}
	hash := u.Query().Get("verify")
	for name, args := range map[string][2]string{
		"wrong hash":    {"jan@shop.cz", hash[:49] + "x"},
		"another email": {"eva@shop.cz", hash},
		"short hash":    {"jan@shop.cz", "abc"},
		"not an email":  {"jan", hash},
	} {
		if err := e.svc.VerifyEmail(ctx, args[0], args[1]); auth.ErrorCode(err) != auth.EValidation {
			t.Errorf("%s: %v, want validation", name, err)
		}
	}
	if e.customer("jan@shop.cz").EmailVerified {
		t.Fatal("verified by a wrong hash")
	}
	if err := e.svc.VerifyEmail(ctx, "JAN@shop.cz", hash); err != nil {
		t.Fatalf("VerifyEmail: %v", err)
	}
	if !e.customer("jan@shop.cz").EmailVerified {
		t.Error("not verified")
	}
	if err := e.svc.VerifyEmail(ctx, "jan@shop.cz", hash); auth.ErrorCode(err) != auth.EValidation {
		t.Errorf("a used hash: %v", err)
	}
	// Verified already: no mail.
	if err := e.svc.RequestEmailVerification(ctx, e.mustAuthenticate(e.login("jan@shop.cz").AccessToken)); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-mailer.links:
		t.Errorf("a verified customer was mailed %s", l)
	default:
	}
	// At most 3 mails per customer per 15 minutes, as recovery mails: the 4th is answered alike
	// and mails nothing.
	eva := e.mustAuthenticate(e.register("eva@shop.cz").AccessToken)
	for i := range 4 {
		if err := e.svc.RequestEmailVerification(ctx, eva); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := e.svc.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(mailer.links); n != 3 {
		t.Errorf("4 requests mailed %d links, want 3", n)
	}
	if err := e.svc.RequestEmailVerification(ctx, nil); auth.ErrorCode(err) != auth.EInvalidToken {
		t.Errorf("anonymous: %v", err)
	}
}

func TestEmailVerificationExpires(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *auth.Config) { c.VerifyURL = "https://shop.cz/verify/{hash}?e={email}" })
	mailer := verifyMailer{links: make(chan string, 4)}
	e.svc.Mailer = mailer
	p := e.mustAuthenticate(e.register("jan@shop.cz").AccessToken)
	if err := e.svc.RequestEmailVerification(ctx, p); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(<-mailer.links)
	if u.Host != "shop.cz" || len(u.Path) != len("/verify/")+50 || u.Query().Get("e") != "jan@shop.cz" {
		t.Fatalf("--verify-url not followed: %s", u)
	}
	e.advance(24 * time.Hour)
	if err := e.svc.VerifyEmail(ctx, "jan@shop.cz", u.Path[len("/verify/"):]); auth.ErrorCode(err) != auth.EValidation {
		t.Errorf("a hash after 24 h: %v", err)
	}
}

// TestRecoveryVerifiesAndSetsAPassword: a customer without a password (registered through a
// social network) sets one with a recovery, which also proves the address.
func TestRecoveryVerifiesAndSetsAPassword(t *testing.T) {
	ctx := context.Background()
	e := newSocialEnv(t)
	e.socialLogin(e.facebook, auth.Identity{Subject: "f-1", Email: "eva@shop.cz"}) // unvouched: unverified
	if c := e.customer("eva@shop.cz"); c.EmailVerified || c.HasPassword() {
		t.Fatalf("before: %+v", c)
	}
	mailer := &recoveryHashes{hashes: make(chan string, 1)}
	e.svc.Mailer = mailer
	if err := e.svc.RequestPasswordRecovery(ctx, "eva@shop.cz"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecoverPassword(ctx, "eva@shop.cz", <-mailer.hashes, "a new password"); err != nil {
		t.Fatalf("RecoverPassword: %v", err)
	}
	if c := e.customer("eva@shop.cz"); !c.EmailVerified || !c.HasPassword() {
		t.Errorf("after recovery: verified %v, password %v", c.EmailVerified, c.HasPassword())
	}
	if _, err := e.svc.Login(ctx, "eva@shop.cz", "a new password"); err != nil {
		t.Errorf("login with the recovered password: %v", err)
	}
}

// TestRecoveryOfAnUnprovenAccountRemovesItsOtherAccess: an attacker registered the victim's
// address through a provider that vouches for nothing and added a passkey; the victim's password
// recovery proves the address, and the attacker's ways in go with the old sessions.
func TestRecoveryOfAnUnprovenAccountRemovesItsOtherAccess(t *testing.T) {
	ctx := context.Background()
	e := newSocialEnv(t)
	attacker, _ := e.socialLogin(e.facebook, auth.Identity{Subject: "f-attacker", Email: "victim@shop.cz"})
	c := e.customer("victim@shop.cz")
	if err := e.db.Update(ctx, func(tx auth.Tx) error {
		return tx.CreatePasskey(auth.Passkey{CredentialID: []byte("attacker"), CustomerID: c.ID, Name: "a", Credential: []byte(`{}`), CreatedAt: e.clock()})
	}); err != nil {
		t.Fatal(err)
	}
	mailer := &recoveryHashes{hashes: make(chan string, 1)}
	e.svc.Mailer = mailer
	if err := e.svc.RequestPasswordRecovery(ctx, "victim@shop.cz"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecoverPassword(ctx, "victim@shop.cz", <-mailer.hashes, "the victim's password"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := e.db.SocialIdentities(ctx, c.ID); len(ids) != 0 {
		t.Errorf("the attacker's identity survived the recovery: %+v", ids)
	}
	if keys, _ := e.db.Passkeys(ctx, c.ID); len(keys) != 0 {
		t.Errorf("the attacker's passkey survived the recovery")
	}
	if _, err := e.svc.Authenticate(ctx, attacker.AccessToken); err == nil {
		t.Error("the attacker's session survived the recovery")
	}
	cleanUps := func(email string) int {
		events, err := e.svc.AuditLog(ctx, email, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range events {
			if ev.Reason == string(auth.AuditRecoveryCleanUp) {
				n++
			}
		}
		return n
	}
	if n := cleanUps("victim@shop.cz"); n != 1 {
		t.Errorf("the clean-up is audited %d times, want once", n)
	}
	// A verified customer's recovery keeps their passkeys and identities.
	pair, _ := e.socialLogin(e.google, vouched("g-1", "kept@shop.cz"))
	kept := e.mustAuthenticate(pair.AccessToken).Customer
	if err := e.svc.RequestPasswordRecovery(ctx, "kept@shop.cz"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecoverPassword(ctx, "kept@shop.cz", <-mailer.hashes, "a password now"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := e.db.SocialIdentities(ctx, kept.ID); len(ids) != 1 {
		t.Errorf("a verified customer's recovery unlinked: %+v", ids)
	}
	// An unproven customer with nothing but a password: the recovery removes nothing, and says nothing of it.
	if _, err := e.svc.Register(ctx, auth.RegisterInput{FirstName: "Ota", LastName: "Malý", Email: "plain@shop.cz", Password: "a password long"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RequestPasswordRecovery(ctx, "plain@shop.cz"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecoverPassword(ctx, "plain@shop.cz", <-mailer.hashes, "another password"); err != nil {
		t.Fatal(err)
	}
	if n := cleanUps("plain@shop.cz"); n != 0 {
		t.Errorf("a recovery that removed nothing audited %d clean-ups", n)
	}
}

type recoveryHashes struct{ hashes chan string }

func (m *recoveryHashes) SendRecovery(ctx context.Context, c auth.Customer, hash string) error {
	m.hashes <- hash
	return nil
}
