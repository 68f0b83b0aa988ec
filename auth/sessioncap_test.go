package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"shopauth/auth"
)

// TestSessionsPerCustomerCapped: a new session ends the oldest beyond the cap.
func TestSessionsPerCustomerCapped(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.SessionsPerCustomer = 3 })
	const email = "cap@shop.cz"
	pairs := []auth.TokenPair{e.register(email)}
	for range 4 {
		e.advance(time.Second)
		pairs = append(pairs, e.login(email))
	}
	if n := len(e.sessions(email)); n != 3 {
		t.Fatalf("%d sessions, want the cap of 3", n)
	}
	for i, p := range pairs {
		_, err := e.svc.Authenticate(context.Background(), p.AccessToken)
		if alive := err == nil; alive != (i >= 2) {
			t.Errorf("session %d alive = %v, want %v (the two oldest end)", i, alive, i >= 2)
		}
	}
}

// TestPruneInBatches: a prune of many expired sessions (a dozen batches and a part) deletes them
// all, a batch at a time.
func TestPruneInBatches(t *testing.T) {
	e := newEnv(t)
	e.register("prune@shop.cz")
	c := e.customer("prune@shop.cz")
	const n = 12*auth.PruneBatchForTest + 34
	err := e.db.Update(context.Background(), func(tx auth.Tx) error {
		for i := range n {
			err := tx.CreateSession(auth.Session{DeviceID: fmt.Sprintf("old-%d", i), CustomerID: c.ID,
				SecretHash: []byte(fmt.Sprint(i)), CreatedAt: e.clock(), IssuedAt: e.clock(),
				ExpiresAt: e.clock().Add(time.Minute), KeyID: "k", Signature: "s"})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Minute)
	got, err := e.svc.Prune(context.Background())
	if err != nil || got != n {
		t.Fatalf("Prune = %d, %v; want %d", got, err, n)
	}
	if left := len(e.sessions("prune@shop.cz")); left != 1 {
		t.Fatalf("%d sessions left, want only the live one", left)
	}
}
