package sqlstore

import (
	"context"

	"shopauth/auth"
)

const passkeyColumns = `p.credential_id, p.customer_id, p.name, p.credential, p.sign_count, p.created_at, p.last_used_at`

type passkeyScan struct {
	p                    auth.Passkey
	count, created, used int64
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
func (s *Store) Passkeys(ctx context.Context, customerID int64) ([]auth.Passkey, error) {
	var out []auth.Passkey
	err := s.readRows(ctx, func(scan func(...any) error) error {
		var x passkeyScan
		if err := scan(x.dest()...); err != nil {
			return err
		}
		out = append(out, x.passkey())
		return nil
	}, `SELECT `+passkeyColumns+` FROM passkeys p WHERE p.customer_id = ? ORDER BY p.created_at, p.credential_id`, customerID)
	return out, err
}

// PasskeyCustomer finds a passkey and its customer by credential id.
func (s *Store) PasskeyCustomer(ctx context.Context, credentialID []byte) (auth.Passkey, auth.Customer, error) {
	var x passkeyScan
	c, err := scanCustomer(s.readRow(ctx, `SELECT `+customerColumns+`, `+passkeyColumns+`
		FROM passkeys p JOIN customers c ON c.id = p.customer_id WHERE p.credential_id = ?`, credentialID), x.dest()...)
	if err != nil {
		return auth.Passkey{}, auth.Customer{}, err
	}
	return x.passkey(), c, nil
}

// PasskeyChallenge reads a ceremony's stored challenge by its hash.
func (s *Store) PasskeyChallenge(ctx context.Context, hash []byte) (auth.PasskeyChallenge, error) {
	c := auth.PasskeyChallenge{Hash: hash}
	var customer *int64
	var exp int64
	err := s.readRow(ctx, `SELECT ceremony, customer_id, session, expires_at FROM passkey_challenges WHERE hash = ?`, hash).
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

// CountPasskeys locks the customer's row first (where rows are locked), so that of two
// transactions adding a passkey for the same customer the second counts (in a statement of its
// own, which under READ COMMITTED sees what the first committed) only once the first has ended.
// FOR NO KEY UPDATE leaves alone the inserts that merely reference the customer (sessions, audit).
func (t *Tx) CountPasskeys(customerID int64) (int, error) {
	if t.s.d.RowLocks {
		if _, err := t.exec(`SELECT 1 FROM customers WHERE id = ? FOR NO KEY UPDATE`, customerID); err != nil {
			return 0, err
		}
	}
	var n int
	err := t.queryRow(`SELECT count(*) FROM passkeys WHERE customer_id = ?`, customerID).Scan(&n)
	return n, err
}

func (t *Tx) CreatePasskey(p auth.Passkey) error {
	_, err := t.exec(`INSERT INTO passkeys (credential_id, customer_id, name, credential, sign_count, created_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.CredentialID, p.CustomerID, p.Name, p.Credential, int64(p.SignCount), ms(p.CreatedAt), ms(p.LastUsedAt))
	if _, ok := t.unique(err); ok {
		return auth.ErrPasskeyTaken
	}
	return err
}

// Passkey reads a passkey and locks its row, so parallel logins with it (in any process) compare
// and store the sign count one after the other.
func (t *Tx) Passkey(credentialID []byte) (auth.Passkey, error) {
	var x passkeyScan
	err := t.queryRow(`SELECT `+passkeyColumns+` FROM passkeys p WHERE p.credential_id = ? FOR UPDATE`, credentialID).
		Scan(x.dest()...)
	if err != nil {
		return auth.Passkey{}, notFound(err)
	}
	return x.passkey(), nil
}

func (t *Tx) UpdatePasskey(p auth.Passkey) error {
	_, err := t.exec(`UPDATE passkeys SET name = ?, credential = ?, sign_count = ?, last_used_at = ?
		WHERE credential_id = ?`, p.Name, p.Credential, int64(p.SignCount), ms(p.LastUsedAt), p.CredentialID)
	return err
}

func (t *Tx) DeletePasskey(customerID int64, credentialID []byte) (bool, error) {
	n, err := t.exec(`DELETE FROM passkeys WHERE customer_id = ? AND credential_id = ?`, customerID, credentialID)
	return n > 0, err
}

func (t *Tx) DeletePasskeys(customerID int64) (int, error) {
	n, err := t.exec(`DELETE FROM passkeys WHERE customer_id = ?`, customerID)
	return int(n), err
}

func (t *Tx) PutPasskeyChallenge(c auth.PasskeyChallenge) error {
	_, err := t.exec(`INSERT INTO passkey_challenges (hash, ceremony, customer_id, session, expires_at)
		VALUES (?, ?, ?, ?, ?)`, c.Hash, c.Ceremony, nullID(c.CustomerID), c.Session, ms(c.ExpiresAt))
	return err
}

// DeletePasskeyChallenge uses a challenge up: of two processes deleting it at once, the second
// waits for the first's row lock and then deletes nothing.
func (t *Tx) DeletePasskeyChallenge(hash []byte) (bool, error) {
	n, err := t.exec(`DELETE FROM passkey_challenges WHERE hash = ?`, hash)
	return n > 0, err
}
