package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// macs hands out HMAC-SHA-256 states keyed with one secret, reset after each use. Keying a new
// one (hmac.New) allocates two digests and hashes the key's pads; a refresh computes three HMACs
// (the token's check, its successor's secret and its signature).
type macs struct{ pool sync.Pool }

func newMACs(key []byte) *macs {
	key = append([]byte(nil), key...)
	return &macs{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// sum appends the HMAC of msg to dst.
func (m *macs) sum(dst, msg []byte) []byte {
	h := m.pool.Get().(hash.Hash)
	h.Write(msg)
	dst = h.Sum(dst)
	h.Reset()
	m.pool.Put(h)
	return dst
}
