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

// DemoCustomer makes sure the demo customer exists and returns its password: a new one when it is
// created now, the stored one while it still logs in, or "" once the customer changed it. Only the
// operator's command line calls it, so errors come back as they are, for the operator to read.
func (s *Service) DemoCustomer(ctx context.Context) (password string, err error) {
	c, err := s.store.CustomerByEmail(ctx, DemoEmail)
	switch {
	case errors.Is(err, ErrNotFound):
		password = rand.Text()[:16]
		hash, err := s.hasher.Hash(ctx, password)
		if err != nil {
			return "", err
		}
		c = Customer{UUID: uuid.NewString(), Email: DemoEmail, FirstName: "Demo", LastName: "Customer",
			PasswordHash: hash, CreatedAt: s.Now()}
		err = s.store.Update(ctx, func(tx Tx) error {
			if err := tx.CreateCustomer(&c); err != nil {
				return err
			}
			return tx.SetSetting(demoPasswordSetting, []byte(password))
		})
		if err != nil {
			return "", err
		}
		return password, nil
	case err != nil:
		return "", err
	}
	stored, err := s.store.Setting(ctx, demoPasswordSetting)
	if err != nil {
		return "", nil
	}
	if ok, _, _ := s.hasher.Verify(ctx, c.PasswordHash, string(stored)); !ok {
		return "", nil
	}
	return string(stored), nil
}
