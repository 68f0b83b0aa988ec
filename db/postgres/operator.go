package postgres

import (
	"context"
	"time"

	"shopauth/auth"
)

// Customers lists every customer, oldest first, with their live sessions counted. Never the hash.
func (d *DB) Customers(ctx context.Context, now time.Time) ([]auth.CustomerSummary, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	rows, err := d.pool.Query(ctx, `SELECT c.uuid, c.email, c.first_name, c.last_name, c.telephone,
		c.created_at, c.last_login_at,
		(SELECT count(*) FROM sessions s WHERE s.customer_id = c.id AND s.expires_at > $1)
		FROM customers c ORDER BY c.id`, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.CustomerSummary
	for rows.Next() {
		var c auth.CustomerSummary
		var created, lastLogin int64
		if err := rows.Scan(&c.UUID, &c.Email, &c.FirstName, &c.LastName, &c.Telephone, &created, &lastLogin, &c.Sessions); err != nil {
			return nil, err
		}
		c.CreatedAt, c.LastLoginAt = fromMS(created), fromMS(lastLogin)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AuditLog returns audit events newest first, with the email of customers who still exist.
func (d *DB) AuditLog(ctx context.Context, q auth.AuditQuery) ([]auth.AuditEvent, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var limit *int // NULL: no limit
	if q.Limit > 0 {
		limit = &q.Limit
	}
	rows, err := d.pool.Query(ctx, `SELECT a.at, COALESCE(a.customer_id, 0), COALESCE(a.device_id, ''), a.reason,
		COALESCE(a.remote_addr, ''), COALESCE(a.customer_uuid, ''), COALESCE(c.email, ''), COALESCE(a.operator, '')
		FROM audit_log a LEFT JOIN customers c ON c.uuid = a.customer_uuid
		WHERE ($1 = '' OR a.customer_uuid = $1) AND ($4 = '' OR strpos(a.reason, $4) > 0) AND a.at >= $2
		ORDER BY a.at DESC, a.id DESC LIMIT $3`, q.CustomerUUID, ms(q.Since), limit, q.Reason)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.AuditEvent
	for rows.Next() {
		var e auth.AuditEvent
		var at int64
		if err := rows.Scan(&at, &e.CustomerID, &e.DeviceID, &e.Reason, &e.RemoteAddr, &e.CustomerUUID, &e.Email, &e.Operator); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteCustomer erases the customer and everything that is theirs. The foreign keys would
// cascade; the deletes are spelled out so that the store says what it erases.
func (t *Tx) DeleteCustomer(id int64) error {
	for _, q := range []string{
		`DELETE FROM sessions WHERE customer_id = $1`,
		`DELETE FROM recoveries WHERE customer_id = $1`,
		`DELETE FROM passkeys WHERE customer_id = $1`,
		`DELETE FROM passkey_challenges WHERE customer_id = $1`,
		`DELETE FROM social_identities WHERE customer_id = $1`,
		`DELETE FROM social_flows WHERE link_customer_id = $1`,
		`DELETE FROM social_handoffs WHERE customer_id = $1`,
		`DELETE FROM email_verifications WHERE customer_id = $1`,
		`DELETE FROM customers WHERE id = $1`,
	} {
		if _, err := t.exec(q, id); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) RecordLogin(customerID int64, at time.Time) error {
	_, err := t.exec(`UPDATE customers SET last_login_at = $1 WHERE id = $2`, ms(at), customerID)
	return err
}
