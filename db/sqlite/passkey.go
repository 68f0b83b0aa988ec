package sqlite

import (
	"context"

	"shopauth/auth"
)

const passkeyColumns = `p.credential_id, p.customer_id, p.name, p.credential, p.sign_count, p.created_at, p.last_used_at`

type passkeyScan struct {
	p             auth.Passkey
	created, used int64
}

func (x *passkeyScan) dest() []any {
	return []any{&x.p.CredentialID, &x.p.CustomerID, &x.p.Name, &x.p.Credential, &x.p.SignCount, &x.created, &x.used}
}

func (x *passkeyScan) passkey() auth.Passkey {
	p := x.p
	p.CreatedAt, p.LastUsedAt = fromMS(x.created), fromMS(x.used)
	return p
}

// Passkeys lists a customer's passkeys, oldest first.
func (d *DB) Passkeys(ctx context.Context, customerID int64) ([]auth.Passkey, error) {
	rows, err := d.reader.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys p
		WHERE p.customer_id = ? ORDER BY p.created_at, p.credential_id`, customerID)
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

const queryPasskeyCustomer = `SELECT ` + customerColumns + `, ` + passkeyColumns + `
		FROM passkeys p JOIN customers c ON c.id = p.customer_id WHERE p.credential_id = ?`

// PasskeyCustomer finds a passkey and its customer by credential id.
func (d *DB) PasskeyCustomer(ctx context.Context, credentialID []byte) (auth.Passkey, auth.Customer, error) {
	var x passkeyScan
	c, err := scanCustomer(d.readRow(ctx, queryPasskeyCustomer, credentialID), x.dest()...)
	if err != nil {
		return auth.Passkey{}, auth.Customer{}, err
	}
	return x.passkey(), c, nil
}

// PasskeyChallenge reads a ceremony's stored challenge by its hash.
func (d *DB) PasskeyChallenge(ctx context.Context, hash []byte) (auth.PasskeyChallenge, error) {
	c := auth.PasskeyChallenge{Hash: hash}
	var customer *int64
	var exp int64
	err := d.readRow(ctx, `SELECT ceremony, customer_id, session, expires_at FROM passkey_challenges WHERE hash = ?`, hash).
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

func (t *Tx) CreatePasskey(p auth.Passkey) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO passkeys
		(credential_id, customer_id, name, credential, sign_count, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.CredentialID, p.CustomerID, p.Name, p.Credential, p.SignCount, ms(p.CreatedAt), ms(p.LastUsedAt))
	if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
		return auth.ErrPasskeyTaken
	}
	return err
}

func (t *Tx) Passkey(credentialID []byte) (auth.Passkey, error) {
	var x passkeyScan
	err := t.tx.QueryRowContext(t.ctx, `SELECT `+passkeyColumns+` FROM passkeys p WHERE p.credential_id = ?`, credentialID).
		Scan(x.dest()...)
	if err != nil {
		return auth.Passkey{}, notFound(err)
	}
	return x.passkey(), nil
}

func (t *Tx) UpdatePasskey(p auth.Passkey) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE passkeys SET name = ?, credential = ?, sign_count = ?, last_used_at = ?
		WHERE credential_id = ?`, p.Name, p.Credential, p.SignCount, ms(p.LastUsedAt), p.CredentialID)
	return err
}

func (t *Tx) DeletePasskey(customerID int64, credentialID []byte) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM passkeys WHERE customer_id = ? AND credential_id = ?`, customerID, credentialID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t *Tx) PutPasskeyChallenge(c auth.PasskeyChallenge) error {
	var customer any
	if c.CustomerID != 0 {
		customer = c.CustomerID
	}
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO passkey_challenges (hash, ceremony, customer_id, session, expires_at)
		VALUES (?, ?, ?, ?, ?)`, c.Hash, c.Ceremony, customer, c.Session, ms(c.ExpiresAt))
	return err
}

func (t *Tx) DeletePasskeyChallenge(hash []byte) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM passkey_challenges WHERE hash = ?`, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
