package db_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/db"
)

func openDB(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestOpenCreatesPrivateFileAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database mode = %v, want 0600", perm)
	}
	// Opening again must not re-run migrations (they would fail on existing tables).
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	d.Close()
}

func TestCustomersAndSessions(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_123).UTC()
	tel := "605000123"
	c := auth.Customer{UUID: "0b6e7c4e-3b1b-4c55-9a8e-2f7a3c9b1d10", Email: "jan@shop.cz", FirstName: "Jan",
		LastName: "Novák", Telephone: &tel, PasswordHash: "$argon2id$x", CreatedAt: now}
	err := d.Update(ctx, func(tx auth.Tx) error {
		if err := tx.CreateCustomer(&c); err != nil {
			return err
		}
		return tx.CreateSession(auth.Session{DeviceID: "dev-1", CustomerID: c.ID, SecretHash: []byte{1, 2},
			CreatedAt: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour), KeyID: "k", Signature: "sig"})
	})
	if err != nil {
		t.Fatal(err)
	}
	dup := c
	err = d.Update(ctx, func(tx auth.Tx) error { return tx.CreateCustomer(&dup) })
	if !errors.Is(err, auth.ErrEmailTaken) {
		t.Errorf("duplicate email: err = %v, want ErrEmailTaken", err)
	}
	s, got, err := d.SessionCustomer(ctx, "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != c.Email || got.LastName != "Novák" || got.Telephone == nil || *got.Telephone != tel {
		t.Errorf("customer = %+v", got)
	}
	if !s.ExpiresAt.Equal(now.Add(time.Hour)) || !s.CreatedAt.Equal(now) || string(s.SecretHash) != "\x01\x02" {
		t.Errorf("session = %+v", s)
	}
	if _, _, err := d.SessionCustomer(ctx, "nope"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("missing session: err = %v, want ErrNotFound", err)
	}
	// Deleting the customer cascades to the sessions.
	err = d.Update(ctx, func(tx auth.Tx) error {
		n, err := tx.DeleteExpired(now.Add(2*time.Hour), now)
		if n != 1 {
			t.Errorf("DeleteExpired removed %d sessions, want 1", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := d.Sessions(ctx, c.ID); len(list) != 0 {
		t.Errorf("sessions after prune = %d, want 0", len(list))
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := d.Update(ctx, func(tx auth.Tx) error {
		if err := tx.SetSetting("x", []byte("1")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := d.Setting(ctx, "x"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("setting survived a rolled-back transaction: %v", err)
	}
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	if err := d.Update(ctx, func(tx auth.Tx) error { return tx.SetSetting("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy.db")
	if err := d.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	if err := d.Backup(ctx, out); err == nil {
		t.Error("backup over an existing file succeeded")
	}
	c, err := db.Open(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Setting(ctx, "k")
	if err != nil || string(v) != "v" {
		t.Errorf("restored setting = %q, %v", v, err)
	}
}
