package sqlstore

import (
	"context"
	"time"

	"shopauth/auth"
)

// The admin console's operators, their passkeys and sessions.

const consoleOperatorColumns = `o.id, o.uuid, o.name, o.created_at, o.enrol_hash, o.enrol_expires_at, o.last_login_at`

func scanConsoleOperator[R scanRow](row R, extra ...any) (auth.ConsoleOperator, error) {
	var o auth.ConsoleOperator
	var created, enrolExp, lastLogin int64
	dest := append([]any{&o.ID, &o.UUID, &o.Name, &created, &o.EnrolHash, &enrolExp, &lastLogin}, extra...)
	if err := row.Scan(dest...); err != nil {
		return auth.ConsoleOperator{}, notFound(err)
	}
	o.CreatedAt, o.EnrolExpiresAt, o.LastLoginAt = fromMS(created), fromMS(enrolExp), fromMS(lastLogin)
	return o, nil
}

type scanner func(...any) error

func (f scanner) Scan(dest ...any) error { return f(dest...) }

// ConsoleOperators lists every operator by name, with their passkeys counted.
func (s *Store) ConsoleOperators(ctx context.Context) ([]auth.ConsoleOperator, error) {
	var out []auth.ConsoleOperator
	err := s.readRows(ctx, func(scan func(...any) error) error {
		var n int
		o, err := scanConsoleOperator(scanner(scan), &n)
		if err != nil {
			return err
		}
		o.Passkeys = n
		out = append(out, o)
		return nil
	}, `SELECT `+consoleOperatorColumns+`, (SELECT count(*) FROM console_passkeys p WHERE p.operator_id = o.id)
		FROM console_operators o ORDER BY o.name`)
	return out, err
}

func (s *Store) ConsoleOperatorByEnrolHash(ctx context.Context, hash []byte) (auth.ConsoleOperator, error) {
	return scanConsoleOperator(s.readRow(ctx, `SELECT `+consoleOperatorColumns+`
		FROM console_operators o WHERE o.enrol_hash = ?`, hash))
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

func (s *Store) ConsolePasskeyOperator(ctx context.Context, credentialID []byte) (auth.ConsolePasskey, auth.ConsoleOperator, error) {
	var x consolePasskeyScan
	o, err := scanConsoleOperator(s.readRow(ctx, `SELECT `+consoleOperatorColumns+`, `+consolePasskeyColumns+`
		FROM console_passkeys p JOIN console_operators o ON o.id = p.operator_id WHERE p.credential_id = ?`, credentialID), x.dest()...)
	if err != nil {
		return auth.ConsolePasskey{}, auth.ConsoleOperator{}, err
	}
	return x.passkey(), o, nil
}

func (s *Store) ConsoleSessionOperator(ctx context.Context, idHash []byte) (auth.ConsoleSession, auth.ConsoleOperator, error) {
	cs := auth.ConsoleSession{IDHash: idHash}
	var created, seen, exp int64
	o, err := scanConsoleOperator(s.readRow(ctx, `SELECT `+consoleOperatorColumns+`, s.operator_id, s.created_at, s.last_seen_at, s.expires_at
		FROM console_sessions s JOIN console_operators o ON o.id = s.operator_id WHERE s.id_hash = ?`, idHash),
		&cs.OperatorID, &created, &seen, &exp)
	if err != nil {
		return auth.ConsoleSession{}, auth.ConsoleOperator{}, err
	}
	cs.CreatedAt, cs.LastSeenAt, cs.ExpiresAt = fromMS(created), fromMS(seen), fromMS(exp)
	return cs, o, nil
}

func (t *Tx) CreateConsoleOperator(o *auth.ConsoleOperator) error {
	err := t.queryRow(`INSERT INTO console_operators (uuid, name, created_at, enrol_hash, enrol_expires_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, o.UUID, o.Name, ms(o.CreatedAt), o.EnrolHash, ms(o.EnrolExpiresAt)).Scan(&o.ID)
	if _, ok := t.unique(err); ok {
		return auth.ErrOperatorTaken
	}
	return err
}

// ConsoleOperatorByName reads an operator and locks its row until the transaction ends.
func (t *Tx) ConsoleOperatorByName(name string) (auth.ConsoleOperator, error) {
	return scanConsoleOperator(t.queryRow(`SELECT `+consoleOperatorColumns+`
		FROM console_operators o WHERE o.name = ? FOR UPDATE`, name))
}

// ConsoleOperatorByID reads an operator and locks its row until the transaction ends.
func (t *Tx) ConsoleOperatorByID(id int64) (auth.ConsoleOperator, error) {
	return scanConsoleOperator(t.queryRow(`SELECT `+consoleOperatorColumns+`
		FROM console_operators o WHERE o.id = ? FOR UPDATE`, id))
}

// ConsoleOperatorByUUID reads an operator and locks its row until the transaction ends.
func (t *Tx) ConsoleOperatorByUUID(uuid string) (auth.ConsoleOperator, error) {
	return scanConsoleOperator(t.queryRow(`SELECT `+consoleOperatorColumns+`
		FROM console_operators o WHERE o.uuid = ? FOR UPDATE`, uuid))
}

func (t *Tx) UpdateConsoleOperator(o auth.ConsoleOperator) error {
	_, err := t.exec(`UPDATE console_operators SET enrol_hash = ?, enrol_expires_at = ?, last_login_at = ?
		WHERE id = ?`, o.EnrolHash, ms(o.EnrolExpiresAt), ms(o.LastLoginAt), o.ID)
	return err
}

// DeleteConsoleOperator spells out the deletes, as DeleteCustomer does.
func (t *Tx) DeleteConsoleOperator(id int64) error {
	return t.execEach(id,
		`DELETE FROM console_sessions WHERE operator_id = ?`,
		`DELETE FROM console_passkeys WHERE operator_id = ?`,
		`DELETE FROM console_operators WHERE id = ?`)
}

func (t *Tx) CreateConsolePasskey(p auth.ConsolePasskey) error {
	_, err := t.exec(`INSERT INTO console_passkeys
		(credential_id, operator_id, credential, sign_count, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.CredentialID, p.OperatorID, p.Credential, int64(p.SignCount), ms(p.CreatedAt), ms(p.LastUsedAt))
	if _, ok := t.unique(err); ok {
		return auth.ErrPasskeyTaken
	}
	return err
}

// ConsolePasskey reads a console passkey and locks its row, as Passkey does.
func (t *Tx) ConsolePasskey(credentialID []byte) (auth.ConsolePasskey, error) {
	var x consolePasskeyScan
	err := t.queryRow(`SELECT `+consolePasskeyColumns+` FROM console_passkeys p WHERE p.credential_id = ? FOR UPDATE`,
		credentialID).Scan(x.dest()...)
	if err != nil {
		return auth.ConsolePasskey{}, notFound(err)
	}
	return x.passkey(), nil
}

func (t *Tx) UpdateConsolePasskey(p auth.ConsolePasskey) error {
	_, err := t.exec(`UPDATE console_passkeys SET credential = ?, sign_count = ?, last_used_at = ?
		WHERE credential_id = ?`, p.Credential, int64(p.SignCount), ms(p.LastUsedAt), p.CredentialID)
	return err
}

func (t *Tx) CreateConsoleSession(s auth.ConsoleSession) error {
	_, err := t.exec(`INSERT INTO console_sessions (id_hash, operator_id, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, s.IDHash, s.OperatorID, ms(s.CreatedAt), ms(s.LastSeenAt), ms(s.ExpiresAt))
	return err
}

func (t *Tx) TouchConsoleSession(idHash []byte, at time.Time) error {
	_, err := t.exec(`UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?`, ms(at), idHash)
	return err
}

func (t *Tx) DeleteConsoleSession(idHash []byte) (bool, error) {
	n, err := t.exec(`DELETE FROM console_sessions WHERE id_hash = ?`, idHash)
	return n > 0, err
}

func (t *Tx) DeleteConsoleSessions(operatorID int64) (int, error) {
	n, err := t.exec(`DELETE FROM console_sessions WHERE operator_id = ?`, operatorID)
	return int(n), err
}

// DeleteAdministratorSessions: login_type guards the customers' own sessions, whose
// administrator_uuid is empty.
func (t *Tx) DeleteAdministratorSessions(operatorUUID string) ([]auth.Session, error) {
	var out []auth.Session
	err := t.queryRows(func(scan func(...any) error) error {
		var s auth.Session
		var created, exp int64
		if err := scan(&s.DeviceID, &s.CustomerID, &created, &exp); err != nil {
			return err
		}
		s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(exp)
		s.LoginType, s.AdministratorUUID = auth.LoginTypeAdmin, operatorUUID
		out = append(out, s)
		return nil
	}, `DELETE FROM sessions WHERE login_type = 'admin' AND administrator_uuid = ?
		RETURNING device_id, customer_id, created_at, expires_at`, operatorUUID)
	return out, err
}

func (t *Tx) DeleteAdministratorHandOffs(operatorUUID string) ([]auth.HandOff, error) {
	var out []auth.HandOff
	err := t.queryRows(func(scan func(...any) error) error {
		var h auth.HandOff
		var exp int64
		if err := scan(&h.Hash, &h.Purpose, &h.CustomerID, &exp); err != nil {
			return err
		}
		h.ExpiresAt = fromMS(exp)
		h.LoginType, h.AdministratorUUID = auth.LoginTypeAdmin, operatorUUID
		out = append(out, h)
		return nil
	}, `DELETE FROM social_handoffs WHERE login_type = 'admin' AND administrator_uuid = ?
		RETURNING hash, purpose, customer_id, expires_at`, operatorUUID)
	return out, err
}
