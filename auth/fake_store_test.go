package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// fakeStore is an in-memory Store for the domain's tests. It behaves as the SQLite store does
// where the domain can tell: Update is serialised and atomic (a failing fn leaves no trace),
// lookups answer ErrNotFound, a taken email is ErrEmailTaken, updates of missing rows are no-ops.
type fakeStore struct {
	mu sync.RWMutex
	st fakeState
	// updates counts committed and rolled-back transactions, for tests that want to know.
	updates int
	// The console's storage is not faked: its tests run on SQLite (console_test.go). Calling it
	// here panics on the nil interface.
	ConsoleStore
}

type fakeState struct {
	nextCustomerID int64
	customers      map[int64]Customer
	sessions       map[string]Session
	audit          []AuditEvent
	keys           []SigningKey
	settings       map[string][]byte
	recoveries     map[int64]Recovery
	passkeys       map[string]Passkey           // by string(credential id)
	challenges     map[string]PasskeyChallenge  // by string(hash)
	identities     map[[2]string]SocialIdentity // by type, subject
	flows          map[string]SocialFlow        // by string(state hash)
	handOffs       map[string]HandOff           // by string(hash)
	verifications  map[int64]Recovery
}

var (
	_ Store = (*fakeStore)(nil)
	_ Tx    = (*fakeTx)(nil)
)

func newFakeStore() *fakeStore {
	return &fakeStore{st: fakeState{
		customers:     map[int64]Customer{},
		sessions:      map[string]Session{},
		settings:      map[string][]byte{},
		recoveries:    map[int64]Recovery{},
		passkeys:      map[string]Passkey{},
		challenges:    map[string]PasskeyChallenge{},
		identities:    map[[2]string]SocialIdentity{},
		flows:         map[string]SocialFlow{},
		handOffs:      map[string]HandOff{},
		verifications: map[int64]Recovery{},
	}}
}

// clone copies the state so a failed transaction can be rolled back. Byte slices are not copied:
// the fake never changes one in place, it replaces it.
func (s fakeState) clone() fakeState {
	c := s
	c.customers = maps.Clone(s.customers)
	c.sessions = maps.Clone(s.sessions)
	c.settings = maps.Clone(s.settings)
	c.recoveries = maps.Clone(s.recoveries)
	c.passkeys = maps.Clone(s.passkeys)
	c.challenges = maps.Clone(s.challenges)
	c.identities = maps.Clone(s.identities)
	c.flows = maps.Clone(s.flows)
	c.handOffs = maps.Clone(s.handOffs)
	c.verifications = maps.Clone(s.verifications)
	c.audit = slices.Clone(s.audit)
	c.keys = slices.Clone(s.keys)
	return c
}

func (s *fakeStore) CustomerByEmail(ctx context.Context, email string) (Customer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.customerByEmail(email)
}

func (s *fakeStore) CustomerByUUID(ctx context.Context, uuid string) (Customer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.st.customers {
		if c.UUID == uuid {
			return c, nil
		}
	}
	return Customer{}, ErrNotFound
}

func (s *fakeStore) SessionCustomer(ctx context.Context, deviceID string) (Session, Customer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sess, ok := s.st.sessions[deviceID]
	if !ok {
		return Session{}, Customer{}, ErrNotFound
	}
	c, ok := s.st.customers[sess.CustomerID]
	if !ok {
		return Session{}, Customer{}, ErrNotFound
	}
	return sess, c, nil
}

func (s *fakeStore) RotateSession(ctx context.Context, next Session, customerUUID string, now time.Time) (Customer, bool, error) {
	if err := ctx.Err(); err != nil {
		return Customer{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	old, ok := s.st.sessions[next.DeviceID]
	if !ok || !bytes.Equal(old.SecretHash, next.PrevSecretHash) || !now.Before(old.ExpiresAt) || old.LoginType == LoginTypeAdmin {
		return Customer{}, false, nil
	}
	c, ok := s.st.customers[old.CustomerID]
	if !ok || c.UUID != customerUUID {
		return Customer{}, false, nil
	}
	st := s.st.clone()
	next.CustomerID, next.CreatedAt = old.CustomerID, old.CreatedAt
	next.LoginType, next.ExternalID, next.AdministratorUUID = old.LoginType, old.ExternalID, old.AdministratorUUID
	st.sessions[next.DeviceID] = next
	s.st = st
	return c, true, nil
}

func (s *fakeStore) Sessions(ctx context.Context, customerID int64) ([]Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Session
	for _, x := range s.st.sessions {
		if x.CustomerID == customerID {
			out = append(out, x)
		}
	}
	// Newest first, as the SQLite store answers.
	slices.SortFunc(out, func(a, b Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.DeviceID, b.DeviceID)
	})
	return out, nil
}

func (s *fakeStore) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sortedKeys(s.st.keys), nil
}

func (t *fakeTx) SigningKeys() ([]SigningKey, error) {
	t.check()
	return sortedKeys(t.st.keys), nil
}

func sortedKeys(keys []SigningKey) []SigningKey {
	out := slices.Clone(keys)
	slices.SortStableFunc(out, func(a, b SigningKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (s *fakeStore) Setting(ctx context.Context, name string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.setting(name)
}

func (s *fakeStore) Ping(ctx context.Context) error { return ctx.Err() }

func (s *fakeStore) BcryptCosts(ctx context.Context) ([]int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[int]bool{}
	var out []int
	for _, c := range s.st.customers {
		if cost, err := bcrypt.Cost([]byte(c.PasswordHash)); err == nil && !seen[cost] {
			seen[cost] = true
			out = append(out, cost)
		}
	}
	return out, nil
}

// Update runs fn on a copy of the state and keeps the copy only when fn succeeds.
func (s *fakeStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	tx := &fakeTx{st: s.st.clone()}
	defer func() { tx.done = true }()
	if err := fn(tx); err != nil {
		return err
	}
	s.st = tx.st
	return nil
}

// recovery returns the stored recovery of a customer, for tests that look behind the domain.
func (s *fakeStore) recovery(customerID int64) (Recovery, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.st.recoveries[customerID]
	return r, ok
}

// customer returns a stored customer by id, for tests.
func (s *fakeStore) customer(id int64) (Customer, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.st.customers[id]
	return c, ok
}

// sessionCount is how many sessions a customer has, for tests.
func (s *fakeStore) sessionCount(customerID int64) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, x := range s.st.sessions {
		if x.CustomerID == customerID {
			n++
		}
	}
	return n
}

// auditEvents returns the audit log, oldest first, for tests.
func (s *fakeStore) auditEvents() []AuditEvent {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.st.audit)
}

func (st *fakeState) customerByEmail(email string) (Customer, error) {
	for _, c := range st.customers {
		if c.Email == email {
			return c, nil
		}
	}
	return Customer{}, ErrNotFound
}

func (st *fakeState) setting(name string) ([]byte, error) {
	v, ok := st.settings[name]
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(v), nil
}

// fakeTx is one transaction of fakeStore, working on its own copy of the state.
type fakeTx struct {
	st        fakeState
	done      bool
	ConsoleTx // not faked, as fakeStore.ConsoleStore
}

var errTxDone = errors.New("fake store: transaction used after it ended")

func (t *fakeTx) check() {
	if t.done {
		panic(errTxDone)
	}
}

func (t *fakeTx) CreateCustomer(c *Customer) error {
	t.check()
	if _, err := t.st.customerByEmail(c.Email); err == nil {
		return ErrEmailTaken
	}
	for _, x := range t.st.customers {
		if x.UUID == c.UUID {
			return ErrUUIDTaken
		}
	}
	t.st.nextCustomerID++
	c.ID = t.st.nextCustomerID
	t.st.customers[c.ID] = *c
	return nil
}

func (t *fakeTx) UpdateCustomer(c Customer) error {
	t.check()
	old, ok := t.st.customers[c.ID]
	if !ok {
		return nil
	}
	if other, err := t.st.customerByEmail(c.Email); err == nil && other.ID != c.ID {
		return ErrEmailTaken
	}
	// As the SQL UPDATE does, keep what it does not set.
	c.UUID, c.CreatedAt = old.UUID, old.CreatedAt
	t.st.customers[c.ID] = c
	return nil
}

func (t *fakeTx) CustomerByEmail(email string) (Customer, error) {
	t.check()
	return t.st.customerByEmail(email)
}

func (t *fakeTx) CustomerByID(id int64) (Customer, error) {
	t.check()
	c, ok := t.st.customers[id]
	if !ok {
		return Customer{}, ErrNotFound
	}
	return c, nil
}

func (t *fakeTx) CreateSession(s Session) error {
	t.check()
	if _, ok := t.st.sessions[s.DeviceID]; ok {
		return fmt.Errorf("fake store: session %s exists", s.DeviceID)
	}
	if _, ok := t.st.customers[s.CustomerID]; !ok {
		return fmt.Errorf("fake store: session of unknown customer %d", s.CustomerID)
	}
	t.st.sessions[s.DeviceID] = s
	return nil
}

func (t *fakeTx) Session(deviceID string) (Session, error) {
	t.check()
	s, ok := t.st.sessions[deviceID]
	if !ok {
		return Session{}, ErrNotFound
	}
	return s, nil
}

func (t *fakeTx) UpdateSession(s Session) error {
	t.check()
	old, ok := t.st.sessions[s.DeviceID]
	if !ok {
		return nil
	}
	s.CustomerID, s.CreatedAt = old.CustomerID, old.CreatedAt
	t.st.sessions[s.DeviceID] = s
	return nil
}

func (t *fakeTx) DeleteSession(deviceID string) (bool, error) {
	t.check()
	_, ok := t.st.sessions[deviceID]
	delete(t.st.sessions, deviceID)
	return ok, nil
}

func (t *fakeTx) DeleteSessions(customerID int64, keepDeviceID string) (int, error) {
	t.check()
	n := 0
	for id, s := range t.st.sessions {
		if s.CustomerID == customerID && id != keepDeviceID {
			delete(t.st.sessions, id)
			n++
		}
	}
	return n, nil
}

func (t *fakeTx) TrimSessions(customerID int64, keep int) (int, error) {
	t.check()
	var mine []Session
	for _, s := range t.st.sessions {
		if s.CustomerID == customerID {
			mine = append(mine, s)
		}
	}
	slices.SortFunc(mine, func(a, b Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.DeviceID, a.DeviceID)
	})
	n := 0
	for _, s := range mine[min(keep, len(mine)):] {
		delete(t.st.sessions, s.DeviceID)
		n++
	}
	return n, nil
}

func (t *fakeTx) DeleteExpired(now, auditBefore time.Time, limit int) (int, error) {
	t.check()
	n := 0
	for id, s := range t.st.sessions {
		if !s.ExpiresAt.After(now) && n < limit {
			delete(t.st.sessions, id)
			n++
		}
	}
	for id, r := range t.st.recoveries {
		if !r.ExpiresAt.After(now) {
			delete(t.st.recoveries, id)
		}
	}
	for h, c := range t.st.challenges {
		if !c.ExpiresAt.After(now) {
			delete(t.st.challenges, h)
		}
	}
	maps.DeleteFunc(t.st.flows, func(_ string, f SocialFlow) bool { return !f.ExpiresAt.After(now) })
	maps.DeleteFunc(t.st.handOffs, func(_ string, h HandOff) bool { return !h.ExpiresAt.After(now) })
	maps.DeleteFunc(t.st.verifications, func(_ int64, r Recovery) bool { return !r.ExpiresAt.After(now) })
	t.st.audit = slices.DeleteFunc(t.st.audit, func(e AuditEvent) bool { return e.At.Before(auditBefore) })
	return n, nil
}

func (t *fakeTx) AddAudit(e AuditEvent) error {
	t.check()
	if c, ok := t.st.customers[e.CustomerID]; ok && e.CustomerUUID == "" {
		e.CustomerUUID = c.UUID
	}
	t.st.audit = append(t.st.audit, e)
	return nil
}

func (t *fakeTx) AddSigningKey(k SigningKey) error {
	t.check()
	for i, x := range t.st.keys {
		if x.ID == k.ID {
			// As the SQL upsert does: only the time and the Shopsys mark change.
			t.st.keys[i].CreatedAt, t.st.keys[i].Shopsys = k.CreatedAt, k.Shopsys
			return nil
		}
	}
	t.st.keys = append(t.st.keys, k)
	return nil
}

func (t *fakeTx) SetSetting(name string, value []byte) error {
	t.check()
	t.st.settings[name] = bytes.Clone(value)
	return nil
}

func (t *fakeTx) Setting(name string) ([]byte, error) {
	t.check()
	return t.st.setting(name)
}

func (t *fakeTx) PutRecovery(r Recovery) error {
	t.check()
	if _, ok := t.st.customers[r.CustomerID]; !ok {
		return fmt.Errorf("fake store: recovery of unknown customer %d", r.CustomerID)
	}
	r.HashSHA256 = bytes.Clone(r.HashSHA256)
	t.st.recoveries[r.CustomerID] = r
	return nil
}

func (t *fakeTx) Recovery(customerID int64) (Recovery, error) {
	t.check()
	r, ok := t.st.recoveries[customerID]
	if !ok {
		return Recovery{}, ErrNotFound
	}
	r.HashSHA256 = bytes.Clone(r.HashSHA256)
	return r, nil
}

func (t *fakeTx) DeleteRecovery(customerID int64) error {
	t.check()
	delete(t.st.recoveries, customerID)
	return nil
}

func (s *fakeStore) Customers(ctx context.Context, now time.Time) ([]CustomerSummary, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []CustomerSummary
	for _, c := range s.st.customers {
		x := CustomerSummary{UUID: c.UUID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
			Telephone: c.Telephone, CreatedAt: c.CreatedAt, LastLoginAt: c.LastLoginAt}
		for _, sess := range s.st.sessions {
			if sess.CustomerID == c.ID && now.Before(sess.ExpiresAt) {
				x.Sessions++
			}
		}
		out = append(out, x)
	}
	// Oldest first, as the SQLite store answers (ids grow with creation).
	slices.SortFunc(out, func(a, b CustomerSummary) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.UUID, b.UUID)
	})
	return out, nil
}

func (s *fakeStore) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEvent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []AuditEvent
	for i := len(s.st.audit) - 1; i >= 0; i-- {
		e := s.st.audit[i]
		if (q.CustomerUUID != "" && e.CustomerUUID != q.CustomerUUID) || (!q.Since.IsZero() && e.At.Before(q.Since)) {
			continue
		}
		for _, c := range s.st.customers {
			if c.UUID == e.CustomerUUID {
				e.Email = c.Email
			}
		}
		out = append(out, e)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (t *fakeTx) DeleteCustomer(id int64) error {
	t.check()
	delete(t.st.customers, id)
	delete(t.st.recoveries, id)
	for d, s := range t.st.sessions {
		if s.CustomerID == id {
			delete(t.st.sessions, d)
		}
	}
	for k, p := range t.st.passkeys {
		if p.CustomerID == id {
			delete(t.st.passkeys, k)
		}
	}
	for k, c := range t.st.challenges {
		if c.CustomerID == id {
			delete(t.st.challenges, k)
		}
	}
	maps.DeleteFunc(t.st.identities, func(_ [2]string, i SocialIdentity) bool { return i.CustomerID == id })
	maps.DeleteFunc(t.st.flows, func(_ string, f SocialFlow) bool { return f.LinkCustomerID == id })
	maps.DeleteFunc(t.st.handOffs, func(_ string, h HandOff) bool { return h.CustomerID == id })
	delete(t.st.verifications, id)
	return nil
}

func (t *fakeTx) RecordLogin(customerID int64, at time.Time) error {
	t.check()
	if c, ok := t.st.customers[customerID]; ok {
		c.LastLoginAt = at
		t.st.customers[customerID] = c
	}
	return nil
}
