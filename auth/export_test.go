package auth

import (
	"context"
	"testing"
)

// What the package's two kinds of tests share: the external tests (package auth_test) forge tokens
// with the ring's own keys, and both kinds run on the real store, wrapped where a write must fail.

// SignerForTest returns the key that signs new access tokens, private part included.
func (s *Service) SignerForTest() SigningKey { return s.keys.signerAt(s.Now()).SigningKey }

// RefreshKeyForTest returns the key that signs new refresh tokens, secret included.
func (s *Service) RefreshKeyForTest() SigningKey { return s.keys.refreshSignerAt(s.Now()).SigningKey }

// NewStoreForTest opens a real, empty store that is closed when the test ends. The package's own
// tests cannot import db/sqlite (it imports auth), so helpers_test.go, in package auth_test, sets it.
var NewStoreForTest func(t testing.TB) Store

// InterceptedStore is a real store whose write transactions go through OnUpdate, which may fail
// them (an outage, a full disk), count them, let a parallel writer in first (a lost race) or hand
// fn a Tx that records what it is asked.
type InterceptedStore struct {
	Store
	OnUpdate func(ctx context.Context, fn func(Tx) error) error
}

func (s InterceptedStore) Update(ctx context.Context, fn func(Tx) error) error {
	return s.OnUpdate(ctx, fn)
}

// PruneBatchForTest is how many sessions one prune transaction deletes.
const PruneBatchForTest = pruneBatch
