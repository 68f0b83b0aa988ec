package memo

import (
	"sync"
	"testing"
)

func TestMemo(t *testing.T) {
	m := New[string, int](3)
	computed := 0
	get := func(k string) int {
		return m.Get(k, func() int { computed++; return len(k) })
	}
	for _, tc := range []struct {
		key            string
		want, computed int // the value, and how many computations so far
		len            int // keys remembered after
	}{
		{"a", 1, 1, 1},
		{"a", 1, 1, 1}, // remembered
		{"bb", 2, 2, 2},
		{"ccc", 3, 3, 3},
		{"bb", 2, 3, 3},
		{"dddd", 4, 4, 1}, // full: all forgotten, then this one kept
		{"a", 1, 5, 2},    // computed again
	} {
		if got := get(tc.key); got != tc.want || computed != tc.computed || m.Len() != tc.len {
			t.Fatalf("Get(%q) = %d after %d computations with %d keys; want %d, %d, %d",
				tc.key, got, computed, m.Len(), tc.want, tc.computed, tc.len)
		}
	}
}

func TestMemoConcurrent(t *testing.T) {
	m := New[int, int](8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				k := (g + i) % 20
				if v := m.Get(k, func() int { return k * k }); v != k*k {
					t.Errorf("Get(%d) = %d", k, v)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := m.Len(); n > 8 {
		t.Fatalf("%d keys remembered, more than 8", n)
	}
}
