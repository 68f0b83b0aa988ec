package sqlite

import (
	"context"
	"time"
)

// CountSessions counts the sessions still open at now (expired rows not yet pruned do not count).
// It reads through the query-only pool and the expires_at index, so a metrics scrape never waits
// for the writer.
func (d *DB) CountSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := d.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE expires_at > ?`, ms(now)).Scan(&n)
	return n, err
}

// CountCustomers counts the customer accounts.
func (d *DB) CountCustomers(ctx context.Context) (int, error) {
	var n int
	err := d.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n)
	return n, err
}
