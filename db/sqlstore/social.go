package sqlstore

import (
	"context"
	"time"

	"shopauth/auth"
)

// identityOrder sorts identities in LoginTypeEnum's order.
const identityOrder = ` ORDER BY CASE i.type WHEN 'facebook' THEN 1 WHEN 'google' THEN 2 WHEN 'seznam' THEN 3
	WHEN 'apple' THEN 4 WHEN 'oidc' THEN 5 ELSE 6 END, i.type`

const (
	identityColumns       = `i.type, i.subject, i.customer_id, i.email, i.linked_at, i.last_used_at`
	querySocialIdentities = `SELECT ` + identityColumns + ` FROM social_identities i WHERE i.customer_id = ?` + identityOrder
	queryByIdentity       = `SELECT ` + identityColumns + ` FROM social_identities i WHERE i.type = ? AND i.subject = ?`
	queryTakeSocialFlow   = `DELETE FROM social_flows WHERE state_hash = ?
		RETURNING type, nonce, verifier, browser_hash, link_customer_id, redirect, code_challenge, params, expires_at`
	queryTakeHandOff = `DELETE FROM social_handoffs WHERE hash = ?
		RETURNING purpose, customer_id, login_type, external_id, administrator_uuid, is_registration, code_challenge, expires_at`
)

func scanIdentity(scan func(...any) error) (auth.SocialIdentity, error) {
	var i auth.SocialIdentity
	var linked, used int64
	if err := scan(&i.Type, &i.Subject, &i.CustomerID, &i.Email, &linked, &used); err != nil {
		return auth.SocialIdentity{}, notFound(err)
	}
	i.LinkedAt, i.LastUsedAt = fromMS(linked), fromMS(used)
	return i, nil
}

func scanIdentities(out *[]auth.SocialIdentity) func(scan func(...any) error) error {
	return func(scan func(...any) error) error {
		i, err := scanIdentity(scan)
		if err == nil {
			*out = append(*out, i)
		}
		return err
	}
}

// SocialIdentities lists a customer's linked identities.
func (s *Store) SocialIdentities(ctx context.Context, customerID int64) ([]auth.SocialIdentity, error) {
	var out []auth.SocialIdentity
	err := s.readRows(ctx, scanIdentities(&out), querySocialIdentities, customerID)
	return out, err
}

func (t *Tx) SocialIdentities(customerID int64) ([]auth.SocialIdentity, error) {
	var out []auth.SocialIdentity
	err := t.queryRows(scanIdentities(&out), querySocialIdentities, customerID)
	return out, err
}

func (t *Tx) SocialIdentity(typ, subject string) (auth.SocialIdentity, error) {
	return scanIdentity(t.queryRow(queryByIdentity, typ, subject).Scan)
}

func (t *Tx) CreateSocialIdentity(i auth.SocialIdentity) error {
	_, err := t.exec(`INSERT INTO social_identities (type, subject, customer_id, email, linked_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?)`, i.Type, i.Subject, i.CustomerID, i.Email, ms(i.LinkedAt), ms(i.LastUsedAt))
	if _, ok := t.unique(err); ok {
		return auth.ErrIdentityTaken
	}
	return err
}

func (t *Tx) TouchSocialIdentity(typ, subject string, at time.Time) error {
	_, err := t.exec(`UPDATE social_identities SET last_used_at = ? WHERE type = ? AND subject = ?`, ms(at), typ, subject)
	return err
}

func (t *Tx) DeleteSocialIdentity(customerID int64, typ string) (bool, error) {
	n, err := t.exec(`DELETE FROM social_identities WHERE customer_id = ? AND type = ?`, customerID, typ)
	return n > 0, err
}

func (t *Tx) PutSocialFlow(f auth.SocialFlow) error {
	_, err := t.exec(`INSERT INTO social_flows (state_hash, type, nonce, verifier, browser_hash,
		link_customer_id, redirect, code_challenge, params, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.StateHash, f.Type, f.Nonce, f.Verifier, f.BrowserHash, nullID(f.LinkCustomerID), f.Redirect,
		f.CodeChallenge, f.Params, ms(f.ExpiresAt))
	return err
}

// TakeSocialFlow deletes the flow and returns it in one statement: of two instances taking one
// state at once, the second waits for the first's row lock (or the writer) and then finds nothing.
func (t *Tx) TakeSocialFlow(stateHash []byte) (auth.SocialFlow, error) {
	f := auth.SocialFlow{StateHash: stateHash}
	var link *int64
	var exp int64
	err := t.queryRow(queryTakeSocialFlow, stateHash).
		Scan(&f.Type, &f.Nonce, &f.Verifier, &f.BrowserHash, &link, &f.Redirect, &f.CodeChallenge, &f.Params, &exp)
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
		administrator_uuid, is_registration, code_challenge, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.Hash, h.Purpose, h.CustomerID, h.LoginType, h.ExternalID, h.AdministratorUUID, h.IsRegistration,
		h.CodeChallenge, ms(h.ExpiresAt))
	return err
}

// TakeHandOff deletes the hand-off and returns it in one statement (single use across instances).
func (t *Tx) TakeHandOff(hash []byte) (auth.HandOff, error) {
	h := auth.HandOff{Hash: hash}
	var exp int64
	err := t.queryRow(queryTakeHandOff, hash).Scan(&h.Purpose, &h.CustomerID, &h.LoginType, &h.ExternalID,
		&h.AdministratorUUID, &h.IsRegistration, &h.CodeChallenge, &exp)
	if err != nil {
		return auth.HandOff{}, notFound(err)
	}
	h.ExpiresAt = fromMS(exp)
	return h, nil
}
