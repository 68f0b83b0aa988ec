package sqlstore

import (
	"context"

	"shopauth/auth"
)

func (t *Tx) AddAudit(e auth.AuditEvent) error {
	_, err := t.exec(`INSERT INTO audit_log (at, customer_id, device_id, reason, remote_addr, customer_uuid, operator)
		VALUES (?, ?, ?, ?, ?, COALESCE(NULLIF(?, ''), (SELECT uuid FROM customers WHERE id = ?)), NULLIF(?, ''))`,
		ms(e.At), e.CustomerID, e.DeviceID, e.Reason, e.RemoteAddr, e.CustomerUUID, e.CustomerID, e.Operator)
	return err
}

// queryAuditLog selects by customer UUID, reason text (contains( is the dialect's substring
// function) and time, newest first.
const queryAuditLog = `SELECT a.at, COALESCE(a.customer_id, 0), COALESCE(a.device_id, ''), a.reason,
		COALESCE(a.remote_addr, ''), COALESCE(a.customer_uuid, ''), COALESCE(c.email, ''), COALESCE(a.operator, '')
		FROM audit_log a LEFT JOIN customers c ON c.uuid = a.customer_uuid
		WHERE (? = '' OR a.customer_uuid = ?) AND (? = '' OR contains(a.reason, ?) > 0) AND a.at >= ?
		ORDER BY a.at DESC, a.id DESC`

// AuditLog returns audit events newest first, with the email of customers who still exist.
func (s *Store) AuditLog(ctx context.Context, q auth.AuditQuery) ([]auth.AuditEvent, error) {
	query, args := s.auditLog, []any{q.CustomerUUID, q.CustomerUUID, q.Reason, q.Reason, ms(q.Since)}
	if q.Limit > 0 {
		query, args = query+` LIMIT ?`, append(args, q.Limit)
	}
	var out []auth.AuditEvent
	err := s.readRows(ctx, func(scan func(...any) error) error {
		var e auth.AuditEvent
		var at int64
		if err := scan(&at, &e.CustomerID, &e.DeviceID, &e.Reason, &e.RemoteAddr, &e.CustomerUUID, &e.Email, &e.Operator); err != nil {
			return err
		}
		e.At = fromMS(at)
		out = append(out, e)
		return nil
	}, query, args...)
	return out, err
}
