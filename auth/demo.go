package auth

import (
	"context"
	"crypto/rand"
	"errors"

	"github.com/google/uuid"
)

// Demo customer: made by `serve --demo` when missing. Its password is random per database and kept
// in the settings, so every --demo start can print it again.
const (
	DemoEmail           = "demo@shopauth.local"
	demoPasswordSetting = "demo_password"
)

// DemoCustomer makes sure the demo customer exists and returns a password that logs it in: the
// stored one while it still does, otherwise a new random one (when the customer is created now,
// or after someone changed its password, which the new one replaces, ending its sessions as every
// password reset does). So `--demo` always prints credentials that work. Only the operator's
// command line calls it, so errors come back as they are, for the operator to read.
func (s *Service) DemoCustomer(ctx context.Context) (password string, err error) {
	c, err := s.store.CustomerByEmail(ctx, DemoEmail)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return "", err
	default:
		if stored, err := s.store.Setting(ctx, demoPasswordSetting); err == nil {
			if ok, _, _ := s.hasher.Verify(ctx, c.PasswordHash, string(stored)); ok {
				return string(stored), nil
			}
		}
	}
	password = rand.Text()[:16]
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		c, err := tx.CustomerByEmail(DemoEmail)
		switch {
		case errors.Is(err, ErrNotFound):
			c = Customer{UUID: uuid.NewString(), Email: DemoEmail, FirstName: "Demo", LastName: "Customer",
				PasswordHash: hash, CreatedAt: s.Now()}
			err = tx.CreateCustomer(&c)
		case err == nil:
			err = s.resetPassword(tx, &c, hash)
		}
		if err != nil {
			return err
		}
		return tx.SetSetting(demoPasswordSetting, []byte(password))
	})
	if err != nil {
		return "", err
	}
	return password, nil
}
