package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"shopauth/auth"
)

// TestUnreachable: the failures that mean PostgreSQL cannot be reached are marked
// auth.ErrUnavailable (TestPostgresOutage stops a real cluster); the rest are left alone.
func TestUnreachable(t *testing.T) {
	// A real connection failure: nothing listens on a port just closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, refused := pgconn.Connect(context.Background(), "postgres://shopauth@"+l.Addr().String()+"/shop?sslmode=disable&connect_timeout=5")
	if refused == nil {
		t.Fatal("connected to a closed port")
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no connection could be made", refused, true},
		{"a socket error", fmt.Errorf("read: %w", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}), true},
		{"the connection was closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"the server went away mid-answer", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"the server is shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"the server is starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"a connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"a deadlock", &pgconn.PgError{Code: "40P01"}, false},
		{"anything else", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := unreachable(tc.err)
			if errors.Is(got, auth.ErrUnavailable) != tc.want {
				t.Errorf("marked unavailable = %v, want %v", !tc.want, tc.want)
			}
			if !errors.Is(got, tc.err) || got.Error() != tc.err.Error() {
				t.Errorf("the cause changed: %v", got)
			}
		})
	}
	if unreachable(nil) != nil {
		t.Error("nil became an error")
	}
}
