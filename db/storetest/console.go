package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"shopauth/auth"
)

// testConsoleOperators checks the admin console's operators, passkeys and sessions.
func testConsoleOperators(t *testing.T, s auth.Store) {
	ctx := ctx()
	ana := auth.ConsoleOperator{UUID: "7d1c3f0a-0000-4000-8000-000000000001", Name: "ana", CreatedAt: now,
		EnrolHash: hash("enrol-ana"), EnrolExpiresAt: now.Add(15 * time.Minute)}
	bob := auth.ConsoleOperator{UUID: "7d1c3f0a-0000-4000-8000-000000000002", Name: "bob", CreatedAt: now}
	mustUpdate(t, s, func(tx auth.Tx) error {
		return errors.Join(tx.CreateConsoleOperator(&bob), tx.CreateConsoleOperator(&ana))
	})
	if ana.ID == 0 || bob.ID == 0 || ana.ID == bob.ID {
		t.Fatalf("ids %d and %d", ana.ID, bob.ID)
	}
	again := auth.ConsoleOperator{UUID: "7d1c3f0a-0000-4000-8000-000000000003", Name: "ana", CreatedAt: now}
	if err := s.Update(ctx, func(tx auth.Tx) error { return tx.CreateConsoleOperator(&again) }); !errors.Is(err, auth.ErrOperatorTaken) {
		t.Fatalf("a name used twice: %v, want ErrOperatorTaken", err)
	}

	mustUpdate(t, s, func(tx auth.Tx) error {
		if got, err := tx.ConsoleOperatorByUUID(ana.UUID); err != nil || got.ID != ana.ID || got.Name != "ana" {
			t.Errorf("ConsoleOperatorByUUID = %+v, %v; want ana", got, err)
		}
		if _, err := tx.ConsoleOperatorByUUID(again.UUID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("an unknown operator UUID: %v, want ErrNotFound", err)
		}
		return nil
	})

	got, err := s.ConsoleOperatorByEnrolHash(ctx, hash("enrol-ana"))
	if err != nil || got.Name != "ana" || !got.EnrolExpiresAt.Equal(ana.EnrolExpiresAt) || got.UUID != ana.UUID {
		t.Fatalf("ConsoleOperatorByEnrolHash = %+v, %v", got, err)
	}
	if _, err := s.ConsoleOperatorByEnrolHash(ctx, hash("nope")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown enrolment hash: %v", err)
	}

	pk := auth.ConsolePasskey{CredentialID: []byte{9, 8, 7}, OperatorID: ana.ID, Credential: []byte(`{}`), SignCount: 3, CreatedAt: now}
	sess := auth.ConsoleSession{IDHash: hash("cookie-ana"), OperatorID: ana.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(8 * time.Hour)}
	mustUpdate(t, s, func(tx auth.Tx) error {
		o, err := tx.ConsoleOperatorByName("ana")
		if err != nil {
			return err
		}
		o.EnrolHash, o.EnrolExpiresAt, o.LastLoginAt = nil, time.Time{}, now.Add(time.Second)
		return errors.Join(tx.UpdateConsoleOperator(o), tx.CreateConsolePasskey(pk), tx.CreateConsoleSession(sess))
	})
	if err := s.Update(ctx, func(tx auth.Tx) error { return tx.CreateConsolePasskey(pk) }); !errors.Is(err, auth.ErrPasskeyTaken) {
		t.Errorf("a console credential id registered twice: %v, want ErrPasskeyTaken", err)
	}
	if _, err := s.ConsoleOperatorByEnrolHash(ctx, hash("enrol-ana")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a used enrolment hash still finds the operator: %v", err)
	}

	list, err := s.ConsoleOperators(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "ana" || list[0].Passkeys != 1 || list[1].Passkeys != 0 ||
		!list[0].LastLoginAt.Equal(now.Add(time.Second)) || list[0].EnrolHash != nil {
		t.Fatalf("ConsoleOperators = %+v, %v", list, err)
	}

	p, o, err := s.ConsolePasskeyOperator(ctx, pk.CredentialID)
	if err != nil || o.Name != "ana" || p.SignCount != 3 || !bytes.Equal(p.CredentialID, pk.CredentialID) {
		t.Fatalf("ConsolePasskeyOperator = %+v, %+v, %v", p, o, err)
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		cur, err := tx.ConsolePasskey(pk.CredentialID)
		if err != nil {
			return err
		}
		cur.SignCount, cur.LastUsedAt = 4, now.Add(time.Minute)
		return tx.UpdateConsolePasskey(cur)
	})
	if p, _, _ := s.ConsolePasskeyOperator(ctx, pk.CredentialID); p.SignCount != 4 || !p.LastUsedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("after UpdateConsolePasskey: %+v", p)
	}

	got2, o2, err := s.ConsoleSessionOperator(ctx, sess.IDHash)
	if err != nil || o2.Name != "ana" || !got2.ExpiresAt.Equal(sess.ExpiresAt) || !got2.LastSeenAt.Equal(now) || got2.OperatorID != ana.ID {
		t.Fatalf("ConsoleSessionOperator = %+v, %+v, %v", got2, o2, err)
	}
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.TouchConsoleSession(sess.IDHash, now.Add(time.Hour)) })
	if got, _, _ := s.ConsoleSessionOperator(ctx, sess.IDHash); !got.LastSeenAt.Equal(now.Add(time.Hour)) {
		t.Errorf("TouchConsoleSession: last seen %v", got.LastSeenAt)
	}
	var deleted bool
	mustUpdate(t, s, func(tx auth.Tx) error { var err error; deleted, err = tx.DeleteConsoleSession(sess.IDHash); return err })
	if _, _, err := s.ConsoleSessionOperator(ctx, sess.IDHash); !deleted || !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DeleteConsoleSession = %v; then %v", deleted, err)
	}

	// Removing an operator ends their sessions and takes their passkeys.
	second := auth.ConsoleSession{IDHash: hash("cookie-2"), OperatorID: ana.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	var ended int
	mustUpdate(t, s, func(tx auth.Tx) error {
		if err := tx.CreateConsoleSession(second); err != nil {
			return err
		}
		var err error
		if ended, err = tx.DeleteConsoleSessions(ana.ID); err != nil {
			return err
		}
		return errors.Join(tx.CreateConsoleSession(second), tx.DeleteConsoleOperator(ana.ID))
	})
	if ended != 1 {
		t.Errorf("DeleteConsoleSessions = %d, want 1", ended)
	}
	if _, _, err := s.ConsoleSessionOperator(ctx, second.IDHash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a removed operator's session: %v", err)
	}
	if _, _, err := s.ConsolePasskeyOperator(ctx, pk.CredentialID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a removed operator's passkey: %v", err)
	}
	if list, _ := s.ConsoleOperators(ctx); len(list) != 1 || list[0].Name != "bob" {
		t.Errorf("after removing ana: %+v", list)
	}

	// Expired console sessions are pruned with the customers' sessions.
	old := auth.ConsoleSession{IDHash: hash("old"), OperatorID: bob.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Minute)}
	live := auth.ConsoleSession{IDHash: hash("live"), OperatorID: bob.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	mustUpdate(t, s, func(tx auth.Tx) error {
		return errors.Join(tx.CreateConsoleSession(old), tx.CreateConsoleSession(live))
	})
	mustUpdate(t, s, func(tx auth.Tx) error {
		_, err := tx.DeleteExpired(now.Add(2*time.Minute), time.Time{}, 100)
		return err
	})
	if _, _, err := s.ConsoleSessionOperator(ctx, old.IDHash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("an expired console session survived the prune: %v", err)
	}
	if _, _, err := s.ConsoleSessionOperator(ctx, live.IDHash); err != nil {
		t.Errorf("a live console session was pruned: %v", err)
	}
}

// testSearchCustomers checks the console's paged customer search.
func testSearchCustomers(t *testing.T, s auth.Store) {
	var jana auth.Customer
	for i := range 25 {
		c := addCustomer(t, s, fmt.Sprintf("shopper%02d@shop.cz", i))
		if i == 7 {
			jana = c
		}
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		c := jana
		c.FirstName, c.LastName = "Jana", "Dvořáková"
		if err := tx.UpdateCustomer(c); err != nil {
			return err
		}
		return tx.CreateSession(newSession("dev-jana", jana.ID, "x", now.Add(time.Hour)))
	})
	cases := []struct {
		name          string
		q             auth.CustomerSearch
		total, length int
		first         string
	}{
		{"every customer, first page", auth.CustomerSearch{Limit: 10}, 25, 10, "shopper00@shop.cz"},
		{"last page", auth.CustomerSearch{Offset: 20, Limit: 10}, 25, 5, "shopper20@shop.cz"},
		{"past the end", auth.CustomerSearch{Offset: 30, Limit: 10}, 25, 0, ""},
		{"part of an email", auth.CustomerSearch{Text: "per1", Limit: 10}, 10, 10, "shopper10@shop.cz"},
		{"a name, any case", auth.CustomerSearch{Text: "JANA", Limit: 10}, 1, 1, "shopper07@shop.cz"},
		{"a last name", auth.CustomerSearch{Text: "dvoř", Limit: 10}, 1, 1, "shopper07@shop.cz"},
		{"a uuid", auth.CustomerSearch{Text: jana.UUID, Limit: 10}, 1, 1, "shopper07@shop.cz"},
		{"nobody", auth.CustomerSearch{Text: "nobody", Limit: 10}, 0, 0, ""},
		{"a LIKE wildcard is literal", auth.CustomerSearch{Text: "%", Limit: 10}, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			list, total, err := s.SearchCustomers(ctx(), c.q, now)
			if err != nil || total != c.total || len(list) != c.length {
				t.Fatalf("SearchCustomers = %d rows, total %d, %v; want %d, %d", len(list), total, err, c.length, c.total)
			}
			if c.first != "" && list[0].Email != c.first {
				t.Errorf("first row %s, want %s", list[0].Email, c.first)
			}
		})
	}
	list, _, _ := s.SearchCustomers(ctx(), auth.CustomerSearch{Text: "jana", Limit: 1}, now)
	if len(list) != 1 || list[0].Sessions != 1 || list[0].FirstName != "Jana" {
		t.Errorf("Jana: %+v, want one live session", list)
	}
}

// testAuditOperator checks that an audit event keeps the console operator's name and that the
// log filters by reason.
func testAuditOperator(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "audited@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		return errors.Join(
			tx.AddAudit(auth.AuditEvent{At: now, CustomerID: c.ID, Reason: "sessions revoked by the operator", Operator: "ana"}),
			tx.AddAudit(auth.AuditEvent{At: now.Add(time.Second), CustomerID: c.ID, Reason: "password changed by the customer"}),
		)
	})
	got, err := s.AuditLog(ctx(), auth.AuditQuery{Reason: "revoked"})
	if err != nil || len(got) != 1 || got[0].Operator != "ana" || got[0].CustomerUUID != c.UUID || got[0].Email != c.Email {
		t.Fatalf("AuditLog(reason revoked) = %+v, %v", got, err)
	}
	all, _ := s.AuditLog(ctx(), auth.AuditQuery{CustomerUUID: c.UUID})
	if len(all) != 2 || all[0].Operator != "" || all[1].Operator != "ana" {
		t.Errorf("AuditLog(customer) = %+v", all)
	}
}

// testAdministratorSessionsAndHandOffs: an operator's removal deletes, and answers, the customer
// sessions begun as admin by them and their "log in as" codes, expired ones included, and nothing
// else: another operator's, the customers' own (no administrator UUID) and sessions of another
// login type go on.
func testAdministratorSessionsAndHandOffs(t *testing.T, s auth.Store) {
	const anaUUID, bobUUID = "7d1c3f0a-0000-4000-8000-00000000000a", "7d1c3f0a-0000-4000-8000-00000000000b"
	jan, eva := addCustomer(t, s, "jan@shop.cz"), addCustomer(t, s, "eva@shop.cz")
	session := func(deviceID string, c auth.Customer, loginType, operatorUUID string, exp time.Time) auth.Session {
		x := newSession(deviceID, c.ID, deviceID, exp)
		x.LoginType, x.AdministratorUUID = loginType, operatorUUID
		return x
	}
	handOff := func(code string, c auth.Customer, loginType, operatorUUID string, exp time.Time) auth.HandOff {
		return auth.HandOff{Hash: hash(code), Purpose: auth.HandOffLogin, CustomerID: c.ID, LoginType: loginType,
			AdministratorUUID: operatorUUID, ExpiresAt: exp}
	}
	anaSessions := []auth.Session{
		session("ana-jan", jan, auth.LoginTypeAdmin, anaUUID, now.Add(time.Hour)),
		session("ana-eva-expired", eva, auth.LoginTypeAdmin, anaUUID, now.Add(-time.Minute)),
	}
	others := []auth.Session{
		session("bob-jan", jan, auth.LoginTypeAdmin, bobUUID, now.Add(time.Hour)),
		session("jan-own", jan, auth.LoginTypeWeb, "", now.Add(time.Hour)),
		session("eva-google", eva, auth.LoginTypeGoogle, anaUUID, now.Add(time.Hour)), // not begun as admin
	}
	anaCode := handOff("ana-code", eva, auth.LoginTypeAdmin, anaUUID, now.Add(time.Minute))
	otherCodes := []auth.HandOff{
		handOff("bob-code", jan, auth.LoginTypeAdmin, bobUUID, now.Add(time.Minute)),
		handOff("google-code", jan, auth.LoginTypeGoogle, "", now.Add(time.Minute)),
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		var errs []error
		for _, x := range append(append([]auth.Session{}, anaSessions...), others...) {
			errs = append(errs, tx.CreateSession(x))
		}
		for _, h := range append([]auth.HandOff{anaCode}, otherCodes...) {
			errs = append(errs, tx.PutHandOff(h))
		}
		return errors.Join(errs...)
	})

	tests := []struct {
		name         string
		operatorUUID string
		wantSessions []auth.Session
		wantHandOffs []auth.HandOff
	}{
		{"no operator: the customers' own stay", "", nil, nil},
		{"ana's, expired included", anaUUID, anaSessions, []auth.HandOff{anaCode}},
		{"ana's again: gone", anaUUID, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sessions []auth.Session
			var handOffs []auth.HandOff
			mustUpdate(t, s, func(tx auth.Tx) error {
				var err error
				if sessions, err = tx.DeleteAdministratorSessions(tt.operatorUUID); err != nil {
					return err
				}
				handOffs, err = tx.DeleteAdministratorHandOffs(tt.operatorUUID)
				return err
			})
			if len(sessions) != len(tt.wantSessions) {
				t.Fatalf("DeleteAdministratorSessions = %+v; want %d", sessions, len(tt.wantSessions))
			}
			for _, want := range tt.wantSessions {
				found := false
				for _, got := range sessions {
					found = found || (got.DeviceID == want.DeviceID && got.CustomerID == want.CustomerID &&
						got.ExpiresAt.Equal(want.ExpiresAt) && got.CreatedAt.Equal(want.CreatedAt))
				}
				if !found {
					t.Errorf("DeleteAdministratorSessions = %+v; want %s among them", sessions, want.DeviceID)
				}
			}
			if len(handOffs) != len(tt.wantHandOffs) {
				t.Fatalf("DeleteAdministratorHandOffs = %+v; want %d", handOffs, len(tt.wantHandOffs))
			}
			for i, want := range tt.wantHandOffs {
				if got := handOffs[i]; !bytes.Equal(got.Hash, want.Hash) || got.CustomerID != want.CustomerID ||
					got.Purpose != want.Purpose || !got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Errorf("DeleteAdministratorHandOffs[%d] = %+v; want %+v", i, got, want)
				}
			}
		})
	}

	for _, x := range anaSessions {
		if _, _, err := s.SessionCustomer(ctx(), x.DeviceID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("ana's session %s: %v, want it gone", x.DeviceID, err)
		}
	}
	for _, x := range others {
		if _, _, err := s.SessionCustomer(ctx(), x.DeviceID); err != nil {
			t.Errorf("session %s after ana's went: %v", x.DeviceID, err)
		}
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		if _, err := tx.TakeHandOff(anaCode.Hash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("ana's code: %v, want it gone", err)
		}
		for _, h := range otherCodes {
			if _, err := tx.TakeHandOff(h.Hash); err != nil {
				t.Errorf("code of %q after ana's went: %v", h.AdministratorUUID, err)
			}
		}
		return nil
	})
}
