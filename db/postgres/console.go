package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"shopauth/auth"
)

// The admin console's operators, their passkeys and sessions, and the customer search: the
// PostgreSQL form of db/sqlite/console.go.

const consoleOperatorColumns = `o.id, o.uuid, o.name, o.created_at, o.enrol_hash, o.enrol_expires_at, o.last_login_at`

func scanConsoleOperator(row pgx.Row, extra ...any) (auth.ConsoleOperator, error) {
	var o auth.ConsoleOperator
	var created, enrolExp, lastLogin int64
	dest := append([]any{&o.ID, &o.UUID, &o.Name, &created, &o.EnrolHash, &enrolExp, &lastLogin}, extra...)
	if err := row.Scan(dest...); err != nil {
		return auth.ConsoleOperator{}, notFound(err)
	}
	o.CreatedAt, o.EnrolExpiresAt, o.LastLoginAt = fromMS(created), fromMS(enrolExp), fromMS(lastLogin)
	return o, nil
}

// ConsoleOperators lists every operator by name, with their passkeys counted.
func (d *DB) ConsoleOperators(ctx context.Context) ([]auth.ConsoleOperator, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	rows, err := d.pool.Query(ctx, `SELECT `+consoleOperatorColumns+`,
		(SELECT count(*) FROM console_passkeys p WHERE p.operator_id = o.id)
		FROM console_operators o ORDER BY o.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.ConsoleOperator
	for rows.Next() {
		var n int
		o, err := scanConsoleOperator(rows, &n)
		if err != nil {
			return nil, err
		}
		o.Passkeys = n
		out = append(out, o)
	}
	return out, rows.Err()
}

func (d *DB) ConsoleOperatorByEnrolHash(ctx context.Context, hash []byte) (auth.ConsoleOperator, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	return scanConsoleOperator(d.pool.QueryRow(ctx, `SELECT `+consoleOperatorColumns+`
		FROM console_operators o WHERE o.enrol_hash = $1`, hash))
}

const consolePasskeyColumns = `p.credential_id, p.operator_id, p.credential, p.sign_count, p.created_at, p.last_used_at`

type consolePasskeyScan struct {
	p                    auth.ConsolePasskey
	count, created, used int64
}

func (x *consolePasskeyScan) dest() []any {
	return []any{&x.p.CredentialID, &x.p.OperatorID, &x.p.Credential, &x.count, &x.created, &x.used}
}

func (x *consolePasskeyScan) passkey() auth.ConsolePasskey {
	p := x.p
	p.SignCount = uint32(x.count)
	p.CreatedAt, p.LastUsedAt = fromMS(x.created), fromMS(x.used)
	return p
}

func (d *DB) ConsolePasskeyOperator(ctx context.Context, credentialID []byte) (auth.ConsolePasskey, auth.ConsoleOperator, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var x consolePasskeyScan
	o, err := scanConsoleOperator(d.pool.QueryRow(ctx, `SELECT `+consoleOperatorColumns+`, `+consolePasskeyColumns+`
		FROM console_passkeys p JOIN console_operators o ON o.id = p.operator_id WHERE p.credential_id = $1`, credentialID), x.dest()...)
	if err != nil {
		return auth.ConsolePasskey{}, auth.ConsoleOperator{}, err
	}
	return x.passkey(), o, nil
}

func (d *DB) ConsoleSessionOperator(ctx context.Context, idHash []byte) (auth.ConsoleSession, auth.ConsoleOperator, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	s := auth.ConsoleSession{IDHash: idHash}
	var created, seen, exp int64
	o, err := scanConsoleOperator(d.pool.QueryRow(ctx, `SELECT `+consoleOperatorColumns+`, s.operator_id, s.created_at, s.last_seen_at, s.expires_at
		FROM console_sessions s JOIN console_operators o ON o.id = s.operator_id WHERE s.id_hash = $1`, idHash),
		&s.OperatorID, &created, &seen, &exp)
	if err != nil {
		return auth.ConsoleSession{}, auth.ConsoleOperator{}, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(created), fromMS(seen), fromMS(exp)
	return s, o, nil
}

// customerSearchWhere matches $1 (the search text, lower-cased) or the UUID $2; every customer
// when it is empty.
const customerSearchWhere = `($1 = '' OR strpos(lower(c.email), $1) > 0 OR strpos(lower(c.first_name), $1) > 0
		OR strpos(lower(c.last_name), $1) > 0 OR c.uuid = $2)`

// SearchCustomers answers one page of the customers matching q, oldest first, and how many match.
func (d *DB) SearchCustomers(ctx context.Context, q auth.CustomerSearch, now time.Time) ([]auth.CustomerSummary, int, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	text, raw := auth.FoldSearch(q.Text), q.Text
	var total int
	if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM customers c WHERE `+customerSearchWhere, text, raw).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := d.pool.Query(ctx, `SELECT c.uuid, c.email, c.first_name, c.last_name, c.telephone,
		c.created_at, c.last_login_at,
		(SELECT count(*) FROM sessions s WHERE s.customer_id = c.id AND s.expires_at > $3)
		FROM customers c WHERE `+customerSearchWhere+` ORDER BY c.id LIMIT $4 OFFSET $5`,
		text, raw, ms(now), q.Limit, q.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []auth.CustomerSummary{}
	for rows.Next() {
		var c auth.CustomerSummary
		var created, lastLogin int64
		if err := rows.Scan(&c.UUID, &c.Email, &c.FirstName, &c.LastName, &c.Telephone, &created, &lastLogin, &c.Sessions); err != nil {
			return nil, 0, err
		}
		c.CreatedAt, c.LastLoginAt = fromMS(created), fromMS(lastLogin)
		out = append(out, c)
	}
	return out, total, rows.Err()
}

func (t *Tx) CreateConsoleOperator(o *auth.ConsoleOperator) error {
	err := t.tx.QueryRow(t.ctx, `INSERT INTO console_operators (uuid, name, created_at, enrol_hash, enrol_expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, o.UUID, o.Name, ms(o.CreatedAt), o.EnrolHash, ms(o.EnrolExpiresAt)).Scan(&o.ID)
	if isUniqueViolation(err) {
		return auth.ErrOperatorTaken
	}
	return err
}

func (t *Tx) ConsoleOperatorByName(name string) (auth.ConsoleOperator, error) {
	return scanConsoleOperator(t.tx.QueryRow(t.ctx, `SELECT `+consoleOperatorColumns+`
		FROM console_operators o WHERE o.name = $1 FOR UPDATE`, name))
}

func (t *Tx) ConsoleOperatorByID(id int64) (auth.ConsoleOperator, error) {
	return scanConsoleOperator(t.tx.QueryRow(t.ctx, `SELECT `+consoleOperatorColumns+`
		FROM console_operators o WHERE o.id = $1 FOR UPDATE`, id))
}

func (t *Tx) UpdateConsoleOperator(o auth.ConsoleOperator) error {
	_, err := t.exec(`UPDATE console_operators SET enrol_hash = $1, enrol_expires_at = $2, last_login_at = $3
		WHERE id = $4`, o.EnrolHash, ms(o.EnrolExpiresAt), ms(o.LastLoginAt), o.ID)
	return err
}

func (t *Tx) DeleteConsoleOperator(id int64) error {
	for _, q := range []string{
		`DELETE FROM console_sessions WHERE operator_id = $1`,
		`DELETE FROM console_passkeys WHERE operator_id = $1`,
		`DELETE FROM console_operators WHERE id = $1`,
	} {
		if _, err := t.exec(q, id); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) CreateConsolePasskey(p auth.ConsolePasskey) error {
	_, err := t.exec(`INSERT INTO console_passkeys
		(credential_id, operator_id, credential, sign_count, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		p.CredentialID, p.OperatorID, p.Credential, int64(p.SignCount), ms(p.CreatedAt), ms(p.LastUsedAt))
	if isUniqueViolation(err) {
		return auth.ErrPasskeyTaken
	}
	return err
}

// ConsolePasskey reads a console passkey and locks its row, as Passkey does.
func (t *Tx) ConsolePasskey(credentialID []byte) (auth.ConsolePasskey, error) {
	var x consolePasskeyScan
	err := t.tx.QueryRow(t.ctx, `SELECT `+consolePasskeyColumns+` FROM console_passkeys p WHERE p.credential_id = $1 FOR UPDATE`,
		credentialID).Scan(x.dest()...)
	if err != nil {
		return auth.ConsolePasskey{}, notFound(err)
	}
	return x.passkey(), nil
}

func (t *Tx) UpdateConsolePasskey(p auth.ConsolePasskey) error {
	_, err := t.exec(`UPDATE console_passkeys SET credential = $1, sign_count = $2, last_used_at = $3
		WHERE credential_id = $4`, p.Credential, int64(p.SignCount), ms(p.LastUsedAt), p.CredentialID)
	return err
}

func (t *Tx) CreateConsoleSession(s auth.ConsoleSession) error {
	_, err := t.exec(`INSERT INTO console_sessions (id_hash, operator_id, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, s.IDHash, s.OperatorID, ms(s.CreatedAt), ms(s.LastSeenAt), ms(s.ExpiresAt))
	return err
}

func (t *Tx) TouchConsoleSession(idHash []byte, at time.Time) error {
	_, err := t.exec(`UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2`, ms(at), idHash)
	return err
}

func (t *Tx) DeleteConsoleSession(idHash []byte) (bool, error) {
	n, err := t.exec(`DELETE FROM console_sessions WHERE id_hash = $1`, idHash)
	return n > 0, err
}

func (t *Tx) DeleteConsoleSessions(operatorID int64) (int, error) {
	n, err := t.exec(`DELETE FROM console_sessions WHERE operator_id = $1`, operatorID)
	return int(n), err
}
