package sqlstore

import (
	"context"

	"shopauth/auth"
)

const querySigningKeys = `SELECT id, algorithm, private_pem, created_at, shopsys FROM signing_keys ORDER BY created_at, id`

func scanSigningKeys(out *[]auth.SigningKey) func(scan func(...any) error) error {
	return func(scan func(...any) error) error {
		var id, alg string
		var pemBytes []byte
		var created int64
		var shopsys bool
		if err := scan(&id, &alg, &pemBytes, &created, &shopsys); err != nil {
			return err
		}
		k, err := auth.ParsePrivateKeyPEM(pemBytes, fromMS(created), shopsys)
		if err != nil {
			return err
		}
		k.ID, k.Algorithm = id, alg
		*out = append(*out, k)
		return nil
	}
}

// SigningKeys returns every stored key, oldest first.
func (s *Store) SigningKeys(ctx context.Context) ([]auth.SigningKey, error) {
	var out []auth.SigningKey
	err := s.readRows(ctx, scanSigningKeys(&out), querySigningKeys)
	return out, err
}

// SigningKeys reads every stored key inside the write transaction, after taking the key ring's
// lock: two transactions that decide on the ring (two rotations, two first starts) take turns,
// and the second sees what the first committed.
func (t *Tx) SigningKeys() ([]auth.SigningKey, error) {
	if _, err := t.lock("keys", false); err != nil {
		return nil, err
	}
	var out []auth.SigningKey
	err := t.queryRows(scanSigningKeys(&out), querySigningKeys)
	return out, err
}

// AddSigningKey stores a key and announces it (delivered at commit) so every server reloads its ring.
func (t *Tx) AddSigningKey(k auth.SigningKey) error {
	pemBytes, err := auth.MarshalPrivateKeyPEM(k)
	if err != nil {
		return err
	}
	if _, err := t.exec(`INSERT INTO signing_keys (id, algorithm, private_pem, created_at, shopsys) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, shopsys = excluded.shopsys`,
		k.ID, k.Algorithm, pemBytes, ms(k.CreatedAt), k.Shopsys); err != nil {
		return err
	}
	if t.s.d.KeyAdded == nil {
		return nil
	}
	return t.s.d.KeyAdded(t.ctx, t.tx, k.ID)
}

const querySetting = `SELECT value FROM settings WHERE name = ?`

// Setting reads a named setting.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.readRow(ctx, querySetting, name).Scan(&v)
	return v, notFound(err)
}

// Setting reads a setting after taking a lock on its name: a transaction that reads a missing
// setting and then creates it (the chain key, on a first start) is never overtaken by another
// process doing the same, which would leave the two with different values.
func (t *Tx) Setting(name string) ([]byte, error) {
	if _, err := t.lock("setting."+name, false); err != nil {
		return nil, err
	}
	var v []byte
	err := t.queryRow(querySetting, name).Scan(&v)
	return v, notFound(err)
}

func (t *Tx) SetSetting(name string, value []byte) error {
	_, err := t.exec(`INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}
