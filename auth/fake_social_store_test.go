package auth

import (
	"context"
	"maps"
	"slices"
	"time"
)

func (st *fakeState) socialIdentities(customerID int64) []SocialIdentity {
	var out []SocialIdentity
	for _, i := range st.identities {
		if i.CustomerID == customerID {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b SocialIdentity) int {
		return slices.Index(SocialTypes, a.Type) - slices.Index(SocialTypes, b.Type)
	})
	return out
}

func (s *fakeStore) SocialIdentities(ctx context.Context, customerID int64) ([]SocialIdentity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.socialIdentities(customerID), nil
}

// identities returns every stored identity, for tests.
func (s *fakeStore) identities() []SocialIdentity {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Collect(maps.Values(s.st.identities))
}

func (t *fakeTx) SocialIdentity(typ, subject string) (SocialIdentity, error) {
	t.check()
	i, ok := t.st.identities[[2]string{typ, subject}]
	if !ok {
		return SocialIdentity{}, ErrNotFound
	}
	return i, nil
}

func (t *fakeTx) SocialIdentities(customerID int64) ([]SocialIdentity, error) {
	t.check()
	return t.st.socialIdentities(customerID), nil
}

func (t *fakeTx) CreateSocialIdentity(i SocialIdentity) error {
	t.check()
	if _, ok := t.st.identities[[2]string{i.Type, i.Subject}]; ok {
		return ErrIdentityTaken
	}
	for _, x := range t.st.identities {
		if x.CustomerID == i.CustomerID && x.Type == i.Type {
			return ErrIdentityTaken
		}
	}
	t.st.identities[[2]string{i.Type, i.Subject}] = i
	return nil
}

func (t *fakeTx) TouchSocialIdentity(typ, subject string, at time.Time) error {
	t.check()
	if i, ok := t.st.identities[[2]string{typ, subject}]; ok {
		i.LastUsedAt = at
		t.st.identities[[2]string{typ, subject}] = i
	}
	return nil
}

func (t *fakeTx) DeleteSocialIdentity(customerID int64, typ string) (bool, error) {
	t.check()
	for k, i := range t.st.identities {
		if i.CustomerID == customerID && i.Type == typ {
			delete(t.st.identities, k)
			return true, nil
		}
	}
	return false, nil
}

func (t *fakeTx) CountPasskeys(customerID int64) (int, error) {
	t.check()
	n := 0
	for _, p := range t.st.passkeys {
		if p.CustomerID == customerID {
			n++
		}
	}
	return n, nil
}

func (t *fakeTx) DeletePasskeys(customerID int64) (int, error) {
	t.check()
	n := len(t.st.passkeys)
	maps.DeleteFunc(t.st.passkeys, func(_ string, p Passkey) bool { return p.CustomerID == customerID })
	return n - len(t.st.passkeys), nil
}

func (t *fakeTx) PutSocialFlow(f SocialFlow) error {
	t.check()
	t.st.flows[string(f.StateHash)] = f
	return nil
}

func (t *fakeTx) TakeSocialFlow(stateHash []byte) (SocialFlow, error) {
	t.check()
	f, ok := t.st.flows[string(stateHash)]
	if !ok {
		return SocialFlow{}, ErrNotFound
	}
	delete(t.st.flows, string(stateHash))
	return f, nil
}

func (t *fakeTx) PutHandOff(h HandOff) error {
	t.check()
	t.st.handOffs[string(h.Hash)] = h
	return nil
}

func (t *fakeTx) TakeHandOff(hash []byte) (HandOff, error) {
	t.check()
	h, ok := t.st.handOffs[string(hash)]
	if !ok {
		return HandOff{}, ErrNotFound
	}
	delete(t.st.handOffs, string(hash))
	return h, nil
}

func (t *fakeTx) PutEmailVerification(r Recovery) error {
	t.check()
	t.st.verifications[r.CustomerID] = r
	return nil
}

func (t *fakeTx) EmailVerification(customerID int64) (Recovery, error) {
	t.check()
	r, ok := t.st.verifications[customerID]
	if !ok {
		return Recovery{}, ErrNotFound
	}
	return r, nil
}

func (t *fakeTx) DeleteEmailVerification(customerID int64) error {
	t.check()
	delete(t.st.verifications, customerID)
	return nil
}
