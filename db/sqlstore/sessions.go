package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"shopauth/auth"
)

const sessionColumns = `s.device_id, s.customer_id, s.secret_hash, s.prev_secret_hash, s.rotated_at, s.created_at,
	s.last_refreshed_at, s.issued_at, s.expires_at, s.key_id, s.signature, s.login_type, s.external_id, s.administrator_uuid`

type sessionScan struct {
	s                                        auth.Session
	rotated, created, refreshed, issued, exp int64
}

func (x *sessionScan) dest() []any {
	return []any{&x.s.DeviceID, &x.s.CustomerID, &x.s.SecretHash, &x.s.PrevSecretHash, &x.rotated, &x.created,
		&x.refreshed, &x.issued, &x.exp, &x.s.KeyID, &x.s.Signature, &x.s.LoginType, &x.s.ExternalID, &x.s.AdministratorUUID}
}

func (x *sessionScan) session() auth.Session {
	s := x.s
	s.RotatedAt, s.CreatedAt, s.LastRefreshedAt = fromMS(x.rotated), fromMS(x.created), fromMS(x.refreshed)
	s.IssuedAt, s.ExpiresAt = fromMS(x.issued), fromMS(x.exp)
	return s
}

const querySessionCustomer = `SELECT ` + customerColumns + `, ` + sessionColumns + `
		FROM sessions s JOIN customers c ON c.id = s.customer_id WHERE s.device_id = ?`

// SessionCustomer reads a session and its customer in one indexed query.
func (s *Store) SessionCustomer(ctx context.Context, deviceID string) (auth.Session, auth.Customer, error) {
	var x sessionScan
	c, err := scanCustomer(s.readRow(ctx, querySessionCustomer, deviceID), x.dest()...)
	if err != nil {
		return auth.Session{}, auth.Customer{}, err
	}
	return x.session(), c, nil
}

// Sessions lists a customer's sessions, newest first.
func (s *Store) Sessions(ctx context.Context, customerID int64) ([]auth.Session, error) {
	var out []auth.Session
	err := s.readRows(ctx, func(scan func(...any) error) error {
		var x sessionScan
		if err := scan(x.dest()...); err != nil {
			return err
		}
		out = append(out, x.session())
		return nil
	}, `SELECT `+sessionColumns+` FROM sessions s WHERE s.customer_id = ? ORDER BY s.created_at DESC, s.device_id`, customerID)
	return out, err
}

// CountSessions counts the sessions still open at now (expired rows not yet pruned do not count),
// through the expires_at index; on SQLite through the query-only pool, so a metrics scrape never
// waits for the writer.
func (s *Store) CountSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.readRow(ctx, `SELECT COUNT(*) FROM sessions WHERE expires_at > ?`, ms(now)).Scan(&n)
	return n, err
}

const queryCreateSession = `INSERT INTO sessions (device_id, customer_id, secret_hash, prev_secret_hash,
		rotated_at, created_at, last_refreshed_at, issued_at, expires_at, key_id, signature,
		login_type, external_id, administrator_uuid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (t *Tx) CreateSession(s auth.Session) error {
	_, err := t.exec(queryCreateSession,
		s.DeviceID, s.CustomerID, s.SecretHash, s.PrevSecretHash, ms(s.RotatedAt), ms(s.CreatedAt),
		ms(s.LastRefreshedAt), ms(s.IssuedAt), ms(s.ExpiresAt), s.KeyID, s.Signature,
		s.LoginType, s.ExternalID, s.AdministratorUUID)
	return err
}

const querySessionByDevice = `SELECT ` + sessionColumns + ` FROM sessions s WHERE s.device_id = ? FOR UPDATE`

// Session reads the session and locks its row until the transaction ends: a parallel rotation of
// the same session, in this process or another, waits here and then reads what this one wrote.
func (t *Tx) Session(deviceID string) (auth.Session, error) {
	var x sessionScan
	if err := t.queryRow(querySessionByDevice, deviceID).Scan(x.dest()...); err != nil {
		return auth.Session{}, notFound(err)
	}
	return x.session(), nil
}

const queryUpdateSession = `UPDATE sessions SET secret_hash = ?, prev_secret_hash = ?, rotated_at = ?,
		last_refreshed_at = ?, issued_at = ?, expires_at = ?, key_id = ?, signature = ? WHERE device_id = ?`

func (t *Tx) UpdateSession(s auth.Session) error {
	_, err := t.exec(queryUpdateSession,
		s.SecretHash, s.PrevSecretHash, ms(s.RotatedAt), ms(s.LastRefreshedAt), ms(s.IssuedAt), ms(s.ExpiresAt),
		s.KeyID, s.Signature, s.DeviceID)
	return err
}

// The rotation is guarded by the state it was decided on and answers, in the same statement, what
// the access token carries of the customer (tokenColumns). PostgreSQL joins the customer in
// UPDATE … FROM. SQLite's RETURNING may name only the updated table, so it answers with scalar
// subqueries, one primary-key lookup each.
const (
	rotateSet = `UPDATE sessions SET secret_hash = ?, prev_secret_hash = ?, rotated_at = ?,
		last_refreshed_at = ?, issued_at = ?, expires_at = ?, key_id = ?, signature = ?`
	queryRotateSessionJoin = rotateSet + ` FROM customers c
		WHERE sessions.device_id = ? AND sessions.secret_hash = ? AND sessions.expires_at > ?
			AND sessions.login_type <> 'admin' AND c.id = sessions.customer_id AND c.uuid = ?
		RETURNING ` + tokenColumns
)

var queryRotateSession = rotateSet + `
		WHERE device_id = ? AND secret_hash = ? AND expires_at > ? AND login_type <> 'admin'
			AND customer_id = (SELECT id FROM customers WHERE uuid = ?)
		RETURNING customer_id` + returningCustomer()

func returningCustomer() string {
	var b strings.Builder
	for _, col := range strings.Split(tokenColumns, ", ")[1:] {
		b.WriteString(", (SELECT " + col + " FROM customers c WHERE c.id = customer_id)")
	}
	return b.String()
}

// RotateSession stores a rotation in one statement; see auth.Store. On SQLite the statements of
// the rotations that arrive together share one write transaction (group commit, groupcommit.go),
// each answered after that commit; a refresh holds the write lock for one UPDATE. On PostgreSQL
// each is its own implicit transaction: under READ COMMITTED, a parallel swap waits for the row
// and then finds the secret changed, so exactly one of them applies.
func (s *Store) RotateSession(ctx context.Context, next auth.Session, customerUUID string, now time.Time) (auth.Customer, bool, error) {
	args := []any{next.SecretHash, next.PrevSecretHash, ms(next.RotatedAt), ms(next.LastRefreshedAt), ms(next.IssuedAt),
		ms(next.ExpiresAt), next.KeyID, next.Signature, next.DeviceID, next.PrevSecretHash, ms(now), customerUUID}
	if s.group != nil {
		return s.group.rotate(ctx, args)
	}
	if err := s.writable(); err != nil {
		return auth.Customer{}, false, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.sql(s.rotate)
	var c auth.Customer
	var err error
	if s.d.QueryRow != nil {
		c, err = scanTokenCustomer(s.d.QueryRow(ctx, q, args...)) // args escape already, to the group commit
	} else if st := s.writeStmts.get(ctx, q); st != nil {
		c, err = scanTokenCustomer(st.QueryRowContext(ctx, args...))
	} else {
		c, err = scanTokenCustomer(s.writer.QueryRowContext(ctx, q, args...))
	}
	if errors.Is(err, auth.ErrNotFound) {
		return auth.Customer{}, false, nil
	}
	return c, err == nil, s.d.Unreachable(err)
}

const queryDeleteSession = `DELETE FROM sessions WHERE device_id = ?`

func (t *Tx) DeleteSession(deviceID string) (bool, error) {
	n, err := t.exec(queryDeleteSession, deviceID)
	return n > 0, err
}

func (t *Tx) DeleteSessions(customerID int64, keepDeviceID string) (int, error) {
	n, err := t.exec(`DELETE FROM sessions WHERE customer_id = ? AND device_id <> ?`, customerID, keepDeviceID)
	return int(n), err
}

func (t *Tx) TrimSessions(customerID int64, keep int) (int, error) {
	n, err := t.exec(`DELETE FROM sessions WHERE customer_id = ? AND device_id NOT IN
		(SELECT device_id FROM sessions WHERE customer_id = ? ORDER BY created_at DESC, device_id DESC LIMIT ?)`,
		customerID, customerID, keep)
	return int(n), err
}

// expired delete at most LIMIT expired rows each of the short-lived secrets (DeleteExpired runs
// them with now and the limit).
var expired = []string{
	`DELETE FROM recoveries WHERE customer_id IN (SELECT customer_id FROM recoveries WHERE expires_at <= ? LIMIT ?)`,
	`DELETE FROM passkey_challenges WHERE hash IN (SELECT hash FROM passkey_challenges WHERE expires_at <= ? LIMIT ?)`,
	`DELETE FROM social_flows WHERE state_hash IN (SELECT state_hash FROM social_flows WHERE expires_at <= ? LIMIT ?)`,
	`DELETE FROM social_handoffs WHERE hash IN (SELECT hash FROM social_handoffs WHERE expires_at <= ? LIMIT ?)`,
	`DELETE FROM email_verifications WHERE customer_id IN
		(SELECT customer_id FROM email_verifications WHERE expires_at <= ? LIMIT ?)`,
	`DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions WHERE expires_at <= ? LIMIT ?)`,
}

// DeleteExpired prunes, unless another process is pruning at this moment (then it does nothing:
// that process deletes the same rows).
func (t *Tx) DeleteExpired(now, auditBefore time.Time, limit int) (int, error) {
	if mine, err := t.lock("prune", true); err != nil || !mine {
		return 0, err
	}
	n, err := t.exec(`DELETE FROM sessions WHERE device_id IN
		(SELECT device_id FROM sessions WHERE expires_at <= ? LIMIT ?)`, ms(now), limit)
	if err != nil {
		return 0, err
	}
	for _, q := range expired {
		if _, err := t.exec(q, ms(now), limit); err != nil {
			return 0, err
		}
	}
	_, err = t.exec(`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? LIMIT ?)`, ms(auditBefore), limit)
	return int(n), err
}
