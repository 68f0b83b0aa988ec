package auth

import (
	"errors"
	"slices"
	"testing"
)

// newStore opens the real store (SQLite in t.TempDir()) for a test of package auth.
func newStore(t testing.TB) Store {
	t.Helper()
	if NewStoreForTest == nil {
		t.Fatal("NewStoreForTest is not set (helpers_test.go sets it)")
	}
	return NewStoreForTest(t)
}

// The readers below look behind the domain, through the store's own transactions.

func storedRecovery(t testing.TB, s Store, customerID int64) (r Recovery, ok bool) {
	t.Helper()
	err := s.Update(t.Context(), func(tx Tx) error {
		var err error
		r, err = tx.Recovery(customerID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Recovery{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return r, true
}

func storedCustomer(t testing.TB, s Store, id int64) Customer {
	t.Helper()
	var c Customer
	if err := s.Update(t.Context(), func(tx Tx) error {
		var err error
		c, err = tx.CustomerByID(id)
		return err
	}); err != nil {
		t.Fatalf("customer %d: %v", id, err)
	}
	return c
}

// sessionCount counts a customer's stored sessions, expired ones too.
func sessionCount(t testing.TB, s Store, customerID int64) int {
	t.Helper()
	list, err := s.Sessions(t.Context(), customerID)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// auditEvents returns the whole audit log, oldest first.
func auditEvents(t testing.TB, s Store) []AuditEvent {
	t.Helper()
	events, err := s.AuditLog(t.Context(), AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(events)
	return events
}
