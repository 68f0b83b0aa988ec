package sqlstore

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"shopauth/auth"
)

// Group commit (Dialect.GroupCommit): the rotations that arrive while the single writer is busy
// share one write transaction and one commit, as PostgreSQL shares one WAL flush among concurrent
// commits. Each rotation is still its own guarded UPDATE, answered only after the commit that
// holds it, so what a refresh is told is on disk as before (in the WAL; SQLite's synchronous
// level decides the rest, as for any other commit). On SQLite a commit is most of a rotation's
// cost (taking the WAL lock, writing the changed pages as frames, releasing it): under load
// several rotations share it.
//
// There is no timer: the committer yields once before it starts a transaction, so the requests
// already running reach their rotation and join; an idle server commits a lone rotation at once.

// maxGroup bounds one transaction's rotations, so that none waits behind a long tail.
const maxGroup = 64

// groupTimeout bounds a group's transaction where the dialect sets no Timeout.
const groupTimeout = 10 * time.Second

// rotation is one RotateSession waiting for its group's commit.
type rotation struct {
	ctx  context.Context
	args []any
	c    auth.Customer
	ok   bool
	err  error
	done chan struct{}
}

// committer runs the groups: one goroutine, started with the first rotation, ended by Close.
type committer struct {
	s       *Store
	once    sync.Once
	queue   chan *rotation
	mu      sync.RWMutex // held for reading while queueing, for writing by close
	closed  bool
	started bool // set by once
	quit    chan struct{}
	exited  chan struct{}
}

func newCommitter(s *Store) *committer {
	return &committer{s: s, queue: make(chan *rotation, maxGroup), quit: make(chan struct{}), exited: make(chan struct{})}
}

var errStoreClosed = errors.New("sqlstore: the store is closed")

// rotate queues one rotation and waits for its group's commit.
func (c *committer) rotate(ctx context.Context, args []any) (auth.Customer, bool, error) {
	r := &rotation{ctx: ctx, args: args, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return auth.Customer{}, false, errStoreClosed
	}
	c.once.Do(func() { c.started = true; go c.run() })
	c.queue <- r
	c.mu.RUnlock()
	<-r.done
	return r.c, r.ok, r.err
}

// close stops the committer after the groups already queued; later rotations get an error.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	started := c.started
	c.mu.Unlock()
	if started {
		close(c.quit)
		<-c.exited
	}
}

func (c *committer) run() {
	defer close(c.exited)
	group := make([]*rotation, 0, maxGroup)
	for {
		select {
		case r := <-c.queue:
			group = append(group[:0], r)
		case <-c.quit:
			c.drain()
			return
		}
		// The requests that are running now get their turn first: those about to rotate join.
		runtime.Gosched()
	more:
		for len(group) < maxGroup {
			select {
			case r := <-c.queue:
				group = append(group, r)
			default:
				break more
			}
		}
		c.commit(group)
	}
}

// drain answers what was queued before close.
func (c *committer) drain() {
	for {
		select {
		case r := <-c.queue:
			c.commit([]*rotation{r})
		default:
			return
		}
	}
}

// commit runs the group's rotations in one write transaction and answers each after the commit.
func (c *committer) commit(group []*rotation) {
	s := c.s
	answer := func(err error) {
		for _, r := range group {
			if err != nil {
				r.c, r.ok, r.err = auth.Customer{}, false, err
			}
			close(r.done)
		}
	}
	if err := s.writable(); err != nil {
		answer(err)
		return
	}
	timeout := s.d.Timeout
	if timeout == 0 {
		timeout = groupTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		answer(s.d.Unreachable(err))
		return
	}
	q := s.sql(s.rotate)
	// The rotations run without a deadline of their own: the driver would watch each statement's
	// context on a goroutine of its own, and a one-row UPDATE by primary key has nothing to
	// interrupt. The transaction keeps its deadline (BeginTx above), and one that overruns it is
	// rolled back, its rotations answered with the error.
	stmtCtx := context.Background()
	st := s.writeStmts.get(ctx, q)
	if st != nil {
		st = tx.StmtContext(stmtCtx, st)
	}
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err // its caller has given up: not applied
			continue
		}
		var cust auth.Customer
		var err error
		if st != nil {
			cust, err = scanTokenCustomer(st.QueryRowContext(stmtCtx, r.args...))
		} else {
			cust, err = scanTokenCustomer(tx.QueryRowContext(stmtCtx, q, r.args...))
		}
		switch {
		case errors.Is(err, auth.ErrNotFound):
			// Not in the state it was decided on: the caller decides again in a transaction.
		case err != nil:
			r.err = s.d.Unreachable(err)
		default:
			r.c, r.ok = cust, true
		}
	}
	if err := tx.Commit(); err != nil {
		answer(s.d.Unreachable(err))
		return
	}
	answer(nil)
}
