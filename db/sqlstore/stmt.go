package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements, by query text, so that the hot paths (a refresh, an authenticated read)
// do not parse SQL on every request: on SQLite parsing was about a third of a rotation
// transaction's CPU.
//
// The writer's statements are prepared when the store opens, because preparing one later on a
// single-connection pool would wait for the connection that the calling transaction holds; a
// query that is not in the list runs unprepared. The readers' are prepared on first use, on each
// pool connection.

// writerQueries are prepared on the writer at New: the statements of Login, Register and
// RefreshTokens (and the rotation's, which New adds in the dialect's form).
var writerQueries = []string{
	querySessionByDevice,
	queryCustomerByID,
	queryCustomerByEmail,
	queryUpdateSession,
	queryCreateSession,
	queryCreateCustomer,
	queryDeleteSession,
	queryRecordLogin,
}

type stmtCache struct {
	pool *sql.DB
	lazy bool
	mu   sync.RWMutex
	m    map[string]*sql.Stmt
}

func newStmtCache(ctx context.Context, pool *sql.DB, eager []string, lazy bool) (*stmtCache, error) {
	c := &stmtCache{pool: pool, lazy: lazy, m: map[string]*sql.Stmt{}}
	for _, q := range eager {
		s, err := pool.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, err
		}
		c.m[q] = s
	}
	return c, nil
}

// get returns the prepared statement of query, or nil when it should run unprepared.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	s := c.m[query]
	c.mu.RUnlock()
	if s != nil || !c.lazy {
		return s
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared query will report the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[query]; old != nil {
		s.Close()
		return old
	}
	c.m[query] = s
	return s
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}
