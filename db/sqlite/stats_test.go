package sqlite_test

import (
	"context"
	"testing"
	"time"

	"shopauth/auth"
)

func TestCountSessionsSkipsExpired(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	err := d.Update(ctx, func(tx auth.Tx) error {
		c := auth.Customer{UUID: "0b8f3c1e-2f6a-4c1b-9a55-3f0e0d2b7a11", Email: "a@shop.test", FirstName: "A",
			LastName: "B", PasswordHash: "x", CreatedAt: now}
		if err := tx.CreateCustomer(&c); err != nil {
			return err
		}
		for i, exp := range []time.Time{now.Add(time.Hour), now.Add(time.Minute), now, now.Add(-time.Hour)} {
			err := tx.CreateSession(auth.Session{DeviceID: string(rune('a' + i)), CustomerID: c.ID,
				SecretHash: []byte{byte(i)}, CreatedAt: now, IssuedAt: now, ExpiresAt: exp, KeyID: "k", Signature: "s"})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.CountSessions(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("CountSessions = %d, want 2 (a session expiring exactly now is closed)", n)
	}
}
