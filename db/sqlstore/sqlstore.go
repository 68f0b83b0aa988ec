// Package sqlstore is shopauth's storage written once, in SQL over database/sql, for both
// databases: db/sqlite and db/postgres open the connections and describe their Dialect, and this
// package holds every query. Queries are written with ? placeholders; a PostgreSQL dialect rebinds
// them to $1, $2, … once per query text.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"shopauth/auth"
)

// Dialect is what differs between the databases the store runs on.
type Dialect struct {
	// Numbered: placeholders are $1, $2, … (PostgreSQL) instead of ? (SQLite).
	Numbered bool
	// RowLocks: SELECT … FOR UPDATE locks the rows read until the transaction ends. Without it
	// (SQLite, whose single writer begins every write transaction IMMEDIATE, so writers already
	// take turns) the clause is left out.
	RowLocks bool
	// ReturningJoins: an UPDATE's RETURNING may name the tables of its FROM clause (PostgreSQL;
	// SQLite's may name only the updated table).
	ReturningJoins bool
	// Contains is the SQL function that finds a substring: instr(haystack, needle) in SQLite,
	// strpos(haystack, needle) in PostgreSQL.
	Contains string
	// Prepare keeps prepared statements in database/sql: the writer's hot statements at New, the
	// readers' on first use. (pgx caches prepared statements per connection by itself.)
	Prepare bool
	// Timeout bounds each read and each write transaction whose context has no earlier deadline,
	// so that a database that stops answering turns into errors, not into requests that hang
	// (0: no bound).
	Timeout time.Duration

	// Unique reports whether err is a unique or primary-key violation, and a text that names the
	// column or constraint (SQLite's message, PostgreSQL's constraint name).
	Unique func(err error) (what string, ok bool)
	// Unreachable marks err auth.ErrUnavailable when it says the database cannot be used now.
	Unreachable func(err error) error
	// Retryable reports that the database aborted a transaction and asks for it to run again
	// (a deadlock victim, a serialization failure). nil: never.
	Retryable func(err error) bool
	// Lock takes a lock named name until tx ends (try: only if free, reporting whether it was
	// taken), for transactions of several processes that must not interleave: "keys" (deciding
	// on the key ring), "prune" and "setting.<name>" (creating a setting). nil: transactions never
	// interleave (one writer).
	Lock func(ctx context.Context, tx *sql.Tx, name string, try bool) (bool, error)
	// KeyAdded announces a new signing key to the other processes at commit. nil: none listen.
	KeyAdded func(ctx context.Context, tx *sql.Tx, id string) error
	// GroupCommit: the database has one writer, and rotations that arrive while it is busy share
	// one write transaction and one commit (groupcommit.go).
	GroupCommit bool
	// Writable refuses writes while the database cannot take them (SQLite: its file was deleted
	// or replaced). nil: always writable.
	Writable func() error

	// QueryRow, when set, runs a one-row query outside a transaction on the driver's own
	// connection pool instead of through database/sql: the authenticated read (SessionCustomer),
	// the rotation and the other single-row reads. PostgreSQL sets it: pgx's database/sql adapter
	// costs each such query 50 to 90 allocations more than pgx itself.
	QueryRow func(ctx context.Context, query string, args ...any) Row

	// Copy is what `db copy` needs to know of the database.
	Copy CopyDialect
}

// native runs query through QueryRow on a copy of args: passed on as they are, args would escape
// to the heap in every caller, also where QueryRow is not set.
func (d *Dialect) native(ctx context.Context, query string, args []any) Row {
	return d.QueryRow(ctx, query, append([]any(nil), args...)...)
}

// Row is one row of a query's answer: *sql.Row, or a driver's own. A query that found no row
// answers an error that is (errors.Is) sql.ErrNoRows.
type Row interface{ Scan(dest ...any) error }

// Store is an auth.Store over database/sql. Writes go to the writer pool, reads to the reader
// pool (the same pool where the database has no read-only connections of its own).
type Store struct {
	d              Dialect
	writer, reader *sql.DB
	writeStmts     *stmtCache // nil unless d.Prepare
	readStmts      *stmtCache

	queries sync.Map // query as written → as the database takes it

	rotate, search, auditLog string // the queries built from the dialect

	group *committer // nil unless d.GroupCommit
}

var _ auth.Store = (*Store)(nil)

// New returns the store over the pools. With d.Prepare the writer's hot statements are prepared
// now, unless eager is false (a command reading a database of another release's schema).
func New(ctx context.Context, d Dialect, writer, reader *sql.DB, eager bool) (*Store, error) {
	s := &Store{d: d, writer: writer, reader: reader}
	if d.Unreachable == nil {
		s.d.Unreachable = func(err error) error { return err }
	}
	s.rotate = queryRotateSession
	if d.ReturningJoins {
		s.rotate = queryRotateSessionJoin
	}
	if d.GroupCommit {
		s.group = newCommitter(s)
	}
	s.search = strings.ReplaceAll(customerSearchWhere, "contains(", d.Contains+"(")
	s.auditLog = strings.ReplaceAll(queryAuditLog, "contains(", d.Contains+"(")
	if d.Prepare {
		var hot []string
		if eager {
			for _, q := range writerQueries {
				hot = append(hot, s.sql(q))
			}
			hot = append(hot, s.sql(s.rotate))
		}
		var err error
		if s.writeStmts, err = newStmtCache(ctx, writer, hot, false); err != nil {
			return nil, err
		}
		s.readStmts, _ = newStmtCache(ctx, reader, nil, true)
	}
	return s, nil
}

// Close closes the prepared statements (the pools are their opener's).
func (s *Store) Close() {
	if s.group != nil {
		s.group.close()
	}
	s.readStmts.close()
	s.writeStmts.close()
}

// sql is query as the database takes it: placeholders numbered for PostgreSQL, FOR UPDATE
// clauses left out where rows are not locked.
func (s *Store) sql(query string) string {
	if q, ok := s.queries.Load(query); ok {
		return q.(string)
	}
	q := query
	if !s.d.RowLocks {
		q = strings.ReplaceAll(q, " FOR NO KEY UPDATE", "")
		q = strings.ReplaceAll(q, " FOR UPDATE", "")
	}
	if s.d.Numbered {
		q = rebind(q)
	}
	s.queries.Store(query, q)
	return q
}

// rebind numbers the ? placeholders of q: $1, $2, ….
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			b.WriteString(q)
			return b.String()
		}
		n++
		b.WriteString(q[:i])
		b.WriteString("$" + strconv.Itoa(n))
		q = q[i+1:]
	}
}

// bound bounds ctx by the dialect's timeout unless it already ends sooner.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.d.Timeout == 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.d.Timeout)
}

// row is a row that reports a failure to reach the database as auth.ErrUnavailable.
type row struct {
	Row
	s      *Store
	cancel context.CancelFunc
}

func (r row) Scan(dest ...any) error {
	defer r.cancel()
	return r.s.d.Unreachable(r.Row.Scan(dest...))
}

// readRow runs a one-row query on the reader pool, prepared where the dialect prepares.
func (s *Store) readRow(ctx context.Context, query string, args ...any) row {
	ctx, cancel := s.bound(ctx)
	q := s.sql(query)
	if s.d.QueryRow != nil {
		return row{s.d.native(ctx, q, args), s, cancel}
	}
	if st := s.readStmts.get(ctx, q); st != nil {
		return row{st.QueryRowContext(ctx, args...), s, cancel}
	}
	return row{s.reader.QueryRowContext(ctx, q, args...), s, cancel}
}

// readRows runs a query on the reader pool and calls fn with each row.
func (s *Store) readRows(ctx context.Context, fn func(scan func(...any) error) error, query string, args ...any) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.reader.QueryContext(ctx, s.sql(query), args...)
	if err != nil {
		return s.d.Unreachable(err)
	}
	return s.d.Unreachable(each(rows, fn))
}

func each(rows *sql.Rows, fn func(scan func(...any) error) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return auth.ErrNotFound
	}
	return err
}

// nullID stores 0 as NULL, for a reference to a customer that may be absent.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Ping checks that the database answers a query (and, for SQLite, that its file is still there).
func (s *Store) Ping(ctx context.Context) error {
	if s.d.Writable != nil {
		if err := s.d.Writable(); err != nil {
			return err
		}
	}
	var one int
	return s.readRow(ctx, `SELECT 1`).Scan(&one)
}

func (s *Store) writable() error {
	if s.d.Writable == nil {
		return nil
	}
	return s.d.Writable()
}

// Update runs fn in one write transaction. SQLite has one writer connection whose transactions
// begin IMMEDIATE, so writers take turns; PostgreSQL runs them in parallel under READ COMMITTED,
// and those that touch the same row queue on its lock (the reads FOR UPDATE). A transaction the
// database aborts as a deadlock victim or a serialization failure runs again, at most twice more.
func (s *Store) Update(ctx context.Context, fn func(auth.Tx) error) error {
	if err := s.writable(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := s.update(ctx, fn)
		if attempt < 2 && s.d.Retryable != nil && s.d.Retryable(err) && ctx.Err() == nil {
			continue
		}
		return s.d.Unreachable(err)
	}
}

func (s *Store) update(ctx context.Context, fn func(auth.Tx) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&Tx{ctx: ctx, tx: tx, s: s}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Tx is a write transaction; it implements auth.Tx.
type Tx struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store
}

var _ auth.Tx = (*Tx)(nil)

// stmt is the transaction's form of a prepared writer statement, or nil when query is not prepared.
func (t *Tx) stmt(q string) *sql.Stmt {
	if st := t.s.writeStmts.get(t.ctx, q); st != nil {
		return t.tx.StmtContext(t.ctx, st)
	}
	return nil
}

func (t *Tx) queryRow(query string, args ...any) *sql.Row {
	q := t.s.sql(query)
	if st := t.stmt(q); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, q, args...)
}

func (t *Tx) queryRows(fn func(scan func(...any) error) error, query string, args ...any) error {
	rows, err := t.tx.QueryContext(t.ctx, t.s.sql(query), args...)
	if err != nil {
		return err
	}
	return each(rows, fn)
}

// exec runs a statement and says how many rows it changed.
func (t *Tx) exec(query string, args ...any) (int64, error) {
	q := t.s.sql(query)
	var res sql.Result
	var err error
	if st := t.stmt(q); st != nil {
		res, err = st.ExecContext(t.ctx, args...)
	} else {
		res, err = t.tx.ExecContext(t.ctx, q, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// execEach runs each statement with the one argument arg.
func (t *Tx) execEach(arg any, queries ...string) error {
	for _, q := range queries {
		if _, err := t.exec(q, arg); err != nil {
			return err
		}
	}
	return nil
}

// lock takes the dialect's lock name for the rest of the transaction; see Dialect.Lock.
func (t *Tx) lock(name string, try bool) (bool, error) {
	if t.s.d.Lock == nil {
		return true, nil
	}
	return t.s.d.Lock(t.ctx, t.tx, name, try)
}

func (t *Tx) unique(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	return t.s.d.Unique(err)
}

// scanRow is a row to scan: a Row, or the store's row. The scan functions take it as a type
// parameter, which spares the hot reads an allocation.
type scanRow interface{ Scan(...any) error }
