package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"shopauth/auth"
)

var _ auth.Store = (*DB)(nil)

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

// queryer is what both a pool and a transaction can do.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return auth.ErrNotFound
	}
	return err
}

const customerColumns = `c.id, c.uuid, c.email, c.first_name, c.last_name, c.telephone, c.password_hash, c.created_at, c.security_changed_at, c.last_login_at, c.email_verified`

func scanCustomer(row interface{ Scan(...any) error }, extra ...any) (auth.Customer, error) {
	var c auth.Customer
	var tel sql.NullString
	var created, changed, lastLogin int64
	dest := append([]any{&c.ID, &c.UUID, &c.Email, &c.FirstName, &c.LastName, &tel, &c.PasswordHash, &created, &changed, &lastLogin, &c.EmailVerified}, extra...)
	if err := row.Scan(dest...); err != nil {
		return c, notFound(err)
	}
	if tel.Valid {
		c.Telephone = &tel.String
	}
	c.CreatedAt, c.SecurityChangedAt, c.LastLoginAt = fromMS(created), fromMS(changed), fromMS(lastLogin)
	return c, nil
}

const (
	queryCustomerByEmail = `SELECT ` + customerColumns + ` FROM customers c WHERE c.email = ?`
	queryCustomerByUUID  = `SELECT ` + customerColumns + ` FROM customers c WHERE c.uuid = ?`
	queryCustomerByID    = `SELECT ` + customerColumns + ` FROM customers c WHERE c.id = ?`
)

// CustomerByEmail finds a customer by (normalised) email.
func (d *DB) CustomerByEmail(ctx context.Context, email string) (auth.Customer, error) {
	return scanCustomer(d.readRow(ctx, queryCustomerByEmail, email))
}

// CustomerByUUID finds a customer by UUID.
func (d *DB) CustomerByUUID(ctx context.Context, uuid string) (auth.Customer, error) {
	return scanCustomer(d.readRow(ctx, queryCustomerByUUID, uuid))
}

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
func (d *DB) SessionCustomer(ctx context.Context, deviceID string) (auth.Session, auth.Customer, error) {
	var x sessionScan
	c, err := scanCustomer(d.readRow(ctx, querySessionCustomer, deviceID), x.dest()...)
	if err != nil {
		return auth.Session{}, auth.Customer{}, err
	}
	return x.session(), c, nil
}

// Sessions lists a customer's sessions, newest first.
func (d *DB) Sessions(ctx context.Context, customerID int64) ([]auth.Session, error) {
	rows, err := d.reader.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.customer_id = ? ORDER BY s.created_at DESC, s.device_id`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.Session
	for rows.Next() {
		var x sessionScan
		if err := rows.Scan(x.dest()...); err != nil {
			return nil, err
		}
		out = append(out, x.session())
	}
	return out, rows.Err()
}

const querySigningKeys = `SELECT id, algorithm, private_pem, created_at, shopsys FROM signing_keys ORDER BY created_at, id`

// SigningKeys returns every stored key.
func (d *DB) SigningKeys(ctx context.Context) ([]auth.SigningKey, error) {
	return signingKeys(ctx, d.reader)
}

// SigningKeys reads every stored key inside the write transaction: SQLite has one writer (and
// begins it IMMEDIATE), so two transactions deciding on the ring take turns.
func (t *Tx) SigningKeys() ([]auth.SigningKey, error) {
	return signingKeys(t.ctx, t.tx)
}

func signingKeys(ctx context.Context, q queryer) ([]auth.SigningKey, error) {
	rows, err := q.QueryContext(ctx, querySigningKeys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.SigningKey
	for rows.Next() {
		var id, alg string
		var pemBytes []byte
		var created int64
		var shopsys bool
		if err := rows.Scan(&id, &alg, &pemBytes, &created, &shopsys); err != nil {
			return nil, err
		}
		k, err := auth.ParsePrivateKeyPEM(pemBytes, fromMS(created), shopsys)
		if err != nil {
			return nil, err
		}
		k.ID, k.Algorithm = id, alg
		out = append(out, k)
	}
	return out, rows.Err()
}

// Setting reads a named setting.
func (d *DB) Setting(ctx context.Context, name string) ([]byte, error) {
	return setting(ctx, d.reader, name)
}

func setting(ctx context.Context, q queryer, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	return v, notFound(err)
}

// queryBcryptCosts reads the two cost digits of $2y$13$… hashes.
const queryBcryptCosts = `SELECT DISTINCT substr(password_hash, 5, 2) FROM customers WHERE password_hash LIKE '$2_$%'`

func (d *DB) BcryptCosts(ctx context.Context) ([]int, error) {
	rows, err := d.reader.QueryContext(ctx, queryBcryptCosts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var digits string
		if err := rows.Scan(&digits); err != nil {
			return nil, err
		}
		if n, err := strconv.Atoi(digits); err == nil {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// Ping checks that the database file is still there and answers a query.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.CheckFile(); err != nil {
		return err
	}
	var one int
	return d.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Update runs fn in one IMMEDIATE write transaction on the single writer connection.
func (d *DB) Update(ctx context.Context, fn func(auth.Tx) error) error {
	if err := d.writable(); err != nil {
		return err
	}
	tx, err := d.writer.BeginTx(ctx, nil)
	if err != nil {
		return unreachable(err)
	}
	if err := fn(&Tx{ctx: ctx, tx: tx, stmts: d.writeStmts}); err != nil {
		tx.Rollback()
		return unreachable(err)
	}
	return unreachable(tx.Commit())
}

// Tx is a write transaction; it implements auth.Tx.
type Tx struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts *stmtCache
}

var _ auth.Tx = (*Tx)(nil)

func nullString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

const queryCreateCustomer = `INSERT INTO customers
		(uuid, email, first_name, last_name, telephone, password_hash, created_at, security_changed_at, email_verified)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (t *Tx) CreateCustomer(c *auth.Customer) error {
	res, err := t.exec(queryCreateCustomer,
		c.UUID, c.Email, c.FirstName, c.LastName, nullString(c.Telephone), c.PasswordHash, ms(c.CreatedAt), ms(c.SecurityChangedAt), c.EmailVerified)
	if isUniqueViolation(err) {
		// The failed statement alone is undone, so the transaction can still tell which column.
		if _, lookup := t.CustomerByEmail(c.Email); lookup == nil {
			return auth.ErrEmailTaken
		}
		return auth.ErrUUIDTaken
	}
	if err != nil {
		return err
	}
	c.ID, err = res.LastInsertId()
	return err
}

func (t *Tx) UpdateCustomer(c auth.Customer) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE customers SET email = ?, first_name = ?, last_name = ?, telephone = ?,
		password_hash = ?, security_changed_at = ?, email_verified = ? WHERE id = ?`,
		c.Email, c.FirstName, c.LastName, nullString(c.Telephone), c.PasswordHash, ms(c.SecurityChangedAt), c.EmailVerified, c.ID)
	if isUniqueViolation(err) {
		return auth.ErrEmailTaken
	}
	return err
}

func (t *Tx) CustomerByEmail(email string) (auth.Customer, error) {
	return scanCustomer(t.queryRow(queryCustomerByEmail, email))
}

func (t *Tx) CustomerByID(id int64) (auth.Customer, error) {
	return scanCustomer(t.queryRow(queryCustomerByID, id))
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

const querySessionByDevice = `SELECT ` + sessionColumns + ` FROM sessions s WHERE s.device_id = ?`

func (t *Tx) Session(deviceID string) (auth.Session, error) {
	var x sessionScan
	err := t.queryRow(querySessionByDevice, deviceID).Scan(x.dest()...)
	if err != nil {
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

// queryRotateSession is a rotation guarded by the state it was decided on, answering the customer
// in the same statement: scalar subqueries in RETURNING (which may name only the updated table),
// one primary-key lookup each, for the columns of customerColumns.
var queryRotateSession = `UPDATE sessions SET secret_hash = ?, prev_secret_hash = ?, rotated_at = ?,
		last_refreshed_at = ?, issued_at = ?, expires_at = ?, key_id = ?, signature = ?
		WHERE device_id = ? AND secret_hash = ? AND expires_at > ? AND login_type <> 'admin'
			AND customer_id = (SELECT id FROM customers WHERE uuid = ?)
		RETURNING customer_id` + returningCustomer()

func returningCustomer() string {
	var b strings.Builder
	for _, col := range strings.Split(customerColumns, ", ")[1:] {
		b.WriteString(", (SELECT " + col + " FROM customers c WHERE c.id = customer_id)")
	}
	return b.String()
}

// RotateSession stores a rotation in one statement, in its own implicit transaction, so a
// refresh holds the write lock for one UPDATE; see auth.Store.
func (d *DB) RotateSession(ctx context.Context, next auth.Session, customerUUID string, now time.Time) (auth.Customer, bool, error) {
	if err := d.writable(); err != nil {
		return auth.Customer{}, false, err
	}
	args := []any{next.SecretHash, next.PrevSecretHash, ms(next.RotatedAt), ms(next.LastRefreshedAt), ms(next.IssuedAt),
		ms(next.ExpiresAt), next.KeyID, next.Signature, next.DeviceID, next.PrevSecretHash, ms(now), customerUUID}
	var row *sql.Row
	if st := d.writeStmts.get(ctx, queryRotateSession); st != nil {
		row = st.QueryRowContext(ctx, args...)
	} else {
		row = d.writer.QueryRowContext(ctx, queryRotateSession, args...)
	}
	c, err := scanCustomer(row)
	if errors.Is(err, auth.ErrNotFound) {
		return auth.Customer{}, false, nil
	}
	return c, err == nil, unreachable(err)
}

const queryDeleteSession = `DELETE FROM sessions WHERE device_id = ?`

func (t *Tx) DeleteSession(deviceID string) (bool, error) {
	res, err := t.exec(queryDeleteSession, deviceID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t *Tx) DeleteSessions(customerID int64, keepDeviceID string) (int, error) {
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM sessions WHERE customer_id = ? AND device_id <> ?`, customerID, keepDeviceID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *Tx) TrimSessions(customerID int64, keep int) (int, error) {
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM sessions WHERE customer_id = ? AND device_id NOT IN
		(SELECT device_id FROM sessions WHERE customer_id = ? ORDER BY created_at DESC, device_id DESC LIMIT ?)`,
		customerID, customerID, keep)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *Tx) DeleteExpired(now, auditBefore time.Time, limit int) (int, error) {
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM sessions WHERE device_id IN
		(SELECT device_id FROM sessions WHERE expires_at <= ? LIMIT ?)`, ms(now), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM recoveries WHERE customer_id IN
		(SELECT customer_id FROM recoveries WHERE expires_at <= ? LIMIT ?)`, ms(now), limit); err != nil {
		return 0, err
	}
	for _, q := range expiredSecrets {
		if _, err := t.tx.ExecContext(t.ctx, q, ms(now), limit); err != nil {
			return 0, err
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM console_sessions WHERE id_hash IN
		(SELECT id_hash FROM console_sessions WHERE expires_at <= ? LIMIT ?)`, ms(now), limit); err != nil {
		return 0, err
	}
	_, err = t.tx.ExecContext(t.ctx, `DELETE FROM audit_log WHERE id IN
		(SELECT id FROM audit_log WHERE at < ? LIMIT ?)`, ms(auditBefore), limit)
	return int(n), err
}

func (t *Tx) AddAudit(e auth.AuditEvent) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO audit_log (at, customer_id, device_id, reason, remote_addr, customer_uuid, operator)
		VALUES (?, ?, ?, ?, ?, COALESCE(NULLIF(?, ''), (SELECT uuid FROM customers WHERE id = ?)), NULLIF(?, ''))`,
		ms(e.At), e.CustomerID, e.DeviceID, e.Reason, e.RemoteAddr, e.CustomerUUID, e.CustomerID, e.Operator)
	return err
}

func (t *Tx) AddSigningKey(k auth.SigningKey) error {
	pemBytes, err := auth.MarshalPrivateKeyPEM(k)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(t.ctx, `INSERT INTO signing_keys (id, algorithm, private_pem, created_at, shopsys) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, shopsys = excluded.shopsys`,
		k.ID, k.Algorithm, pemBytes, ms(k.CreatedAt), k.Shopsys)
	return err
}

func (t *Tx) SetSetting(name string, value []byte) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}

func (t *Tx) Setting(name string) ([]byte, error) { return setting(t.ctx, t.tx, name) }

func (t *Tx) PutRecovery(r auth.Recovery) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO recoveries (customer_id, hash, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (customer_id) DO UPDATE SET hash = excluded.hash, expires_at = excluded.expires_at`,
		r.CustomerID, r.HashSHA256, ms(r.ExpiresAt))
	return err
}

func (t *Tx) Recovery(customerID int64) (auth.Recovery, error) {
	r := auth.Recovery{CustomerID: customerID}
	var exp int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT hash, expires_at FROM recoveries WHERE customer_id = ?`, customerID).Scan(&r.HashSHA256, &exp)
	r.ExpiresAt = fromMS(exp)
	return r, notFound(err)
}

func (t *Tx) DeleteRecovery(customerID int64) error {
	_, err := t.tx.ExecContext(t.ctx, `DELETE FROM recoveries WHERE customer_id = ?`, customerID)
	return err
}

// AuditEvents returns the newest audit rows, for tests and the operator.
func (d *DB) AuditEvents(ctx context.Context, limit int) ([]auth.AuditEvent, error) {
	rows, err := d.reader.QueryContext(ctx, `SELECT at, COALESCE(customer_id, 0), COALESCE(device_id, ''), reason,
		COALESCE(remote_addr, '') FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.AuditEvent
	for rows.Next() {
		var e auth.AuditEvent
		var at int64
		if err := rows.Scan(&at, &e.CustomerID, &e.DeviceID, &e.Reason, &e.RemoteAddr); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
