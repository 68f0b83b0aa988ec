package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shopauth/auth"
)

// socialCases are the conformance cases of social login's storage.
var socialCases = []testCase[auth.Store]{
	{"SocialIdentities", testSocialIdentities},
	{"EmailVerifiedAndLoginInfo", testEmailVerifiedAndLoginInfo},
	{"SocialFlowsSingleUse", testSocialFlowsSingleUse},
	{"HandOffsSingleUse", testHandOffsSingleUse},
	{"TakeSocialFlowExactlyOnce", testTakeSocialFlowExactlyOnce},
	{"EmailVerifications", testEmailVerifications},
	{"PasskeysCountedAndCleared", testPasskeysCountedAndCleared},
	{"SocialPrunedAndDeleted", testSocialPrunedAndDeleted},
}

func init() { cases = append(cases, socialCases...) }

// testSocialIdentities: an identity is (type, subject), linked once, one per type per customer;
// listed in LoginTypeEnum's order; touched and unlinked.
func testSocialIdentities(t *testing.T, s auth.Store) {
	jan, eva := addCustomer(t, s, "jan@shop.cz"), addCustomer(t, s, "eva@shop.cz")
	g := auth.SocialIdentity{Type: "google", Subject: "g-1", CustomerID: jan.ID, Email: "jan@gmail.com", LinkedAt: now}
	f := auth.SocialIdentity{Type: "facebook", Subject: "f-1", CustomerID: jan.ID, LinkedAt: now.Add(time.Second)}
	mustUpdate(t, s, func(tx auth.Tx) error { return errors.Join(tx.CreateSocialIdentity(g), tx.CreateSocialIdentity(f)) })
	for name, dup := range map[string]auth.SocialIdentity{
		"the same identity for another customer": {Type: "google", Subject: "g-1", CustomerID: eva.ID, LinkedAt: now},
		"a second google for the same customer":  {Type: "google", Subject: "g-2", CustomerID: jan.ID, LinkedAt: now},
	} {
		if err := s.Update(ctx(), func(tx auth.Tx) error { return tx.CreateSocialIdentity(dup) }); !errors.Is(err, auth.ErrIdentityTaken) {
			t.Errorf("%s: %v, want ErrIdentityTaken", name, err)
		}
	}
	// The same subject at another provider is another identity.
	mustUpdate(t, s, func(tx auth.Tx) error {
		return tx.CreateSocialIdentity(auth.SocialIdentity{Type: "seznam", Subject: "g-1", CustomerID: eva.ID, LinkedAt: now})
	})
	list, err := s.SocialIdentities(ctx(), jan.ID)
	if err != nil || len(list) != 2 || list[0].Type != "facebook" || list[1].Type != "google" {
		t.Fatalf("SocialIdentities = %+v, %v; want facebook then google (the enum's order)", list, err)
	}
	if got := list[1]; got.Subject != "g-1" || got.Email != "jan@gmail.com" || !got.LinkedAt.Equal(now) || !got.LastUsedAt.IsZero() || got.CustomerID != jan.ID {
		t.Errorf("stored %+v, want %+v", got, g)
	}
	used := now.Add(time.Hour)
	mustUpdate(t, s, func(tx auth.Tx) error {
		if err := tx.TouchSocialIdentity("google", "g-1", used); err != nil {
			return err
		}
		i, err := tx.SocialIdentity("google", "g-1")
		if err != nil || !i.LastUsedAt.Equal(used) || i.CustomerID != jan.ID {
			t.Errorf("after touch: %+v, %v", i, err)
		}
		if _, err := tx.SocialIdentity("google", "nobody"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("unknown identity: %v, want ErrNotFound", err)
		}
		inTx, err := tx.SocialIdentities(jan.ID)
		if err != nil || len(inTx) != 2 {
			t.Errorf("SocialIdentities in a transaction = %+v, %v", inTx, err)
		}
		return nil
	})
	mustUpdate(t, s, func(tx auth.Tx) error {
		if ok, err := tx.DeleteSocialIdentity(eva.ID, "google"); ok || err != nil {
			t.Errorf("deleting an identity Eva does not have: %v, %v", ok, err)
		}
		if ok, err := tx.DeleteSocialIdentity(jan.ID, "google"); !ok || err != nil {
			t.Errorf("DeleteSocialIdentity = %v, %v", ok, err)
		}
		return nil
	})
	if list, _ := s.SocialIdentities(ctx(), jan.ID); len(list) != 1 || list[0].Type != "facebook" {
		t.Errorf("after unlinking google: %+v", list)
	}
	// Unlinked, the identity can be linked again, to anyone.
	mustUpdate(t, s, func(tx auth.Tx) error {
		return tx.CreateSocialIdentity(auth.SocialIdentity{Type: "google", Subject: "g-1", CustomerID: eva.ID, LinkedAt: now})
	})
}

// testEmailVerifiedAndLoginInfo: the customer's email-verified flag and how a session began are
// stored and read back, a customer without a password included.
func testEmailVerifiedAndLoginInfo(t *testing.T, s auth.Store) {
	c := auth.Customer{UUID: "0b6e7c4e-3b1b-4c55-9a8e-5f7a3c9b1d10", Email: "social@shop.cz", FirstName: "Eva",
		LastName: "Nová", CreatedAt: now, EmailVerified: true}
	mustUpdate(t, s, func(tx auth.Tx) error {
		if err := tx.CreateCustomer(&c); err != nil {
			return err
		}
		x := newSession("dev-g", c.ID, "s", now.Add(time.Hour))
		x.LoginType, x.ExternalID, x.AdministratorUUID = "google", "g-123", "op-uuid"
		return errors.Join(tx.CreateSession(x), tx.CreateSession(newSession("dev-w", c.ID, "w", now.Add(time.Hour))))
	})
	sess, got, err := s.SessionCustomer(ctx(), "dev-g")
	if err != nil || !got.EmailVerified || got.PasswordHash != "" {
		t.Fatalf("SessionCustomer = %+v, %v; want verified, no password", got, err)
	}
	if sess.LoginType != "google" || sess.ExternalID != "g-123" || sess.AdministratorUUID != "op-uuid" {
		t.Errorf("session login info = %q %q %q", sess.LoginType, sess.ExternalID, sess.AdministratorUUID)
	}
	if sess, _, _ := s.SessionCustomer(ctx(), "dev-w"); sess.ExternalID != "" || sess.AdministratorUUID != "" {
		t.Errorf("a session started without login info: %+v", sess)
	}
	c.EmailVerified = false
	c.PasswordHash = "$argon2id$new"
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.UpdateCustomer(c) })
	if got, _ := s.CustomerByEmail(ctx(), "social@shop.cz"); got.EmailVerified || got.PasswordHash != "$argon2id$new" {
		t.Errorf("after UpdateCustomer: %+v", got)
	}
	c.EmailVerified = true
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.UpdateCustomer(c) })
	if got, _ := s.CustomerByUUID(ctx(), c.UUID); !got.EmailVerified {
		t.Errorf("verified again: %+v", got)
	}
}

func testSocialFlowsSingleUse(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "link@shop.cz")
	login := auth.SocialFlow{StateHash: hash("state-1"), Type: "google", Nonce: "n", Verifier: "v", BrowserHash: hash("b"),
		Redirect: "/cart", CodeChallenge: "cc", Params: "cartUuid=x", ExpiresAt: now.Add(10 * time.Minute)}
	link := login
	link.StateHash, link.LinkCustomerID = hash("state-2"), c.ID
	mustUpdate(t, s, func(tx auth.Tx) error { return errors.Join(tx.PutSocialFlow(login), tx.PutSocialFlow(link)) })
	for _, want := range []auth.SocialFlow{login, link} {
		mustUpdate(t, s, func(tx auth.Tx) error {
			got, err := tx.TakeSocialFlow(want.StateHash)
			if err != nil || got.Type != want.Type || got.Nonce != "n" || got.Verifier != "v" || !bytes.Equal(got.BrowserHash, hash("b")) ||
				got.LinkCustomerID != want.LinkCustomerID || got.Redirect != "/cart" || got.CodeChallenge != "cc" ||
				got.Params != "cartUuid=x" || !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("TakeSocialFlow = %+v, %v; want %+v", got, err, want)
			}
			if _, err := tx.TakeSocialFlow(want.StateHash); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("a flow taken twice: %v, want ErrNotFound", err)
			}
			return nil
		})
	}
}

func testHandOffsSingleUse(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "code@shop.cz")
	for i, want := range []auth.HandOff{
		{Hash: hash("code-1"), Purpose: auth.HandOffLogin, CustomerID: c.ID, LoginType: "google", ExternalID: "g-1",
			IsRegistration: true, CodeChallenge: "cc", ExpiresAt: now.Add(time.Minute)},
		{Hash: hash("code-2"), Purpose: auth.HandOffLink, CustomerID: c.ID, LoginType: "apple", AdministratorUUID: "op",
			ExpiresAt: now.Add(time.Minute)},
	} {
		mustUpdate(t, s, func(tx auth.Tx) error { return tx.PutHandOff(want) })
		mustUpdate(t, s, func(tx auth.Tx) error {
			got, err := tx.TakeHandOff(want.Hash)
			if err != nil || got.Purpose != want.Purpose || got.CustomerID != c.ID || got.LoginType != want.LoginType ||
				got.ExternalID != want.ExternalID || got.AdministratorUUID != want.AdministratorUUID ||
				got.IsRegistration != want.IsRegistration || got.CodeChallenge != want.CodeChallenge || !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("%d: TakeHandOff = %+v, %v; want %+v", i, got, err, want)
			}
			if _, err := tx.TakeHandOff(want.Hash); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("%d: a code taken twice: %v, want ErrNotFound", i, err)
			}
			return nil
		})
	}
}

// testTakeSocialFlowExactlyOnce: of parallel callbacks presenting one state (one instance or
// several on PostgreSQL), exactly one gets the flow.
func testTakeSocialFlowExactlyOnce(t *testing.T, s auth.Store) {
	mustUpdate(t, s, func(tx auth.Tx) error {
		return tx.PutSocialFlow(auth.SocialFlow{StateHash: hash("race"), Type: "oidc", BrowserHash: hash("b"), ExpiresAt: now.Add(time.Minute)})
	})
	const n = 12
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx(), func(tx auth.Tx) error {
				_, err := tx.TakeSocialFlow(hash("race"))
				if errors.Is(err, auth.ErrNotFound) {
					return nil
				}
				if err == nil {
					wins.Add(1)
				}
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	if w := wins.Load(); w != 1 {
		t.Errorf("%d of %d parallel takes got the flow, want exactly 1", w, n)
	}
}

func testEmailVerifications(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "verify@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		if _, err := tx.EmailVerification(c.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("no verification yet: %v", err)
		}
		for _, secret := range []string{"first", "second"} { // the second replaces the first
			if err := tx.PutEmailVerification(auth.Recovery{CustomerID: c.ID, HashSHA256: hash(secret), ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
				return err
			}
		}
		r, err := tx.EmailVerification(c.ID)
		if err != nil || !bytes.Equal(r.HashSHA256, hash("second")) || !r.ExpiresAt.Equal(now.Add(24*time.Hour)) {
			t.Errorf("EmailVerification = %+v, %v", r, err)
		}
		if err := tx.DeleteEmailVerification(c.ID); err != nil {
			return err
		}
		if _, err := tx.EmailVerification(c.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		return nil
	})
}

func testPasskeysCountedAndCleared(t *testing.T, s auth.Store) {
	jan, eva := addCustomer(t, s, "jan@shop.cz"), addCustomer(t, s, "eva@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		for i, owner := range []int64{jan.ID, jan.ID, eva.ID} {
			if err := tx.CreatePasskey(auth.Passkey{CredentialID: []byte{byte(i + 1)}, CustomerID: owner, Name: "k",
				Credential: []byte(`{}`), CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	mustUpdate(t, s, func(tx auth.Tx) error {
		if n, err := tx.CountPasskeys(jan.ID); n != 2 || err != nil {
			t.Errorf("CountPasskeys(jan) = %d, %v", n, err)
		}
		if n, err := tx.DeletePasskeys(jan.ID); n != 2 || err != nil {
			t.Errorf("DeletePasskeys(jan) = %d, %v", n, err)
		}
		if n, err := tx.CountPasskeys(jan.ID); n != 0 || err != nil {
			t.Errorf("after DeletePasskeys: %d, %v", n, err)
		}
		if n, err := tx.CountPasskeys(eva.ID); n != 1 || err != nil {
			t.Errorf("Eva's passkey went too: %d, %v", n, err)
		}
		return nil
	})
}

// testSocialPrunedAndDeleted: expired flows, codes and verifications are pruned; deleting a
// customer deletes their identities and everything under way for them.
func testSocialPrunedAndDeleted(t *testing.T, s auth.Store) {
	jan, eva := addCustomer(t, s, "jan@shop.cz"), addCustomer(t, s, "eva@shop.cz")
	put := func(c auth.Customer, tag string, exp time.Time) {
		mustUpdate(t, s, func(tx auth.Tx) error {
			return errors.Join(
				tx.PutSocialFlow(auth.SocialFlow{StateHash: hash("flow-" + tag), Type: "google", BrowserHash: hash("b"),
					LinkCustomerID: c.ID, ExpiresAt: exp}),
				tx.PutHandOff(auth.HandOff{Hash: hash("code-" + tag), Purpose: auth.HandOffLogin, CustomerID: c.ID,
					LoginType: "google", ExpiresAt: exp}),
				tx.PutEmailVerification(auth.Recovery{CustomerID: c.ID, HashSHA256: hash("v-" + tag), ExpiresAt: exp}),
				tx.CreateSocialIdentity(auth.SocialIdentity{Type: "google", Subject: "sub-" + tag, CustomerID: c.ID, LinkedAt: now}))
		})
	}
	put(jan, "jan", now.Add(time.Minute))
	put(eva, "eva", now.Add(time.Hour))
	// Pruning at jan's expiry removes his secrets (expired at that instant) and keeps Eva's.
	errRollback := errors.New("rollback")
	err := s.Update(ctx(), func(tx auth.Tx) error {
		if _, err := tx.DeleteExpired(now.Add(time.Minute), now.Add(-time.Hour), 100); err != nil {
			return err
		}
		for _, tag := range []string{"jan", "eva"} {
			_, ferr := tx.TakeSocialFlow(hash("flow-" + tag))
			_, cerr := tx.TakeHandOff(hash("code-" + tag))
			if gone := errors.Is(ferr, auth.ErrNotFound) && errors.Is(cerr, auth.ErrNotFound); gone != (tag == "jan") {
				t.Errorf("%s after prune: flow %v, code %v", tag, ferr, cerr)
			}
		}
		_, jerr := tx.EmailVerification(jan.ID)
		_, eerr := tx.EmailVerification(eva.ID)
		if !errors.Is(jerr, auth.ErrNotFound) || eerr != nil {
			t.Errorf("verifications after prune: jan %v, eva %v", jerr, eerr)
		}
		return errRollback // keep every row for the deletion below
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.DeleteCustomer(eva.ID) })
	if list, err := s.SocialIdentities(ctx(), eva.ID); err != nil || len(list) != 0 {
		t.Errorf("a deleted customer's identities: %+v, %v", list, err)
	}
	if list, _ := s.SocialIdentities(ctx(), jan.ID); len(list) != 1 {
		t.Errorf("Jan's identity went with Eva: %+v", list)
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		_, ferr := tx.TakeSocialFlow(hash("flow-eva"))
		_, cerr := tx.TakeHandOff(hash("code-eva"))
		_, verr := tx.EmailVerification(eva.ID)
		for name, err := range map[string]error{"flow": ferr, "code": cerr, "verification": verr} {
			if !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("a deleted customer's %s: %v", name, fmt.Sprint(err))
			}
		}
		return nil
	})
	// The identity can be linked to someone else now.
	ota := addCustomer(t, s, "ota@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		return tx.CreateSocialIdentity(auth.SocialIdentity{Type: "google", Subject: "sub-eva", CustomerID: ota.ID, LinkedAt: now})
	})
}
