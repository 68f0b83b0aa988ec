// Package storetest is the conformance suite of auth.Store: the behaviour the domain relies on,
// run against every store (db/sqlite, db/postgres) so that they cannot drift apart.
//
// A store package calls Run from its own test with a function that opens a fresh, empty store.
package storetest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shopauth/auth"
)

// Run runs every conformance case. open must return an empty, migrated store that is closed when
// the test ends.
func Run(t *testing.T, open func(t *testing.T) auth.Store) {
	t.Helper()
	runCases(t, cases, open)
}

// testCase is one named conformance case over a fresh S (a store, a throttle).
type testCase[S any] struct {
	name string
	run  func(t *testing.T, s S)
}

func runCases[S any](t *testing.T, cases []testCase[S], open func(t *testing.T) S) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

var cases = []testCase[auth.Store]{
	{"CustomersAndSessions", testCustomersAndSessions},
	{"UpdateCustomer", testUpdateCustomer},
	{"UpdateRollsBackOnError", testUpdateRollsBackOnError},
	{"SessionRotation", testSessionRotation},
	{"RotationExactlyOnce", testRotationExactlyOnce},
	{"RotateSessionSwapsOnce", testRotateSessionSwapsOnce},
	{"RotateSessionsInParallel", testRotateSessionsInParallel},
	{"RotateSessionCancelled", testRotateSessionCancelled},
	{"DeleteSessions", testDeleteSessions},
	{"TrimSessions", testTrimSessions},
	{"PruneInBatches", testPruneInBatches},
	{"BcryptCosts", testBcryptCosts},
	{"PruneExpired", testPruneExpired},
	{"SigningKeys", testSigningKeys},
	{"Settings", testSettings},
	{"SettingCreatedOnce", testSettingCreatedOnce},
	{"KeyRingDecidedOnce", testKeyRingDecidedOnce},
	{"Recovery", testRecovery},
	{"CustomerListing", testCustomerListing},
	{"AuditLog", testAuditLog},
	{"DeleteCustomer", testDeleteCustomer},
	{"Passkeys", testPasskeys},
	{"PasskeyCountInParallel", testPasskeyCountInParallel},
	{"ConsoleOperators", testConsoleOperators},
	{"SearchCustomers", testSearchCustomers},
	{"AuditOperator", testAuditOperator},
	{"AdministratorSessionsAndHandOffs", testAdministratorSessionsAndHandOffs},
}

// now is a fixed instant with milliseconds, the precision every store keeps.
var now = time.UnixMilli(1_700_000_000_123).UTC()

func ctx() context.Context { return context.Background() }

func mustUpdate(t *testing.T, s auth.Store, fn func(auth.Tx) error) {
	t.Helper()
	if err := s.Update(ctx(), fn); err != nil {
		t.Fatal(err)
	}
}

func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

var uuids atomic.Int64

// addCustomer creates a customer with the given email and returns it with its ID set.
func addCustomer(t *testing.T, s auth.Store, email string) auth.Customer {
	t.Helper()
	c := auth.Customer{UUID: fmt.Sprintf("0b6e7c4e-3b1b-4c55-9a8e-%012d", uuids.Add(1)), Email: email,
		FirstName: "Jan", LastName: "Novák", PasswordHash: "$argon2id$x", CreatedAt: now, SecurityChangedAt: now}
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.CreateCustomer(&c) })
	if c.ID == 0 {
		t.Fatal("CreateCustomer left the ID at 0")
	}
	return c
}

func newSession(deviceID string, customerID int64, secret string, exp time.Time) auth.Session {
	return auth.Session{DeviceID: deviceID, CustomerID: customerID, SecretHash: hash(secret), CreatedAt: now,
		LastRefreshedAt: now, IssuedAt: now, ExpiresAt: exp, KeyID: "kid-1", Signature: "sig-" + secret}
}

func testCustomersAndSessions(t *testing.T, s auth.Store) {
	tel := "605000123"
	c := auth.Customer{UUID: "0b6e7c4e-3b1b-4c55-9a8e-2f7a3c9b1d10", Email: "jan@shop.cz", FirstName: "Jan",
		LastName: "Novák", Telephone: &tel, PasswordHash: "$argon2id$x", CreatedAt: now}
	mustUpdate(t, s, func(tx auth.Tx) error {
		if err := tx.CreateCustomer(&c); err != nil {
			return err
		}
		return tx.CreateSession(auth.Session{DeviceID: "dev-1", CustomerID: c.ID, SecretHash: []byte{1, 2},
			CreatedAt: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour), KeyID: "k", Signature: "sig"})
	})
	dup := c
	dup.UUID = "0b6e7c4e-3b1b-4c55-9a8e-2f7a3c9b1d11"
	if err := s.Update(ctx(), func(tx auth.Tx) error { return tx.CreateCustomer(&dup) }); !errors.Is(err, auth.ErrEmailTaken) {
		t.Errorf("duplicate email: err = %v, want ErrEmailTaken", err)
	}
	dupUUID := c
	dupUUID.Email = "someone.else@example.com"
	if err := s.Update(ctx(), func(tx auth.Tx) error { return tx.CreateCustomer(&dupUUID) }); !errors.Is(err, auth.ErrUUIDTaken) {
		t.Errorf("duplicate uuid: err = %v, want ErrUUIDTaken", err)
	}
	sess, got, err := s.SessionCustomer(ctx(), "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.UUID != c.UUID || got.Email != c.Email || got.LastName != "Novák" ||
		got.Telephone == nil || *got.Telephone != tel || !got.CreatedAt.Equal(now) {
		t.Errorf("customer = %+v", got)
	}
	if !sess.ExpiresAt.Equal(now.Add(time.Hour)) || !sess.CreatedAt.Equal(now) || string(sess.SecretHash) != "\x01\x02" ||
		sess.KeyID != "k" || sess.Signature != "sig" || sess.PrevSecretHash != nil || !sess.RotatedAt.IsZero() {
		t.Errorf("session = %+v", sess)
	}
	if _, _, err := s.SessionCustomer(ctx(), "nope"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("missing session: err = %v, want ErrNotFound", err)
	}
	for name, lookup := range map[string]func() (auth.Customer, error){
		"by email": func() (auth.Customer, error) { return s.CustomerByEmail(ctx(), "jan@shop.cz") },
		"by uuid":  func() (auth.Customer, error) { return s.CustomerByUUID(ctx(), c.UUID) },
	} {
		if got, err := lookup(); err != nil || got.ID != c.ID || got.Telephone == nil {
			t.Errorf("%s: %+v, %v", name, got, err)
		}
	}
	if _, err := s.CustomerByEmail(ctx(), "nobody@shop.cz"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown email: err = %v, want ErrNotFound", err)
	}
	if _, err := s.CustomerByUUID(ctx(), "0b6e7c4e-0000-0000-0000-000000000000"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown uuid: err = %v, want ErrNotFound", err)
	}
	if err := s.Ping(ctx()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testUpdateCustomer(t *testing.T, s auth.Store) {
	a := addCustomer(t, s, "a@shop.cz")
	b := addCustomer(t, s, "bb@shop.cz")
	a.FirstName, a.PasswordHash, a.SecurityChangedAt = "Eva", "$argon2id$new", now.Add(time.Minute)
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.UpdateCustomer(a) })
	got, err := s.CustomerByEmail(ctx(), "a@shop.cz")
	if err != nil || got.FirstName != "Eva" || got.PasswordHash != "$argon2id$new" || !got.SecurityChangedAt.Equal(now.Add(time.Minute)) ||
		got.Telephone != nil {
		t.Errorf("after update: %+v, %v", got, err)
	}
	b.Email = "a@shop.cz"
	if err := s.Update(ctx(), func(tx auth.Tx) error { return tx.UpdateCustomer(b) }); !errors.Is(err, auth.ErrEmailTaken) {
		t.Errorf("update to a taken email: err = %v, want ErrEmailTaken", err)
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		byID, err := tx.CustomerByID(a.ID)
		if err != nil || byID.Email != "a@shop.cz" {
			t.Errorf("tx CustomerByID: %+v, %v", byID, err)
		}
		if _, err := tx.CustomerByID(a.ID + b.ID + 100); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("tx CustomerByID of nobody: %v, want ErrNotFound", err)
		}
		byEmail, err := tx.CustomerByEmail("bb@shop.cz")
		if err != nil || byEmail.ID != b.ID {
			t.Errorf("tx CustomerByEmail: %+v, %v", byEmail, err)
		}
		return nil
	})
}

func testUpdateRollsBackOnError(t *testing.T, s auth.Store) {
	boom := errors.New("boom")
	err := s.Update(ctx(), func(tx auth.Tx) error {
		if err := tx.SetSetting("x", []byte("1")); err != nil {
			return err
		}
		c := auth.Customer{UUID: "0b6e7c4e-3b1b-4c55-9a8e-000000000001", Email: "gone@shop.cz", FirstName: "J",
			LastName: "N", PasswordHash: "h", CreatedAt: now}
		if err := tx.CreateCustomer(&c); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the callback's error", err)
	}
	if _, err := s.Setting(ctx(), "x"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("setting survived a rolled-back transaction: %v", err)
	}
	if _, err := s.CustomerByEmail(ctx(), "gone@shop.cz"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("customer survived a rolled-back transaction: %v", err)
	}
}

func testSessionRotation(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "rot@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.CreateSession(newSession("dev-r", c.ID, "s0", now.Add(time.Hour))) })
	later := now.Add(5 * time.Second)
	mustUpdate(t, s, func(tx auth.Tx) error {
		cur, err := tx.Session("dev-r")
		if err != nil {
			return err
		}
		cur.PrevSecretHash, cur.SecretHash = cur.SecretHash, hash("s1")
		cur.RotatedAt, cur.LastRefreshedAt, cur.IssuedAt = later, later, later
		cur.ExpiresAt, cur.KeyID, cur.Signature = later.Add(2*time.Hour), "kid-2", "sig-s1"
		return tx.UpdateSession(cur)
	})
	list, err := s.Sessions(ctx(), c.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("Sessions = %v, %v", list, err)
	}
	got := list[0]
	if !bytes.Equal(got.SecretHash, hash("s1")) || !bytes.Equal(got.PrevSecretHash, hash("s0")) ||
		!got.RotatedAt.Equal(later) || !got.LastRefreshedAt.Equal(later) || !got.IssuedAt.Equal(later) ||
		!got.ExpiresAt.Equal(later.Add(2*time.Hour)) || !got.CreatedAt.Equal(now) || got.KeyID != "kid-2" ||
		got.Signature != "sig-s1" || got.CustomerID != c.ID {
		t.Errorf("rotated session = %+v", got)
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		if _, err := tx.Session("nope"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("tx Session of nothing: %v, want ErrNotFound", err)
		}
		for _, want := range []bool{true, false} {
			if ok, err := tx.DeleteSession("dev-r"); err != nil || ok != want {
				t.Errorf("DeleteSession = %v, %v; want %v", ok, err, want)
			}
		}
		return nil
	})
}

// testRotationExactlyOnce: parallel transactions that each read the session and rotate it only if
// the secret they hold is still the newest never fork the chain: exactly one wins.
func testRotationExactlyOnce(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "race@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.CreateSession(newSession("dev-x", c.ID, "s0", now.Add(time.Hour))) })
	const n = 16
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx(), func(tx auth.Tx) error {
				cur, err := tx.Session("dev-x")
				if err != nil {
					return err
				}
				if !bytes.Equal(cur.SecretHash, hash("s0")) {
					return nil // somebody rotated first: a grace answer, no write
				}
				cur.PrevSecretHash, cur.SecretHash = cur.SecretHash, hash(fmt.Sprintf("s1-%d", i))
				cur.RotatedAt = now.Add(time.Second)
				if err := tx.UpdateSession(cur); err != nil {
					return err
				}
				wins.Add(1)
				return nil
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
		t.Errorf("%d of %d parallel rotations won, want exactly 1", w, n)
	}
	sess, _, err := s.SessionCustomer(ctx(), "dev-x")
	if err != nil || !bytes.Equal(sess.PrevSecretHash, hash("s0")) {
		t.Errorf("after the race: %+v, %v", sess, err)
	}
}

// testRotateSessionSwapsOnce: RotateSession is a compare-and-swap on the state a rotation is
// decided in: of parallel swaps presenting the same secret exactly one succeeds, it stores every
// rotated field and answers the customer, and it keeps the session's customer and creation time.
// Nothing is written for a session that is gone, expired, another customer's, or whose newest
// secret is another.
func testRotateSessionSwapsOnce(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "cas@shop.cz")
	other := addCustomer(t, s, "other@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.CreateSession(newSession("dev-c", c.ID, "s0", now.Add(time.Hour))) })
	later := now.Add(5 * time.Second)
	next := func(i int) auth.Session {
		return auth.Session{DeviceID: "dev-c", SecretHash: hash(fmt.Sprintf("s1-%d", i)), PrevSecretHash: hash("s0"),
			RotatedAt: later, LastRefreshedAt: later, IssuedAt: later, ExpiresAt: later.Add(2 * time.Hour),
			KeyID: "kid-2", Signature: fmt.Sprintf("sig-%d", i)}
	}
	for _, tc := range []struct {
		name string
		next auth.Session
		uuid string
		at   time.Time
	}{
		{"another customer's", next(0), other.UUID, later},
		{"expired at the boundary millisecond", next(0), c.UUID, now.Add(time.Hour)},
		{"another newest secret", func() auth.Session { n := next(0); n.PrevSecretHash = hash("s9"); return n }(), c.UUID, later},
		{"gone", func() auth.Session { n := next(0); n.DeviceID = "no-such-device"; return n }(), c.UUID, later},
	} {
		if _, ok, err := s.RotateSession(ctx(), tc.next, tc.uuid, tc.at); ok || err != nil {
			t.Errorf("RotateSession of a session %s = %v, %v; want false, nil", tc.name, ok, err)
		}
	}
	if _, _, err := s.SessionCustomer(ctx(), "no-such-device"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a swap created a session: %v", err)
	}

	const n = 16
	var wins, winner atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cust, ok, err := s.RotateSession(ctx(), next(i), c.UUID, now.Add(time.Hour-time.Millisecond))
			if err != nil {
				t.Errorf("RotateSession: %v", err)
			}
			if ok {
				wins.Add(1)
				winner.Store(int32(i))
				want := auth.Customer{ID: c.ID, UUID: c.UUID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName}
				if cust != want {
					t.Errorf("RotateSession answered the customer %+v, want what a token carries: %+v", cust, want)
				}
			}
		})
	}
	wg.Wait()
	if w := wins.Load(); w != 1 {
		t.Fatalf("%d of %d parallel swaps succeeded, want exactly 1", w, n)
	}
	got, _, err := s.SessionCustomer(ctx(), "dev-c")
	want := next(int(winner.Load()))
	if err != nil || got.CustomerID != c.ID || !got.CreatedAt.Equal(now) ||
		!bytes.Equal(got.SecretHash, want.SecretHash) || !bytes.Equal(got.PrevSecretHash, hash("s0")) ||
		!got.RotatedAt.Equal(later) || !got.LastRefreshedAt.Equal(later) || !got.IssuedAt.Equal(later) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || got.KeyID != "kid-2" || got.Signature != want.Signature {
		t.Errorf("after the swap: %+v, %v", got, err)
	}
	if _, ok, err := s.RotateSession(ctx(), next(99), c.UUID, later); ok || err != nil {
		t.Errorf("a swap presenting the old secret again = %v, %v; want false", ok, err)
	}
}

func testDeleteSessions(t *testing.T, s auth.Store) {
	a := addCustomer(t, s, "a@shop.cz")
	b := addCustomer(t, s, "bb@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		for _, x := range []auth.Session{
			newSession("a1", a.ID, "1", now.Add(time.Hour)), newSession("a2", a.ID, "2", now.Add(time.Hour)),
			newSession("a3", a.ID, "3", now.Add(time.Hour)), newSession("b1", b.ID, "4", now.Add(time.Hour)),
		} {
			if err := tx.CreateSession(x); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name      string
		customer  int64
		keep      string
		deleted   int
		remaining []string
	}{
		{"keep one", a.ID, "a2", 2, []string{"a2"}},
		{"keep none", a.ID, "", 1, nil},
		{"nothing left", a.ID, "", 0, nil},
	}
	for _, tc := range tests {
		mustUpdate(t, s, func(tx auth.Tx) error {
			n, err := tx.DeleteSessions(tc.customer, tc.keep)
			if err != nil || n != tc.deleted {
				t.Errorf("%s: DeleteSessions = %d, %v; want %d", tc.name, n, err, tc.deleted)
			}
			return err
		})
		list, err := s.Sessions(ctx(), tc.customer)
		var ids []string
		for _, x := range list {
			ids = append(ids, x.DeviceID)
		}
		if err != nil || fmt.Sprint(ids) != fmt.Sprint(tc.remaining) {
			t.Errorf("%s: sessions left = %v, %v; want %v", tc.name, ids, err, tc.remaining)
		}
	}
	if list, _ := s.Sessions(ctx(), b.ID); len(list) != 1 {
		t.Errorf("another customer's sessions were touched: %d left, want 1", len(list))
	}
}

func testPruneExpired(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "old@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		for _, x := range []auth.Session{
			newSession("gone", c.ID, "1", now.Add(time.Hour)),
			newSession("edge", c.ID, "2", now.Add(2*time.Hour)), // expires exactly at the prune instant
			newSession("kept", c.ID, "3", now.Add(3*time.Hour)),
		} {
			if err := tx.CreateSession(x); err != nil {
				return err
			}
		}
		for _, e := range []auth.AuditEvent{
			{At: now.Add(-time.Hour), CustomerID: c.ID, DeviceID: "gone", Reason: "old", RemoteAddr: "192.0.2.1"},
			{At: now, CustomerID: c.ID, DeviceID: "kept", Reason: "new"},
		} {
			if err := tx.AddAudit(e); err != nil {
				return err
			}
		}
		if err := tx.PutRecovery(auth.Recovery{CustomerID: c.ID, HashSHA256: hash("r"), ExpiresAt: now.Add(time.Hour)}); err != nil {
			return err
		}
		n, err := tx.DeleteExpired(now.Add(2*time.Hour), now, 100)
		if n != 2 {
			t.Errorf("DeleteExpired removed %d sessions, want 2", n)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Recovery(c.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("expired recovery survived the prune: %v", err)
		}
		return nil
	})
	list, err := s.Sessions(ctx(), c.ID)
	if err != nil || len(list) != 1 || list[0].DeviceID != "kept" {
		t.Errorf("sessions after prune = %+v, %v; want only kept", list, err)
	}
}

func testSigningKeys(t *testing.T, s auth.Store) {
	if keys, err := s.SigningKeys(ctx()); err != nil || len(keys) != 0 {
		t.Fatalf("a new store has keys: %v, %v", keys, err)
	}
	var made []auth.SigningKey
	for i, alg := range []string{"RS256", "ES256", "EdDSA"} {
		k, err := auth.GenerateKey(alg, now.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		k.Shopsys = alg == "RS256"
		made = append(made, k)
		mustUpdate(t, s, func(tx auth.Tx) error { return tx.AddSigningKey(k) })
	}
	// A refresh key (HS256) is a key row too, so db copy carries it; its start time keeps milliseconds
	// (keys added in one second are ordered a millisecond apart).
	refresh, err := auth.GenerateRefreshKey(now.Add(3*time.Minute + 7*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	refresh.CreatedAt = now.Add(3*time.Minute + 7*time.Millisecond).UTC()
	made = append(made, refresh)
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.AddSigningKey(refresh) })
	// Adding a key again (an import of a key already held) updates it instead of failing.
	again := made[1]
	again.CreatedAt = again.CreatedAt.Add(time.Hour)
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.AddSigningKey(again) })
	made[1] = again
	keys, err := s.SigningKeys(ctx())
	if err != nil || len(keys) != 4 {
		t.Fatalf("SigningKeys = %d keys, %v; want 4", len(keys), err)
	}
	byID := map[string]auth.SigningKey{}
	for _, k := range keys {
		byID[k.ID] = k
	}
	for _, want := range made {
		got, ok := byID[want.ID]
		if !ok {
			t.Errorf("key %s (%s) missing", want.ID, want.Algorithm)
			continue
		}
		if got.Algorithm != want.Algorithm || !got.CreatedAt.Equal(want.CreatedAt) || got.Shopsys != want.Shopsys {
			t.Errorf("key %s = %s %v shopsys=%v; want %s %v shopsys=%v", want.ID, got.Algorithm, got.CreatedAt, got.Shopsys,
				want.Algorithm, want.CreatedAt, want.Shopsys)
		}
		if want.Algorithm == auth.HS256 {
			if got.Private != nil || !bytes.Equal(got.Secret, want.Secret) {
				t.Errorf("refresh key %s: stored secret does not match", want.ID)
			}
			continue
		}
		if pub, ok := got.Private.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(want.Private.Public()) {
			t.Errorf("key %s: stored private key does not match", want.ID)
		}
	}
	// Oldest first: the ring takes the newest as the current key.
	for i := 1; i < len(keys); i++ {
		if keys[i].CreatedAt.Before(keys[i-1].CreatedAt) {
			t.Errorf("keys not ordered by creation: %v before %v", keys[i-1].CreatedAt, keys[i].CreatedAt)
		}
	}
}

func testSettings(t *testing.T, s auth.Store) {
	if _, err := s.Setting(ctx(), "issuer"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("missing setting: %v, want ErrNotFound", err)
	}
	for _, v := range [][]byte{[]byte("first"), {0, 1, 2, 0xff}} {
		mustUpdate(t, s, func(tx auth.Tx) error { return tx.SetSetting("issuer", v) })
		got, err := s.Setting(ctx(), "issuer")
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("Setting = %q, %v; want %q", got, err, v)
		}
		mustUpdate(t, s, func(tx auth.Tx) error {
			got, err := tx.Setting("issuer")
			if err != nil || !bytes.Equal(got, v) {
				t.Errorf("tx Setting = %q, %v; want %q", got, err, v)
			}
			if _, err := tx.Setting("other"); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("tx missing setting: %v, want ErrNotFound", err)
			}
			return nil
		})
	}
}

func testRecovery(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "lost@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		if _, err := tx.Recovery(c.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("no recovery yet: %v, want ErrNotFound", err)
		}
		for _, secret := range []string{"one", "two"} { // a second request replaces the first
			if err := tx.PutRecovery(auth.Recovery{CustomerID: c.ID, HashSHA256: hash(secret), ExpiresAt: now.Add(time.Hour)}); err != nil {
				return err
			}
		}
		r, err := tx.Recovery(c.ID)
		if err != nil || !bytes.Equal(r.HashSHA256, hash("two")) || !r.ExpiresAt.Equal(now.Add(time.Hour)) || r.CustomerID != c.ID {
			t.Errorf("Recovery = %+v, %v", r, err)
		}
		if err := tx.DeleteRecovery(c.ID); err != nil {
			return err
		}
		if _, err := tx.Recovery(c.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("after DeleteRecovery: %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testTrimSessions(t *testing.T, s auth.Store) {
	a := addCustomer(t, s, "trim@shop.cz")
	b := addCustomer(t, s, "other@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		for i := range 5 {
			x := newSession(fmt.Sprintf("t%d", i), a.ID, fmt.Sprint("t", i), now.Add(time.Hour))
			x.CreatedAt = now.Add(time.Duration(i) * time.Second) // t0 oldest, t4 newest
			if err := tx.CreateSession(x); err != nil {
				return err
			}
		}
		return tx.CreateSession(newSession("o1", b.ID, "o1", now.Add(time.Hour)))
	})
	tests := []struct {
		keep, deleted int
		remaining     []string // newest first
	}{
		{5, 0, []string{"t4", "t3", "t2", "t1", "t0"}},
		{3, 2, []string{"t4", "t3", "t2"}},
		{3, 0, []string{"t4", "t3", "t2"}},
		{1, 2, []string{"t4"}},
	}
	for _, tc := range tests {
		mustUpdate(t, s, func(tx auth.Tx) error {
			n, err := tx.TrimSessions(a.ID, tc.keep)
			if err != nil || n != tc.deleted {
				t.Errorf("TrimSessions(keep %d) = %d, %v; want %d", tc.keep, n, err, tc.deleted)
			}
			return err
		})
		list, err := s.Sessions(ctx(), a.ID)
		var ids []string
		for _, x := range list {
			ids = append(ids, x.DeviceID)
		}
		if err != nil || fmt.Sprint(ids) != fmt.Sprint(tc.remaining) {
			t.Errorf("keep %d: sessions left = %v, %v; want %v (the oldest end first)", tc.keep, ids, err, tc.remaining)
		}
	}
	if list, _ := s.Sessions(ctx(), b.ID); len(list) != 1 {
		t.Errorf("another customer's sessions were touched: %d left, want 1", len(list))
	}
}

// testPruneInBatches: each DeleteExpired call deletes at most its limit, so a prune of many rows
// holds the write lock in short turns.
func testPruneInBatches(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "batch@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error {
		for i := range 7 {
			if err := tx.CreateSession(newSession(fmt.Sprintf("b%d", i), c.ID, fmt.Sprint("b", i), now)); err != nil {
				return err
			}
		}
		return tx.CreateSession(newSession("live", c.ID, "live", now.Add(time.Hour)))
	})
	for i, want := range []int{3, 3, 1, 0} {
		mustUpdate(t, s, func(tx auth.Tx) error {
			n, err := tx.DeleteExpired(now, now, 3)
			if err != nil || n != want {
				t.Errorf("batch %d: DeleteExpired = %d, %v; want %d", i, n, err, want)
			}
			return err
		})
	}
	if list, err := s.Sessions(ctx(), c.ID); err != nil || len(list) != 1 || list[0].DeviceID != "live" {
		t.Errorf("after the batches: %+v, %v; want only the live session", list, err)
	}
}

// testSettingCreatedOnce: transactions that each read a setting and create it when missing (the
// chain key, when several processes start at once on a new database) all end up with one value.
func testSettingCreatedOnce(t *testing.T, s auth.Store) {
	const n = 8
	seen := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.Update(ctx(), func(tx auth.Tx) error {
				v, err := tx.Setting("chain_key")
				if errors.Is(err, auth.ErrNotFound) {
					time.Sleep(20 * time.Millisecond) // (make the transactions overlap)
					v = []byte(fmt.Sprintf("value of %d", i))
					err = tx.SetSetting("chain_key", v)
				}
				seen[i] = v
				return err
			})
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	stored, err := s.Setting(ctx(), "chain_key")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range seen {
		if !bytes.Equal(v, stored) {
			t.Errorf("transaction %d went on with %q, but %q is stored", i, v, stored)
		}
	}
}

// testKeyRingDecidedOnce: transactions that read the key ring (Tx.SigningKeys) and add a key only
// when there is none take turns, so one key is added, whatever the number that start at once.
func testKeyRingDecidedOnce(t *testing.T, s auth.Store) {
	const n = 6
	keys := make([]auth.SigningKey, n)
	for i := range keys {
		k, err := auth.GenerateKey(auth.EdDSA, now)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.Update(ctx(), func(tx auth.Tx) error {
				ring, err := tx.SigningKeys()
				if err != nil || len(ring) > 0 {
					return err
				}
				time.Sleep(20 * time.Millisecond) // (make the transactions overlap)
				return tx.AddSigningKey(keys[i])
			})
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	got, err := s.SigningKeys(ctx())
	if err != nil || len(got) != 1 {
		t.Fatalf("SigningKeys after %d transactions at once = %d keys, %v; want 1", n, len(got), err)
	}
}

func testBcryptCosts(t *testing.T, s auth.Store) {
	if got, err := s.BcryptCosts(ctx()); err != nil || len(got) != 0 {
		t.Fatalf("BcryptCosts of an empty store = %v, %v", got, err)
	}
	for i, h := range []string{"$2y$13$abc", "$2a$10$abc", "$2b$13$xyz", "$argon2id$v=19$m=19456,t=2,p=1$a$b"} {
		c := auth.Customer{UUID: fmt.Sprintf("7d0c2b1e-1111-4c55-9a8e-%012d", i), Email: fmt.Sprintf("b%d@shop.cz", i),
			FirstName: "Jan", LastName: "Novák", PasswordHash: h, CreatedAt: now}
		mustUpdate(t, s, func(tx auth.Tx) error { return tx.CreateCustomer(&c) })
	}
	got, err := s.BcryptCosts(ctx())
	slices.Sort(got)
	if err != nil || fmt.Sprint(got) != "[10 13]" {
		t.Errorf("BcryptCosts = %v, %v; want [10 13]", got, err)
	}
}

// testRotateSessionsInParallel: many sessions rotated at once (SQLite commits them in groups) each
// swap once, each answered with its own customer, and each stored as its rotation said.
func testRotateSessionsInParallel(t *testing.T, s auth.Store) {
	const n = 40
	custs := make([]auth.Customer, 4)
	for i := range custs {
		custs[i] = addCustomer(t, s, fmt.Sprintf("group%d@shop.cz", i))
	}
	mustUpdate(t, s, func(tx auth.Tx) error {
		for i := range n {
			if err := tx.CreateSession(newSession(fmt.Sprintf("dev-g%d", i), custs[i%len(custs)].ID, fmt.Sprintf("g%d", i), now.Add(time.Hour))); err != nil {
				return err
			}
		}
		return nil
	})
	later := now.Add(5 * time.Second)
	next := func(i int) auth.Session {
		return auth.Session{DeviceID: fmt.Sprintf("dev-g%d", i), SecretHash: hash(fmt.Sprintf("g%d-next", i)), PrevSecretHash: hash(fmt.Sprintf("g%d", i)),
			RotatedAt: later, LastRefreshedAt: later, IssuedAt: later, ExpiresAt: later.Add(2 * time.Hour),
			KeyID: "kid-2", Signature: fmt.Sprintf("sig-g%d", i)}
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Every fourth presents another customer's uuid: it must not swap, whatever it is grouped with.
			uuid, want := custs[i%len(custs)].UUID, true
			if i%4 == 3 {
				uuid, want = custs[(i+1)%len(custs)].UUID, false
			}
			cust, ok, err := s.RotateSession(ctx(), next(i), uuid, later)
			if err != nil || ok != want || (ok && cust.ID != custs[i%len(custs)].ID) {
				t.Errorf("RotateSession %d = %d, %v, %v; want customer %d, %v", i, cust.ID, ok, err, custs[i%len(custs)].ID, want)
			}
		})
	}
	wg.Wait()
	for i := range n {
		got, _, err := s.SessionCustomer(ctx(), fmt.Sprintf("dev-g%d", i))
		want := next(i)
		if i%4 == 3 {
			want = newSession(want.DeviceID, 0, fmt.Sprintf("g%d", i), now.Add(time.Hour))
		}
		if err != nil || !bytes.Equal(got.SecretHash, want.SecretHash) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.Signature != want.Signature {
			t.Errorf("session %d after the rotations: %+v, %v; want secret of %+v", i, got, err, want)
		}
	}
}

// testRotateSessionCancelled: a rotation whose caller has given up is not applied.
func testRotateSessionCancelled(t *testing.T, s auth.Store) {
	c := addCustomer(t, s, "gone@shop.cz")
	mustUpdate(t, s, func(tx auth.Tx) error { return tx.CreateSession(newSession("dev-x", c.ID, "x0", now.Add(time.Hour))) })
	cancelled, cancel := context.WithCancel(ctx())
	cancel()
	later := now.Add(time.Second)
	next := auth.Session{DeviceID: "dev-x", SecretHash: hash("x1"), PrevSecretHash: hash("x0"), RotatedAt: later,
		LastRefreshedAt: later, IssuedAt: later, ExpiresAt: later.Add(time.Hour), KeyID: "kid-2", Signature: "sig-x1"}
	if _, ok, err := s.RotateSession(cancelled, next, c.UUID, later); ok || err == nil {
		t.Errorf("RotateSession with a cancelled context = %v, %v; want an error", ok, err)
	}
	got, _, err := s.SessionCustomer(ctx(), "dev-x")
	if err != nil || !bytes.Equal(got.SecretHash, hash("x0")) {
		t.Errorf("the cancelled rotation was applied: %+v, %v", got, err)
	}
}
