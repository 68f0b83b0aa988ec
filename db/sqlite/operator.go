package sqlite

import (
	"context"
	"database/sql"
	"time"

	"shopauth/auth"
)

// Customers lists every customer, oldest first, with their live sessions counted. Never the hash.
func (d *DB) Customers(ctx context.Context, now time.Time) ([]auth.CustomerSummary, error) {
	rows, err := d.reader.QueryContext(ctx, `SELECT c.uuid, c.email, c.first_name, c.last_name, c.telephone,
		c.created_at, c.last_login_at,
		(SELECT count(*) FROM sessions s WHERE s.customer_id = c.id AND s.expires_at > ?)
		FROM customers c ORDER BY c.id`, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.CustomerSummary
	for rows.Next() {
		var c auth.CustomerSummary
		var tel sql.NullString
		var created, lastLogin int64
		if err := rows.Scan(&c.UUID, &c.Email, &c.FirstName, &c.LastName, &tel, &created, &lastLogin, &c.Sessions); err != nil {
			return nil, err
		}
		if tel.Valid {
			c.Telephone = &tel.String
		}
		c.CreatedAt, c.LastLoginAt = fromMS(created), fromMS(lastLogin)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AuditLog returns audit events newest first, with the email of customers who still exist.
func (d *DB) AuditLog(ctx context.Context, q auth.AuditQuery) ([]auth.AuditEvent, error) {
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := d.reader.QueryContext(ctx, `SELECT a.at, COALESCE(a.customer_id, 0), COALESCE(a.device_id, ''), a.reason,
		COALESCE(a.remote_addr, ''), COALESCE(a.customer_uuid, ''), COALESCE(c.email, ''), COALESCE(a.operator, '')
		FROM audit_log a LEFT JOIN customers c ON c.uuid = a.customer_uuid
		WHERE (? = '' OR a.customer_uuid = ?) AND (? = '' OR instr(a.reason, ?) > 0) AND a.at >= ?
		ORDER BY a.at DESC, a.id DESC LIMIT ?`, q.CustomerUUID, q.CustomerUUID, q.Reason, q.Reason, ms(q.Since), limit)
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
// cascade; the deletes are spelled out so that nothing depends on the pragma being on.
func (t *Tx) DeleteCustomer(id int64) error {
	for _, q := range []string{
		`DELETE FROM sessions WHERE customer_id = ?`,
		`DELETE FROM recoveries WHERE customer_id = ?`,
		`DELETE FROM passkeys WHERE customer_id = ?`,
		`DELETE FROM passkey_challenges WHERE customer_id = ?`,
		`DELETE FROM social_identities WHERE customer_id = ?`,
		`DELETE FROM social_flows WHERE link_customer_id = ?`,
		`DELETE FROM social_handoffs WHERE customer_id = ?`,
		`DELETE FROM email_verifications WHERE customer_id = ?`,
		`DELETE FROM customers WHERE id = ?`,
	} {
		if _, err := t.tx.ExecContext(t.ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

const queryRecordLogin = `UPDATE customers SET last_login_at = ? WHERE id = ?`

func (t *Tx) RecordLogin(customerID int64, at time.Time) error {
	_, err := t.exec(queryRecordLogin, ms(at), customerID)
	return err
}
