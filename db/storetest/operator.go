package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"shopauth/auth"
)

// The operator's console: listing customers, the audit log, erasing a customer.

func testCustomerListing(t *testing.T, s auth.Store) {
	if list, err := s.Customers(ctx(), now); err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v, %v", list, err)
	}
	a := addCustomer(t, s, "a@shop.cz")
	b := addCustomer(t, s, "b@shop.cz")
	login := now.Add(-time.Minute)
	mustUpdate(t, s, func(tx auth.Tx) error {
		for _, x := range []auth.Session{
			newSession("live", a.ID, "s1", now.Add(time.Millisecond)),
			newSession("expired", a.ID, "s2", now), // expires at now: no longer live
		} {
			if err := tx.CreateSession(x); err != nil {
				return err
			}
		}
		return tx.RecordLogin(a.ID, login)
	})
	list, err := s.Customers(ctx(), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].UUID != a.UUID || list[1].UUID != b.UUID {
		t.Fatalf("list = %+v, want a then b (oldest first)", list)
	}
	if got := list[0]; got.Email != "a@shop.cz" || got.FirstName != "Jan" || got.LastName != "Novák" ||
		!got.CreatedAt.Equal(now) || !got.LastLoginAt.Equal(login) || got.Sessions != 1 {
		t.Errorf("a = %+v, want its one live session and the recorded login", got)
	}
	if got := list[1]; !got.LastLoginAt.IsZero() || got.Sessions != 0 {
		t.Errorf("b = %+v, want never logged in, no sessions", got)
	}
	if got, err := s.CustomerByEmail(ctx(), "a@shop.cz"); err != nil || !got.LastLoginAt.Equal(login) {
		t.Errorf("CustomerByEmail: LastLoginAt = %v, %v; want %v", got.LastLoginAt, err, login)
	}
	// RecordLogin changes nothing else.
	if got, _ := s.CustomerByEmail(ctx(), "a@shop.cz"); got.PasswordHash != a.PasswordHash || !got.SecurityChangedAt.Equal(a.SecurityChangedAt) {
		t.Errorf("RecordLogin changed more than the login time: %+v", got)
	}
}

func testAuditLog(t *testing.T, s auth.Store) {
	a := addCustomer(t, s, "a@shop.cz")
	b := addCustomer(t, s, "b@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		for _, e := range []auth.AuditEvent{
			{At: now.Add(-2 * time.Hour), CustomerID: a.ID, DeviceID: "d1", Reason: "old", RemoteAddr: "192.0.2.1"},
			{At: now.Add(-time.Minute), CustomerID: b.ID, Reason: "b's"},
			{At: now, CustomerID: a.ID, CustomerUUID: a.UUID, Reason: "new"},
		} {
			if err := tx.AddAudit(e); err != nil {
				return err
			}
		}
		return nil
	})
	reasons := func(q auth.AuditQuery) []string {
		t.Helper()
		events, err := s.AuditLog(ctx(), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range events {
			out = append(out, e.Reason)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		q    auth.AuditQuery
		want []string
	}{
		{"all, newest first", auth.AuditQuery{}, []string{"new", "b's", "old"}},
		{"one customer", auth.AuditQuery{CustomerUUID: a.UUID}, []string{"new", "old"}},
		{"since", auth.AuditQuery{Since: now.Add(-time.Hour)}, []string{"new", "b's"}},
		{"since the instant itself", auth.AuditQuery{Since: now}, []string{"new"}},
		{"limit", auth.AuditQuery{Limit: 1}, []string{"new"}},
		{"nobody's", auth.AuditQuery{CustomerUUID: "no-such-uuid"}, nil},
	} {
		if got := reasons(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	events, _ := s.AuditLog(ctx(), auth.AuditQuery{CustomerUUID: a.UUID})
	if len(events) == 2 {
		old := events[1]
		if old.CustomerUUID != a.UUID || old.Email != "a@shop.cz" || old.CustomerID != a.ID || old.DeviceID != "d1" ||
			old.RemoteAddr != "192.0.2.1" || !old.At.Equal(now.Add(-2*time.Hour)) {
			t.Errorf("event = %+v, want the UUID recorded from the customer id and the email joined", old)
		}
	}
}

func testDeleteCustomer(t *testing.T, s auth.Store) {
	gone := addCustomer(t, s, "gone@shop.cz")
	kept := addCustomer(t, s, "kept@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		for _, x := range []auth.Session{
			newSession("gone-1", gone.ID, "g1", now.Add(time.Hour)),
			newSession("gone-2", gone.ID, "g2", now.Add(time.Hour)),
			newSession("kept-1", kept.ID, "k1", now.Add(time.Hour)),
		} {
			if err := tx.CreateSession(x); err != nil {
				return err
			}
		}
		for _, c := range []auth.Customer{gone, kept} {
			if err := tx.PutRecovery(auth.Recovery{CustomerID: c.ID, HashSHA256: hash("r"), ExpiresAt: now.Add(time.Hour)}); err != nil {
				return err
			}
		}
		if err := tx.AddAudit(auth.AuditEvent{At: now, CustomerID: gone.ID, Reason: "customer deleted by the operator"}); err != nil {
			return err
		}
		return tx.DeleteCustomer(gone.ID)
	})
	if _, err := s.CustomerByEmail(ctx(), "gone@shop.cz"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleted customer by email: %v, want ErrNotFound", err)
	}
	if _, err := s.CustomerByUUID(ctx(), gone.UUID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleted customer by uuid: %v, want ErrNotFound", err)
	}
	if _, _, err := s.SessionCustomer(ctx(), "gone-1"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleted customer's session: %v, want ErrNotFound (their tokens must die at once)", err)
	}
	if list, err := s.Sessions(ctx(), gone.ID); err != nil || len(list) != 0 {
		t.Errorf("deleted customer's sessions: %v, %v", list, err)
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		if _, err := tx.Recovery(gone.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("deleted customer's recovery: %v, want ErrNotFound", err)
		}
		if _, err := tx.Recovery(kept.ID); err != nil {
			t.Errorf("the other customer's recovery: %v", err)
		}
		return nil
	})
	if _, _, err := s.SessionCustomer(ctx(), "kept-1"); err != nil {
		t.Errorf("the other customer's session: %v", err)
	}
	events, err := s.AuditLog(ctx(), auth.AuditQuery{CustomerUUID: gone.UUID})
	if err != nil || len(events) != 1 || events[0].Email != "" || events[0].CustomerUUID != gone.UUID {
		t.Errorf("audit after the deletion: %+v, %v; want the event, naming the UUID and no email", events, err)
	}
	// A customer made after the deletion (who may get the same integer id) inherits no events.
	fresh := addCustomer(t, s, "fresh@shop.cz")
	if events, _ := s.AuditLog(ctx(), auth.AuditQuery{CustomerUUID: fresh.UUID}); len(events) != 0 {
		t.Errorf("a new customer inherited the deleted one's audit events: %+v", events)
	}
}
