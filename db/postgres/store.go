package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"shopauth/auth"
)

// Every query runs through pgx's default mode, which prepares each statement once per connection
// and keeps it (a per-connection LRU), so the hot paths do not parse SQL on every request.

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

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.ErrNotFound
	}
	return err
}

const customerColumns = `c.id, c.uuid, c.email, c.first_name, c.last_name, c.telephone, c.password_hash, c.created_at, c.security_changed_at, c.last_login_at, c.email_verified`

func scanCustomer(row pgx.Row, extra ...any) (auth.Customer, error) {
	var c auth.Customer
	var created, changed, lastLogin int64
	dest := append([]any{&c.ID, &c.UUID, &c.Email, &c.FirstName, &c.LastName, &c.Telephone, &c.PasswordHash, &created, &changed, &lastLogin, &c.EmailVerified}, extra...)
	if err := row.Scan(dest...); err != nil {
		return auth.Customer{}, notFound(err)
	}
	c.CreatedAt, c.SecurityChangedAt, c.LastLoginAt = fromMS(created), fromMS(changed), fromMS(lastLogin)
	return c, nil
}

const (
	queryCustomerByEmail = `SELECT ` + customerColumns + ` FROM customers c WHERE c.email = $1`
	queryCustomerByUUID  = `SELECT ` + customerColumns + ` FROM customers c WHERE c.uuid = $1`
	queryCustomerByID    = `SELECT ` + customerColumns + ` FROM customers c WHERE c.id = $1`
)

// CustomerByEmail finds a customer by (normalised) email.
func (d *DB) CustomerByEmail(ctx context.Context, email string) (auth.Customer, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	return scanCustomer(d.pool.QueryRow(ctx, queryCustomerByEmail, email))
}

// CustomerByUUID finds a customer by UUID.
func (d *DB) CustomerByUUID(ctx context.Context, uuid string) (auth.Customer, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	return scanCustomer(d.pool.QueryRow(ctx, queryCustomerByUUID, uuid))
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
		FROM sessions s JOIN customers c ON c.id = s.customer_id WHERE s.device_id = $1`

// SessionCustomer reads a session and its customer in one indexed query.
func (d *DB) SessionCustomer(ctx context.Context, deviceID string) (auth.Session, auth.Customer, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var x sessionScan
	c, err := scanCustomer(d.pool.QueryRow(ctx, querySessionCustomer, deviceID), x.dest()...)
	if err != nil {
		return auth.Session{}, auth.Customer{}, err
	}
	return x.session(), c, nil
}

// Sessions lists a customer's sessions, newest first.
func (d *DB) Sessions(ctx context.Context, customerID int64) ([]auth.Session, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	rows, err := d.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.customer_id = $1 ORDER BY s.created_at DESC, s.device_id`, customerID)
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

// SigningKeys returns every stored key, oldest first.
func (d *DB) SigningKeys(ctx context.Context) ([]auth.SigningKey, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	rows, err := d.pool.Query(ctx, querySigningKeys)
	if err != nil {
		return nil, err
	}
	return scanSigningKeys(rows)
}

// SigningKeys reads every stored key after taking the key ring's transaction lock, so two
// transactions that decide on the ring (two rotations, two first starts) take turns and the
// second sees what the first committed.
func (t *Tx) SigningKeys() ([]auth.SigningKey, error) {
	if _, err := t.exec(`SELECT pg_advisory_xact_lock($1)`, lockKeys); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(t.ctx, querySigningKeys)
	if err != nil {
		return nil, err
	}
	return scanSigningKeys(rows)
}

func scanSigningKeys(rows pgx.Rows) ([]auth.SigningKey, error) {
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

const querySetting = `SELECT value FROM settings WHERE name = $1`

// Setting reads a named setting.
func (d *DB) Setting(ctx context.Context, name string) ([]byte, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var v []byte
	err := d.pool.QueryRow(ctx, querySetting, name).Scan(&v)
	return v, notFound(err)
}

// BcryptCosts reads the two cost digits of $2y$13$… hashes.
func (d *DB) BcryptCosts(ctx context.Context) ([]int, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	rows, err := d.pool.Query(ctx, `SELECT DISTINCT substr(password_hash, 5, 2) FROM customers WHERE password_hash LIKE '$2_$%'`)
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

// Ping checks that the database answers a query.
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var one int
	return d.pool.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// Update runs fn in one READ COMMITTED transaction. Writers run in parallel; those that touch the
// same session queue on its row lock (Tx.Session reads FOR UPDATE). A transaction that PostgreSQL
// aborts as a deadlock victim is run again, at most twice more.
func (d *DB) Update(ctx context.Context, fn func(auth.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := d.update(ctx, fn)
		if attempt < 2 && retryable(err) && ctx.Err() == nil {
			continue
		}
		return unreachable(err)
	}
}

func (d *DB) update(ctx context.Context, fn func(auth.Tx) error) error {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(&Tx{ctx: ctx, tx: tx}); err != nil {
		tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// Tx is a write transaction; it implements auth.Tx.
type Tx struct {
	ctx context.Context
	tx  pgx.Tx
}

var _ auth.Tx = (*Tx)(nil)

func (t *Tx) exec(query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(t.ctx, query, args...)
	return tag.RowsAffected(), err
}

func (t *Tx) CreateCustomer(c *auth.Customer) error {
	err := t.tx.QueryRow(t.ctx, `INSERT INTO customers
		(uuid, email, first_name, last_name, telephone, password_hash, created_at, security_changed_at, email_verified)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		c.UUID, c.Email, c.FirstName, c.LastName, c.Telephone, c.PasswordHash, ms(c.CreatedAt), ms(c.SecurityChangedAt),
		c.EmailVerified).Scan(&c.ID)
	if isUniqueViolation(err) {
		// The transaction is aborted now; the constraint's name (PostgreSQL's default for the
		// uuid column's UNIQUE in 0001_init.sql) tells which column.
		if pgConstraint(err) == "customers_uuid_key" {
			return auth.ErrUUIDTaken
		}
		return auth.ErrEmailTaken
	}
	return err
}

func (t *Tx) UpdateCustomer(c auth.Customer) error {
	_, err := t.exec(`UPDATE customers SET email = $1, first_name = $2, last_name = $3, telephone = $4,
		password_hash = $5, security_changed_at = $6, email_verified = $7 WHERE id = $8`,
		c.Email, c.FirstName, c.LastName, c.Telephone, c.PasswordHash, ms(c.SecurityChangedAt), c.EmailVerified, c.ID)
	if isUniqueViolation(err) {
		return auth.ErrEmailTaken
	}
	return err
}

func (t *Tx) CustomerByEmail(email string) (auth.Customer, error) {
	return scanCustomer(t.tx.QueryRow(t.ctx, queryCustomerByEmail, email))
}

func (t *Tx) CustomerByID(id int64) (auth.Customer, error) {
	return scanCustomer(t.tx.QueryRow(t.ctx, queryCustomerByID, id))
}

func (t *Tx) CreateSession(s auth.Session) error {
	_, err := t.exec(`INSERT INTO sessions (device_id, customer_id, secret_hash, prev_secret_hash,
		rotated_at, created_at, last_refreshed_at, issued_at, expires_at, key_id, signature,
		login_type, external_id, administrator_uuid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		s.DeviceID, s.CustomerID, s.SecretHash, s.PrevSecretHash, ms(s.RotatedAt), ms(s.CreatedAt),
		ms(s.LastRefreshedAt), ms(s.IssuedAt), ms(s.ExpiresAt), s.KeyID, s.Signature,
		s.LoginType, s.ExternalID, s.AdministratorUUID)
	return err
}

// Session reads the session and locks its row until the transaction ends: a parallel rotation of
// the same session, in this process or another, waits here and then reads what this one wrote.
func (t *Tx) Session(deviceID string) (auth.Session, error) {
	var x sessionScan
	err := t.tx.QueryRow(t.ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.device_id = $1 FOR UPDATE`, deviceID).Scan(x.dest()...)
	if err != nil {
		return auth.Session{}, notFound(err)
	}
	return x.session(), nil
}

func (t *Tx) UpdateSession(s auth.Session) error {
	_, err := t.exec(`UPDATE sessions SET secret_hash = $1, prev_secret_hash = $2, rotated_at = $3,
		last_refreshed_at = $4, issued_at = $5, expires_at = $6, key_id = $7, signature = $8 WHERE device_id = $9`,
		s.SecretHash, s.PrevSecretHash, ms(s.RotatedAt), ms(s.LastRefreshedAt), ms(s.IssuedAt), ms(s.ExpiresAt),
		s.KeyID, s.Signature, s.DeviceID)
	return err
}

const queryRotateSession = `UPDATE sessions s SET secret_hash = $1, prev_secret_hash = $2, rotated_at = $3,
		last_refreshed_at = $4, issued_at = $5, expires_at = $6, key_id = $7, signature = $8
		FROM customers c
		WHERE s.device_id = $9 AND s.secret_hash = $10 AND s.expires_at > $11 AND s.login_type <> 'admin'
			AND c.id = s.customer_id AND c.uuid = $12
		RETURNING ` + customerColumns

// RotateSession stores a rotation in one statement, guarded by the state it was decided on (see
// auth.Store). Under READ COMMITTED a parallel swap waits for the row and then finds the secret
// changed, so exactly one of them applies.
func (d *DB) RotateSession(ctx context.Context, next auth.Session, customerUUID string, now time.Time) (auth.Customer, bool, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	c, err := scanCustomer(d.pool.QueryRow(ctx, queryRotateSession,
		next.SecretHash, next.PrevSecretHash, ms(next.RotatedAt), ms(next.LastRefreshedAt), ms(next.IssuedAt),
		ms(next.ExpiresAt), next.KeyID, next.Signature, next.DeviceID, next.PrevSecretHash, ms(now), customerUUID))
	if errors.Is(err, auth.ErrNotFound) {
		return auth.Customer{}, false, nil
	}
	return c, err == nil, err
}

func (t *Tx) DeleteSession(deviceID string) (bool, error) {
	n, err := t.exec(`DELETE FROM sessions WHERE device_id = $1`, deviceID)
	return n > 0, err
}

func (t *Tx) DeleteSessions(customerID int64, keepDeviceID string) (int, error) {
	n, err := t.exec(`DELETE FROM sessions WHERE customer_id = $1 AND device_id <> $2`, customerID, keepDeviceID)
	return int(n), err
}

// DeleteExpired prunes, unless another process is pruning at this moment (then it does nothing:
// that process deletes the same rows).
func (t *Tx) DeleteExpired(now, auditBefore time.Time, limit int) (int, error) {
	var mine bool
	if err := t.tx.QueryRow(t.ctx, `SELECT pg_try_advisory_xact_lock($1)`, lockPrune).Scan(&mine); err != nil || !mine {
		return 0, err
	}
	n, err := t.exec(`DELETE FROM sessions WHERE device_id IN
		(SELECT device_id FROM sessions WHERE expires_at <= $1 LIMIT $2)`, ms(now), limit)
	if err != nil {
		return 0, err
	}
	if _, err := t.exec(`DELETE FROM recoveries WHERE customer_id IN
		(SELECT customer_id FROM recoveries WHERE expires_at <= $1 LIMIT $2)`, ms(now), limit); err != nil {
		return 0, err
	}
	for _, q := range expiredSecrets {
		if _, err := t.exec(q, ms(now), limit); err != nil {
			return 0, err
		}
	}
	if _, err := t.exec(`DELETE FROM console_sessions WHERE id_hash IN
		(SELECT id_hash FROM console_sessions WHERE expires_at <= $1 LIMIT $2)`, ms(now), limit); err != nil {
		return 0, err
	}
	_, err = t.exec(`DELETE FROM audit_log WHERE id IN
		(SELECT id FROM audit_log WHERE at < $1 LIMIT $2)`, ms(auditBefore), limit)
	return int(n), err
}

func (t *Tx) TrimSessions(customerID int64, keep int) (int, error) {
	n, err := t.exec(`DELETE FROM sessions WHERE customer_id = $1 AND device_id NOT IN
		(SELECT device_id FROM sessions WHERE customer_id = $1 ORDER BY created_at DESC, device_id DESC LIMIT $2)`,
		customerID, keep)
	return int(n), err
}

func (t *Tx) AddAudit(e auth.AuditEvent) error {
	_, err := t.exec(`INSERT INTO audit_log (at, customer_id, device_id, reason, remote_addr, customer_uuid, operator)
		VALUES ($1, $2, $3, $4, $5, COALESCE(NULLIF($6, ''), (SELECT uuid FROM customers WHERE id = $2)), NULLIF($7, ''))`,
		ms(e.At), e.CustomerID, e.DeviceID, e.Reason, e.RemoteAddr, e.CustomerUUID, e.Operator)
	return err
}

// AddSigningKey stores a key and announces it (delivered at commit) so every server reloads its ring.
func (t *Tx) AddSigningKey(k auth.SigningKey) error {
	pemBytes, err := auth.MarshalPrivateKeyPEM(k)
	if err != nil {
		return err
	}
	if _, err := t.exec(`INSERT INTO signing_keys (id, algorithm, private_pem, created_at, shopsys) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, shopsys = excluded.shopsys`,
		k.ID, k.Algorithm, pemBytes, ms(k.CreatedAt), k.Shopsys); err != nil {
		return err
	}
	_, err = t.exec(`SELECT pg_notify($1, $2)`, keysChannel, k.ID)
	return err
}

func (t *Tx) SetSetting(name string, value []byte) error {
	_, err := t.exec(`INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}

// Setting reads a setting after taking a transaction lock on its name: a transaction that reads a
// missing setting and then creates it (the chain key, on a first start) is never overtaken by
// another process doing the same, which would leave the two with different values.
func (t *Tx) Setting(name string) ([]byte, error) {
	if _, err := t.exec(`SELECT pg_advisory_xact_lock(hashtextextended('shopauth.setting.' || $1, 0))`, name); err != nil {
		return nil, err
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, querySetting, name).Scan(&v)
	return v, notFound(err)
}

func (t *Tx) PutRecovery(r auth.Recovery) error {
	_, err := t.exec(`INSERT INTO recoveries (customer_id, hash, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (customer_id) DO UPDATE SET hash = excluded.hash, expires_at = excluded.expires_at`,
		r.CustomerID, r.HashSHA256, ms(r.ExpiresAt))
	return err
}

func (t *Tx) Recovery(customerID int64) (auth.Recovery, error) {
	r := auth.Recovery{CustomerID: customerID}
	var exp int64
	err := t.tx.QueryRow(t.ctx, `SELECT hash, expires_at FROM recoveries WHERE customer_id = $1 FOR UPDATE`, customerID).Scan(&r.HashSHA256, &exp)
	r.ExpiresAt = fromMS(exp)
	return r, notFound(err)
}

func (t *Tx) DeleteRecovery(customerID int64) error {
	_, err := t.exec(`DELETE FROM recoveries WHERE customer_id = $1`, customerID)
	return err
}

// AuditEvents returns the newest audit rows, for tests and the operator.
func (d *DB) AuditEvents(ctx context.Context, limit int) ([]auth.AuditEvent, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	rows, err := d.pool.Query(ctx, `SELECT at, COALESCE(customer_id, 0), COALESCE(device_id, ''), reason,
		COALESCE(remote_addr, '') FROM audit_log ORDER BY id DESC LIMIT $1`, limit)
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

// CountSessions counts the sessions still open at now.
func (d *DB) CountSessions(ctx context.Context, now time.Time) (int, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var n int
	err := d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE expires_at > $1`, ms(now)).Scan(&n)
	return n, err
}

// CountCustomers counts the customer accounts.
func (d *DB) CountCustomers(ctx context.Context) (int, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var n int
	err := d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n)
	return n, err
}
