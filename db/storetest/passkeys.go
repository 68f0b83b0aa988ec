package storetest

import (
	"bytes"
	"cmp"
	"errors"
	"sync"
	"testing"
	"time"

	"shopauth/auth"
)

// testPasskeys checks the passkey and passkey-challenge methods.
func testPasskeys(t *testing.T, s auth.Store) {
	ctx := ctx()
	jan, eva := addCustomer(t, s, "jan@shop.cz"), addCustomer(t, s, "eva@shop.cz")
	first := auth.Passkey{CredentialID: []byte{1, 2, 3}, CustomerID: jan.ID, Name: "Phone", Credential: []byte(`{"id":"AQID"}`),
		SignCount: 7, CreatedAt: now}
	second := auth.Passkey{CredentialID: []byte{4, 5}, CustomerID: jan.ID, Name: "Laptop", Credential: []byte(`{}`), CreatedAt: now.Add(time.Second)}
	mustUpdate(t, s, func(tx auth.Tx) error { return errors.Join(tx.CreatePasskey(second), tx.CreatePasskey(first)) })
	dup := first
	dup.CustomerID = eva.ID
	if err := s.Update(ctx, func(tx auth.Tx) error { return tx.CreatePasskey(dup) }); !errors.Is(err, auth.ErrPasskeyTaken) {
		t.Fatalf("a credential id registered twice: %v, want ErrPasskeyTaken", err)
	}

	var counts [2]int
	mustUpdate(t, s, func(tx auth.Tx) error {
		var err1, err2 error
		counts[0], err1 = tx.CountPasskeys(jan.ID)
		counts[1], err2 = tx.CountPasskeys(eva.ID)
		return errors.Join(err1, err2)
	})
	if counts != [2]int{2, 0} {
		t.Errorf("CountPasskeys: Jan %d, Eva %d; want 2 and 0", counts[0], counts[1])
	}

	list, err := s.Passkeys(ctx, jan.ID)
	if err != nil || len(list) != 2 || list[0].Name != "Phone" || list[1].Name != "Laptop" {
		t.Fatalf("Passkeys = %+v, %v: want Phone then Laptop (oldest first)", list, err)
	}
	if p := list[0]; !bytes.Equal(p.CredentialID, first.CredentialID) || p.SignCount != 7 || !p.CreatedAt.Equal(now) ||
		!p.LastUsedAt.IsZero() || string(p.Credential) != `{"id":"AQID"}` {
		t.Errorf("stored %+v, want %+v", p, first)
	}
	if l, _ := s.Passkeys(ctx, eva.ID); len(l) != 0 {
		t.Errorf("Eva's passkeys: %+v", l)
	}

	p, c, err := s.PasskeyCustomer(ctx, first.CredentialID)
	if err != nil || c.Email != "jan@shop.cz" || p.Name != "Phone" {
		t.Fatalf("PasskeyCustomer = %+v, %+v, %v", p, c, err)
	}
	if _, _, err := s.PasskeyCustomer(ctx, []byte{9}); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown credential: %v, want ErrNotFound", err)
	}

	used := now.Add(time.Minute)
	err = s.Update(ctx, func(tx auth.Tx) error {
		p, err := tx.Passkey(first.CredentialID)
		if err != nil {
			return err
		}
		p.SignCount, p.LastUsedAt, p.Credential = 8, used, []byte(`{"v":2}`)
		return tx.UpdatePasskey(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s.PasskeyCustomer(ctx, first.CredentialID); p.SignCount != 8 || !p.LastUsedAt.Equal(used) || string(p.Credential) != `{"v":2}` {
		t.Errorf("after UpdatePasskey: %+v", p)
	}

	var removed [2]bool
	err = s.Update(ctx, func(tx auth.Tx) error {
		var err1, err2 error
		removed[0], err1 = tx.DeletePasskey(eva.ID, first.CredentialID) // not hers
		removed[1], err2 = tx.DeletePasskey(jan.ID, first.CredentialID)
		return errors.Join(err1, err2)
	})
	if err != nil || removed != [2]bool{false, true} {
		t.Fatalf("DeletePasskey: %v %v, want another customer's refused and the owner's done", removed, err)
	}
	err = s.Update(ctx, func(tx auth.Tx) error {
		if _, err := tx.Passkey(first.CredentialID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("removed passkey read back: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Challenges: stored, read, used up once, pruned when expired.
	live := auth.PasskeyChallenge{Hash: []byte("live-hash"), Ceremony: auth.CeremonyRegistration, CustomerID: jan.ID,
		Session: []byte(`{"challenge":"x"}`), ExpiresAt: now.Add(5 * time.Minute)}
	old := auth.PasskeyChallenge{Hash: []byte("old-hash"), Ceremony: auth.CeremonyLogin, Session: []byte(`{}`), ExpiresAt: now}
	if err := s.Update(ctx, func(tx auth.Tx) error { return errors.Join(tx.PutPasskeyChallenge(live), tx.PutPasskeyChallenge(old)) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.PasskeyChallenge(ctx, live.Hash)
	if err != nil || got.Ceremony != auth.CeremonyRegistration || got.CustomerID != jan.ID || string(got.Session) != `{"challenge":"x"}` ||
		!got.ExpiresAt.Equal(live.ExpiresAt) {
		t.Fatalf("PasskeyChallenge = %+v, %v", got, err)
	}
	if got, err := s.PasskeyChallenge(ctx, old.Hash); err != nil || got.CustomerID != 0 || got.Ceremony != auth.CeremonyLogin {
		t.Fatalf("login challenge = %+v, %v", got, err)
	}
	if err := s.Update(ctx, func(tx auth.Tx) error { _, err := tx.DeleteExpired(now, now.Add(-time.Hour), 100); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PasskeyChallenge(ctx, old.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("expired challenge after DeleteExpired: %v", err)
	}
	var uses [2]bool
	err = s.Update(ctx, func(tx auth.Tx) error {
		var err1, err2 error
		uses[0], err1 = tx.DeletePasskeyChallenge(live.Hash)
		uses[1], err2 = tx.DeletePasskeyChallenge(live.Hash)
		return errors.Join(err1, err2)
	})
	if err != nil || uses != [2]bool{true, false} {
		t.Fatalf("DeletePasskeyChallenge twice: %v %v, want true then false", uses, err)
	}

	// Erasing a customer erases their passkeys and pending challenges.
	pending := auth.PasskeyChallenge{Hash: []byte("jan-pending"), Ceremony: auth.CeremonyRegistration, CustomerID: jan.ID,
		Session: []byte(`{}`), ExpiresAt: now.Add(time.Hour)}
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.PutPasskeyChallenge(pending) })
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.DeleteCustomer(jan.ID) })
	if l, err := s.Passkeys(ctx, jan.ID); err != nil || len(l) != 0 {
		t.Errorf("passkeys of a deleted customer: %+v, %v", l, err)
	}
	if _, _, err := s.PasskeyCustomer(ctx, second.CredentialID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a deleted customer's passkey still finds them: %v", err)
	}
	if _, err := s.PasskeyChallenge(ctx, pending.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a deleted customer's challenge: %v", err)
	}
}

// testPasskeyCountInParallel checks that CountPasskeys holds its count until the transaction ends:
// parallel transactions that each add a passkey only while the customer has fewer than a cap end
// with exactly the cap, whatever the store runs in parallel.
func testPasskeyCountInParallel(t *testing.T, s auth.Store) {
	const limit, writers = 3, 8
	jan, eva := addCustomer(t, s, "jan@shop.cz"), addCustomer(t, s, "eva@shop.cz")
	errFull := errors.New("full")
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			err := s.Update(ctx(), func(tx auth.Tx) error {
				n, err := tx.CountPasskeys(jan.ID)
				if err != nil || n >= limit {
					return cmp.Or(err, errFull)
				}
				time.Sleep(20 * time.Millisecond) // widen the window a store without the lock would lose
				return tx.CreatePasskey(auth.Passkey{CredentialID: []byte{byte(i)}, CustomerID: jan.ID, Name: "P",
					Credential: []byte(`{}`), CreatedAt: now})
			})
			if err != nil && !errors.Is(err, errFull) {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if list, err := s.Passkeys(ctx(), jan.ID); err != nil || len(list) != limit {
		t.Fatalf("%d passkeys after %d parallel capped writers, want %d (%v)", len(list), writers, limit, err)
	}
	// The lock is the customer's: another customer's count is not held up or changed.
	mustUpdate(t, s, func(tx auth.Tx) error {
		if n, err := tx.CountPasskeys(eva.ID); err != nil || n != 0 {
			t.Errorf("Eva's count: %d, %v", n, err)
		}
		return nil
	})
}
