package auth

import (
	"context"
	"errors"
)

// issuerSetting names the stored issuer the database was last served under.
const issuerSetting = "issuer"

// ErrIssuerChanged is RememberIssuer's refusal of an issuer other than the stored one.
var ErrIssuerChanged = errors.New("the issuer differs from the one the database was served under")

// RememberIssuer stores the configured issuer as the one the database is served under and
// returns the one stored before ("" on first use or when it is unchanged). Tokens carry the
// issuer in iss and aud, so every token issued under another one stops verifying: unless change
// is true (the operator said so) another issuer is refused with ErrIssuerChanged and left
// unstored, since it is more likely a mistake (a forgotten --issuer on one instance of several,
// a wildcard --addr) than a move. Only serve calls it; the other commands never issue tokens.
func (s *Service) RememberIssuer(ctx context.Context, change bool) (previous string, err error) {
	refused := false
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
			if !change {
				refused = true
				return nil
			}
		}
		return tx.SetSetting(issuerSetting, []byte(s.cfg.Issuer))
	})
	if err != nil {
		return "", internal("auth.RememberIssuer", err)
	}
	if refused {
		return previous, ErrIssuerChanged
	}
	return previous, nil
}
