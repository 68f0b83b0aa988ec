package sqlstore

import "testing"

// TestQueryForm: a query written once with ? and a lock clause is what each dialect takes.
func TestQueryForm(t *testing.T) {
	const (
		q     = `SELECT a FROM t WHERE b = ? AND c IN (SELECT c FROM u WHERE d = ? LIMIT ?) FOR UPDATE`
		noKey = `SELECT 1 FROM customers WHERE id = ? FOR NO KEY UPDATE`
	)
	for _, tc := range []struct {
		name      string
		d         Dialect
		want, key string
	}{
		{"sqlite", Dialect{},
			`SELECT a FROM t WHERE b = ? AND c IN (SELECT c FROM u WHERE d = ? LIMIT ?)`,
			`SELECT 1 FROM customers WHERE id = ?`},
		{"postgres", Dialect{Numbered: true, RowLocks: true},
			`SELECT a FROM t WHERE b = $1 AND c IN (SELECT c FROM u WHERE d = $2 LIMIT $3) FOR UPDATE`,
			`SELECT 1 FROM customers WHERE id = $1 FOR NO KEY UPDATE`},
		{"numbered without row locks", Dialect{Numbered: true},
			`SELECT a FROM t WHERE b = $1 AND c IN (SELECT c FROM u WHERE d = $2 LIMIT $3)`,
			`SELECT 1 FROM customers WHERE id = $1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Store{d: tc.d}
			for range 2 { // the second answer comes from the cache
				if got := s.sql(q); got != tc.want {
					t.Errorf("sql(q) = %q, want %q", got, tc.want)
				}
			}
			if got := s.sql(noKey); got != tc.key {
				t.Errorf("sql(noKey) = %q, want %q", got, tc.key)
			}
		})
	}
}
