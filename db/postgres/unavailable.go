package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"shopauth/auth"
)

// pool is the connection pool, with every failure to reach PostgreSQL marked auth.ErrUnavailable,
// so that the server answers it with 503 and Retry-After instead of an internal error. When the
// database is down, every operation fails here: acquiring a connection pings it first.
type pool struct{ *pgxpool.Pool }

func (p pool) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := p.Pool.Begin(ctx)
	return tx, unreachable(err)
}

func (p pool) BeginTx(ctx context.Context, o pgx.TxOptions) (pgx.Tx, error) {
	tx, err := p.Pool.BeginTx(ctx, o)
	return tx, unreachable(err)
}

func (p pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.Pool.Exec(ctx, sql, args...)
	return tag, unreachable(err)
}

func (p pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := p.Pool.Query(ctx, sql, args...)
	return rows, unreachable(err)
}

func (p pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return row{p.Pool.QueryRow(ctx, sql, args...)}
}

func (p pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	c, err := p.Pool.Acquire(ctx)
	return c, unreachable(err)
}

type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error { return unreachable(r.Row.Scan(dest...)) }

// unreachable marks err auth.ErrUnavailable when it says PostgreSQL cannot be reached: no
// connection could be made, the connection broke or was closed, or the server is shutting down,
// starting up or out of connections.
func unreachable(err error) error {
	if err == nil {
		return nil
	}
	var connect *pgconn.ConnectError
	var netErr *net.OpError
	code := pgCode(err)
	if errors.As(err, &connect) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.HasPrefix(code, "08") || // connection exception
		code == "57P01" || code == "57P02" || code == "57P03" || // admin or crash shutdown, cannot connect now
		code == "53300" { // too many connections
		return auth.Unavailable(err)
	}
	return err
}
