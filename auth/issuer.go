package auth

import (
	"context"
	"errors"
)

// issuerSetting names the stored issuer the database was last served under.
const issuerSetting = "issuer"

// RememberIssuer stores the configured issuer as the one the database is served under and
// returns the one stored before ("" on first use or when it is unchanged). Tokens carry the
// issuer in iss and aud, so every token issued under another one stops verifying: the server
// tells the operator, who may have changed --issuer by mistake (or by starting with a wildcard
// --addr). Only serve calls it; the other commands never issue tokens.
func (s *Service) RememberIssuer(ctx context.Context) (previous string, err error) {
	err = s.store.Update(ctx, func(tx Tx) error {
		old, err := tx.Setting(issuerSetting)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case string(old) == s.cfg.Issuer:
			return nil
		default:
			previous = string(old)
		}
		return tx.SetSetting(issuerSetting, []byte(s.cfg.Issuer))
	})
	if err != nil {
		return "", internal("auth.RememberIssuer", err)
	}
	return previous, nil
}
