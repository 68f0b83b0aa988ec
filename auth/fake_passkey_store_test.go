package auth

import (
	"context"
	"fmt"
	"slices"
)

func (s *fakeStore) Passkeys(ctx context.Context, customerID int64) ([]Passkey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Passkey
	for _, p := range s.st.passkeys {
		if p.CustomerID == customerID {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Passkey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func (s *fakeStore) PasskeyCustomer(ctx context.Context, credentialID []byte) (Passkey, Customer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.st.passkeys[string(credentialID)]
	if !ok {
		return Passkey{}, Customer{}, ErrNotFound
	}
	return p, s.st.customers[p.CustomerID], nil
}

func (s *fakeStore) PasskeyChallenge(ctx context.Context, hash []byte) (PasskeyChallenge, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.st.challenges[string(hash)]
	if !ok {
		return PasskeyChallenge{}, ErrNotFound
	}
	return c, nil
}

func (t *fakeTx) CreatePasskey(p Passkey) error {
	t.check()
	if _, ok := t.st.passkeys[string(p.CredentialID)]; ok {
		return ErrPasskeyTaken
	}
	if _, ok := t.st.customers[p.CustomerID]; !ok {
		return fmt.Errorf("fake store: passkey of unknown customer %d", p.CustomerID)
	}
	t.st.passkeys[string(p.CredentialID)] = p
	return nil
}

func (t *fakeTx) Passkey(credentialID []byte) (Passkey, error) {
	t.check()
	p, ok := t.st.passkeys[string(credentialID)]
	if !ok {
		return Passkey{}, ErrNotFound
	}
	return p, nil
}

func (t *fakeTx) UpdatePasskey(p Passkey) error {
	t.check()
	old, ok := t.st.passkeys[string(p.CredentialID)]
	if !ok {
		return nil
	}
	p.CustomerID, p.CreatedAt = old.CustomerID, old.CreatedAt
	t.st.passkeys[string(p.CredentialID)] = p
	return nil
}

func (t *fakeTx) DeletePasskey(customerID int64, credentialID []byte) (bool, error) {
	t.check()
	p, ok := t.st.passkeys[string(credentialID)]
	if !ok || p.CustomerID != customerID {
		return false, nil
	}
	delete(t.st.passkeys, string(credentialID))
	return true, nil
}

func (t *fakeTx) PutPasskeyChallenge(c PasskeyChallenge) error {
	t.check()
	t.st.challenges[string(c.Hash)] = c
	return nil
}

func (t *fakeTx) DeletePasskeyChallenge(hash []byte) (bool, error) {
	t.check()
	_, ok := t.st.challenges[string(hash)]
	delete(t.st.challenges, string(hash))
	return ok, nil
}
