package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
)

// A reused HMAC state gives what a fresh one gives, for any message, in any order of use and from
// several goroutines at once; and a state's key is its own copy.
func TestMACsMatchAFreshHMAC(t *testing.T) {
	key := []byte("chain key")
	m := newMACs(key)
	key[0] = 'X' // the caller's slice changing later changes nothing
	fresh := func(msg string) []byte {
		h := hmac.New(sha256.New, []byte("chain key"))
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	msgs := []string{"", "secret", "label\x00uuid", strings.Repeat("long ", 100)}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				for _, msg := range msgs {
					want := fresh(msg)
					if got := m.sum([]byte("prefix"), []byte(msg)); !bytes.Equal(got, append([]byte("prefix"), want...)) {
						t.Errorf("sum(%q) = %x, want %x after the prefix", msg, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
