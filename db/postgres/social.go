package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"shopauth/auth"
)

// expiredSecrets delete at most $2 expired rows each of the short-lived single-use secrets
// (DeleteExpired runs them with now and the limit).
var expiredSecrets = []string{
	`DELETE FROM passkey_challenges WHERE hash IN (SELECT hash FROM passkey_challenges WHERE expires_at <= $1 LIMIT $2)`,
	`DELETE FROM social_flows WHERE state_hash IN (SELECT state_hash FROM social_flows WHERE expires_at <= $1 LIMIT $2)`,
	`DELETE FROM social_handoffs WHERE hash IN (SELECT hash FROM social_handoffs WHERE expires_at <= $1 LIMIT $2)`,
	`DELETE FROM email_verifications WHERE customer_id IN
		(SELECT customer_id FROM email_verifications WHERE expires_at <= $1 LIMIT $2)`,
}

// identityOrder sorts identities in LoginTypeEnum's order.
const identityOrder = ` ORDER BY CASE i.type WHEN 'facebook' THEN 1 WHEN 'google' THEN 2 WHEN 'seznam' THEN 3
	WHEN 'apple' THEN 4 WHEN 'oidc' THEN 5 ELSE 6 END, i.type`

const identityColumns = `i.type, i.subject, i.customer_id, i.email, i.linked_at, i.last_used_at`

func scanIdentity(row pgx.Row) (auth.SocialIdentity, error) {
	var i auth.SocialIdentity
	var linked, used int64
	if err := row.Scan(&i.Type, &i.Subject, &i.CustomerID, &i.Email, &linked, &used); err != nil {
		return auth.SocialIdentity{}, notFound(err)
	}
	i.LinkedAt, i.LastUsedAt = fromMS(linked), fromMS(used)
	return i, nil
}

func scanIdentities(rows pgx.Rows, err error) ([]auth.SocialIdentity, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.SocialIdentity, error) { return scanIdentity(r) })
}

const querySocialIdentities = `SELECT ` + identityColumns + ` FROM social_identities i WHERE i.customer_id = $1` + identityOrder

// SocialIdentities lists a customer's linked identities.
func (d *DB) SocialIdentities(ctx context.Context, customerID int64) ([]auth.SocialIdentity, error) {
	ctx, cancel := d.deadline(ctx)
	defer cancel()
	return scanIdentities(d.pool.Query(ctx, querySocialIdentities, customerID))
}

func (t *Tx) SocialIdentities(customerID int64) ([]auth.SocialIdentity, error) {
	return scanIdentities(t.tx.Query(t.ctx, querySocialIdentities, customerID))
}

func (t *Tx) SocialIdentity(typ, subject string) (auth.SocialIdentity, error) {
	return scanIdentity(t.tx.QueryRow(t.ctx, `SELECT `+identityColumns+` FROM social_identities i
		WHERE i.type = $1 AND i.subject = $2`, typ, subject))
}

func (t *Tx) CreateSocialIdentity(i auth.SocialIdentity) error {
	_, err := t.exec(`INSERT INTO social_identities (type, subject, customer_id, email, linked_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, i.Type, i.Subject, i.CustomerID, i.Email, ms(i.LinkedAt), ms(i.LastUsedAt))
	if isUniqueViolation(err) {
		return auth.ErrIdentityTaken
	}
	return err
}

func (t *Tx) TouchSocialIdentity(typ, subject string, at time.Time) error {
	_, err := t.exec(`UPDATE social_identities SET last_used_at = $1 WHERE type = $2 AND subject = $3`, ms(at), typ, subject)
	return err
}

func (t *Tx) DeleteSocialIdentity(customerID int64, typ string) (bool, error) {
	n, err := t.exec(`DELETE FROM social_identities WHERE customer_id = $1 AND type = $2`, customerID, typ)
	return n > 0, err
}

func (t *Tx) DeletePasskeys(customerID int64) (int, error) {
	n, err := t.exec(`DELETE FROM passkeys WHERE customer_id = $1`, customerID)
	return int(n), err
}

// nullID stores 0 as NULL, for a reference to a customer that may be absent.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func (t *Tx) PutSocialFlow(f auth.SocialFlow) error {
	_, err := t.exec(`INSERT INTO social_flows (state_hash, type, nonce, verifier, browser_hash,
		link_customer_id, redirect, code_challenge, params, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		f.StateHash, f.Type, f.Nonce, f.Verifier, f.BrowserHash, nullID(f.LinkCustomerID), f.Redirect,
		f.CodeChallenge, f.Params, ms(f.ExpiresAt))
	return err
}

// TakeSocialFlow deletes the flow and returns it in one statement: of two instances taking one
// state at once, the second waits for the first's row lock and then finds nothing.
func (t *Tx) TakeSocialFlow(stateHash []byte) (auth.SocialFlow, error) {
	f := auth.SocialFlow{StateHash: stateHash}
	var link *int64
	var exp int64
	err := t.tx.QueryRow(t.ctx, `DELETE FROM social_flows WHERE state_hash = $1
		RETURNING type, nonce, verifier, browser_hash, link_customer_id, redirect, code_challenge, params, expires_at`,
		stateHash).Scan(&f.Type, &f.Nonce, &f.Verifier, &f.BrowserHash, &link, &f.Redirect, &f.CodeChallenge, &f.Params, &exp)
	if err != nil {
		return auth.SocialFlow{}, notFound(err)
	}
	if link != nil {
		f.LinkCustomerID = *link
	}
	f.ExpiresAt = fromMS(exp)
	return f, nil
}

func (t *Tx) PutHandOff(h auth.HandOff) error {
	_, err := t.exec(`INSERT INTO social_handoffs (hash, purpose, customer_id, login_type, external_id,
		administrator_uuid, is_registration, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		h.Hash, h.Purpose, h.CustomerID, h.LoginType, h.ExternalID, h.AdministratorUUID, h.IsRegistration,
		h.CodeChallenge, ms(h.ExpiresAt))
	return err
}

// TakeHandOff deletes the hand-off and returns it in one statement (single use across instances).
func (t *Tx) TakeHandOff(hash []byte) (auth.HandOff, error) {
	h := auth.HandOff{Hash: hash}
	var exp int64
	err := t.tx.QueryRow(t.ctx, `DELETE FROM social_handoffs WHERE hash = $1
		RETURNING purpose, customer_id, login_type, external_id, administrator_uuid, is_registration, code_challenge, expires_at`,
		hash).Scan(&h.Purpose, &h.CustomerID, &h.LoginType, &h.ExternalID, &h.AdministratorUUID, &h.IsRegistration,
		&h.CodeChallenge, &exp)
	if err != nil {
		return auth.HandOff{}, notFound(err)
	}
	h.ExpiresAt = fromMS(exp)
	return h, nil
}

func (t *Tx) PutEmailVerification(r auth.Recovery) error {
	_, err := t.exec(`INSERT INTO email_verifications (customer_id, hash, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (customer_id) DO UPDATE SET hash = excluded.hash, expires_at = excluded.expires_at`,
		r.CustomerID, r.HashSHA256, ms(r.ExpiresAt))
	return err
}

func (t *Tx) EmailVerification(customerID int64) (auth.Recovery, error) {
	r := auth.Recovery{CustomerID: customerID}
	var exp int64
	err := t.tx.QueryRow(t.ctx, `SELECT hash, expires_at FROM email_verifications WHERE customer_id = $1`,
		customerID).Scan(&r.HashSHA256, &exp)
	if err != nil {
		return auth.Recovery{}, notFound(err)
	}
	r.ExpiresAt = fromMS(exp)
	return r, nil
}

func (t *Tx) DeleteEmailVerification(customerID int64) error {
	_, err := t.exec(`DELETE FROM email_verifications WHERE customer_id = $1`, customerID)
	return err
}
