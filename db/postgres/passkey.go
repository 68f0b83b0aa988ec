package postgres

import (
	"context"

	"shopauth/auth"
)

const passkeyColumns = `p.credential_id, p.customer_id, p.name, p.credential, p.sign_count, p.created_at, p.last_used_at`

type passkeyScan struct {
	p             auth.Passkey
	count         int64
	created, used int64
}

func (x *passkeyScan) dest() []any {
	return []any{&x.p.CredentialID, &x.p.CustomerID, &x.p.Name, &x.p.Credential, &x.count, &x.created, &x.used}
}

func (x *passkeyScan) passkey() auth.Passkey {
	p := x.p
	p.SignCount = uint32(x.count)
	p.CreatedAt, p.LastUsedAt = fromMS(x.created), fromMS(x.used)
	return p
}

// Passkeys lists a customer's passkeys, oldest first.
func (d *DB) Passkeys(ctx context.Context, customerID int64) ([]auth.Passkey, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	rows, err := d.pool.Query(ctx, `SELECT `+passkeyColumns+` FROM passkeys p
		WHERE p.customer_id = $1 ORDER BY p.created_at, p.credential_id`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.Passkey
	for rows.Next() {
		var x passkeyScan
		if err := rows.Scan(x.dest()...); err != nil {
			return nil, err
		}
		out = append(out, x.passkey())
	}
	return out, rows.Err()
}

// PasskeyCustomer finds a passkey and its customer by credential id.
func (d *DB) PasskeyCustomer(ctx context.Context, credentialID []byte) (auth.Passkey, auth.Customer, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	var x passkeyScan
	c, err := scanCustomer(d.pool.QueryRow(ctx, `SELECT `+customerColumns+`, `+passkeyColumns+`
		FROM passkeys p JOIN customers c ON c.id = p.customer_id WHERE p.credential_id = $1`, credentialID), x.dest()...)
	if err != nil {
		return auth.Passkey{}, auth.Customer{}, err
	}
	return x.passkey(), c, nil
}

// PasskeyChallenge reads a ceremony's stored challenge by its hash.
func (d *DB) PasskeyChallenge(ctx context.Context, hash []byte) (auth.PasskeyChallenge, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	c := auth.PasskeyChallenge{Hash: hash}
	var customer *int64
	var exp int64
	err := d.pool.QueryRow(ctx, `SELECT ceremony, customer_id, session, expires_at FROM passkey_challenges WHERE hash = $1`, hash).
		Scan(&c.Ceremony, &customer, &c.Session, &exp)
	if err != nil {
		return auth.PasskeyChallenge{}, notFound(err)
	}
	if customer != nil {
		c.CustomerID = *customer
	}
	c.ExpiresAt = fromMS(exp)
	return c, nil
}

// CountPasskeys locks the customer's row first, so that of two transactions adding a passkey for
// the same customer the second counts (in a statement of its own, which under READ COMMITTED sees
// what the first committed) only once the first has ended. FOR NO KEY UPDATE leaves alone the
// inserts that merely reference the customer (sessions, audit).
func (t *Tx) CountPasskeys(customerID int64) (int, error) {
	if _, err := t.exec(`SELECT 1 FROM customers WHERE id = $1 FOR NO KEY UPDATE`, customerID); err != nil {
		return 0, err
	}
	var n int
	err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM passkeys WHERE customer_id = $1`, customerID).Scan(&n)
	return n, err
}

func (t *Tx) CreatePasskey(p auth.Passkey) error {
	_, err := t.exec(`INSERT INTO passkeys (credential_id, customer_id, name, credential, sign_count, created_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.CredentialID, p.CustomerID, p.Name, p.Credential, int64(p.SignCount), ms(p.CreatedAt), ms(p.LastUsedAt))
	if isUniqueViolation(err) {
		return auth.ErrPasskeyTaken
	}
	return err
}

// Passkey reads a passkey and locks its row, so parallel logins with it (in any process) compare
// and store the sign count one after the other.
func (t *Tx) Passkey(credentialID []byte) (auth.Passkey, error) {
	var x passkeyScan
	err := t.tx.QueryRow(t.ctx, `SELECT `+passkeyColumns+` FROM passkeys p WHERE p.credential_id = $1 FOR UPDATE`, credentialID).
		Scan(x.dest()...)
	if err != nil {
		return auth.Passkey{}, notFound(err)
	}
	return x.passkey(), nil
}

func (t *Tx) UpdatePasskey(p auth.Passkey) error {
	_, err := t.exec(`UPDATE passkeys SET name = $1, credential = $2, sign_count = $3, last_used_at = $4
		WHERE credential_id = $5`, p.Name, p.Credential, int64(p.SignCount), ms(p.LastUsedAt), p.CredentialID)
	return err
}

func (t *Tx) DeletePasskey(customerID int64, credentialID []byte) (bool, error) {
	n, err := t.exec(`DELETE FROM passkeys WHERE customer_id = $1 AND credential_id = $2`, customerID, credentialID)
	return n > 0, err
}

func (t *Tx) PutPasskeyChallenge(c auth.PasskeyChallenge) error {
	var customer *int64
	if c.CustomerID != 0 {
		customer = &c.CustomerID
	}
	_, err := t.exec(`INSERT INTO passkey_challenges (hash, ceremony, customer_id, session, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, c.Hash, c.Ceremony, customer, c.Session, ms(c.ExpiresAt))
	return err
}

// DeletePasskeyChallenge uses a challenge up: of two processes deleting it at once, the second
// waits for the first's row lock and then deletes nothing.
func (t *Tx) DeletePasskeyChallenge(hash []byte) (bool, error) {
	n, err := t.exec(`DELETE FROM passkey_challenges WHERE hash = $1`, hash)
	return n > 0, err
}
