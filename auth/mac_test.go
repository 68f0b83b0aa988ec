package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
)

// A reused HMAC state gives what a fresh one gives, for any parts, in any order of use and from
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
	cases := []struct {
		parts []string
	}{
		{nil},
		{[]string{""}},
		{[]string{"secret"}},
		{[]string{"label\x00", "uuid"}},
		{[]string{strings.Repeat("long ", 100)}},
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				for _, tc := range cases {
					want := fresh(strings.Join(tc.parts, ""))
					if got := m.sum([]byte("prefix"), tc.parts...); !bytes.Equal(got, append([]byte("prefix"), want...)) {
						t.Errorf("sum(%q) = %x, want %x after the prefix", tc.parts, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
