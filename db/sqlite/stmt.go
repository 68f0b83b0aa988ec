package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements, by query text, so that the hot paths (a refresh, an authenticated read)
// do not parse SQL on every request: parsing was about a third of a rotation transaction's CPU.
//
// The writer's statements are prepared when the database opens, because preparing one later on the
// pool would wait for the single connection that the calling transaction holds; a query that is not
// in the list runs unprepared. The readers' are prepared on first use, on each pool connection.

// writerQueries are prepared on the writer at Open: the statements of Login, Register and RefreshTokens.
var writerQueries = []string{
	querySessionByDevice,
	queryCustomerByID,
	queryCustomerByEmail,
	queryUpdateSession,
	queryRotateSession,
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

func newStmtCache(ctx context.Context, pool *sql.DB, eager []string) (*stmtCache, error) {
	c := &stmtCache{pool: pool, lazy: eager == nil, m: map[string]*sql.Stmt{}}
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
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}

// readRow runs a one-row query on the reader pool, prepared.
func (d *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := d.readStmts.get(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return d.reader.QueryRowContext(ctx, query, args...)
}

// txStmt is the transaction's form of a writer statement, or nil when query is not prepared.
func (t *Tx) txStmt(query string) *sql.Stmt {
	if s := t.stmts.get(t.ctx, query); s != nil {
		return t.tx.StmtContext(t.ctx, s)
	}
	return nil
}

func (t *Tx) queryRow(query string, args ...any) *sql.Row {
	if s := t.txStmt(query); s != nil {
		return s.QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	if s := t.txStmt(query); s != nil {
		return s.ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}
