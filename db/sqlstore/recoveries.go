package sqlstore

import (
	"shopauth/auth"
)

// Pending password recoveries and email verifications: one mailed secret per customer, stored
// as its hash.

func (t *Tx) PutRecovery(r auth.Recovery) error { return t.putSecret("recoveries", r) }

// Recovery reads the pending recovery and locks its row, so that of two transactions using it up
// the second reads it only once the first has ended.
func (t *Tx) Recovery(customerID int64) (auth.Recovery, error) {
	return t.secret(`SELECT hash, expires_at FROM recoveries WHERE customer_id = ? FOR UPDATE`, customerID)
}

func (t *Tx) DeleteRecovery(customerID int64) error { return t.deleteSecret("recoveries", customerID) }

func (t *Tx) PutEmailVerification(r auth.Recovery) error {
	return t.putSecret("email_verifications", r)
}

func (t *Tx) EmailVerification(customerID int64) (auth.Recovery, error) {
	return t.secret(`SELECT hash, expires_at FROM email_verifications WHERE customer_id = ?`, customerID)
}

func (t *Tx) DeleteEmailVerification(customerID int64) error {
	return t.deleteSecret("email_verifications", customerID)
}

func (t *Tx) putSecret(table string, r auth.Recovery) error {
	_, err := t.exec(`INSERT INTO `+table+` (customer_id, hash, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (customer_id) DO UPDATE SET hash = excluded.hash, expires_at = excluded.expires_at`,
		r.CustomerID, r.HashSHA256, ms(r.ExpiresAt))
	return err
}

func (t *Tx) secret(query string, customerID int64) (auth.Recovery, error) {
	r := auth.Recovery{CustomerID: customerID}
	var exp int64
	if err := t.queryRow(query, customerID).
		Scan(&r.HashSHA256, &exp); err != nil {
		return auth.Recovery{}, notFound(err)
	}
	r.ExpiresAt = fromMS(exp)
	return r, nil
}

func (t *Tx) deleteSecret(table string, customerID int64) error {
	_, err := t.exec(`DELETE FROM `+table+` WHERE customer_id = ?`, customerID)
	return err
}
