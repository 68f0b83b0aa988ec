package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// NewCustomer is a customer added by the operator (`shopauth customers add|import`): with a
// Password, which is hashed here, or with a PasswordHash kept as it is (a Shopsys bcrypt hash is
// upgraded at the customer's next successful login). UUID may be empty for a new one; an imported
// Shopsys UUID keeps the tokens Shopsys issued pointing at the same customer.
type NewCustomer struct {
	UUID                       string
	Email, FirstName, LastName string
	Telephone                  *string
	Password                   string
	PasswordHash               string
}

// RowError says which of the customers given to ImportCustomers cannot be added, and why.
type RowError struct {
	Index  int // into the slice given to ImportCustomers
	Reason string
	// Earlier is 1 + the index of an earlier customer of the same import with the same email, 0 if none.
	Earlier int
}

func (e *RowError) Error() string { return fmt.Sprintf("customer %d: %s", e.Index, e.Reason) }

// ImportCustomers adds every customer in one transaction, or none. Each one is checked as Register
// checks its input, and emails must be new, to the database and within in. The problems found are
// returned together (errors.Join of *RowError, in order), so an operator can fix a file in one go.
func (s *Service) ImportCustomers(ctx context.Context, in []NewCustomer) ([]Customer, error) {
	out := make([]Customer, len(in))
	var errs []error
	seen := make(map[string]int, len(in))
	for i, n := range in {
		c, reasons := s.checkNewCustomer(n)
		earlier := 0
		if first, dup := seen[c.Email]; dup && c.Email != "" {
			reasons = append(reasons, fmt.Sprintf("email %s is already registered", c.Email))
			earlier = first + 1
		} else if c.Email != "" {
			seen[c.Email] = i
			// Checked here too, not only in the transaction, so that one run lists every problem.
			if _, err := s.store.CustomerByEmail(ctx, c.Email); err == nil {
				reasons = append(reasons, fmt.Sprintf("email %s is already registered", c.Email))
			} else if !errors.Is(err, ErrNotFound) {
				return nil, internal("auth.ImportCustomers", err)
			}
		}
		if len(reasons) > 0 {
			errs = append(errs, &RowError{Index: i, Reason: strings.Join(reasons, "; "), Earlier: earlier})
		}
		out[i] = c
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := s.hashAll(ctx, in, out); err != nil {
		return nil, internal("auth.ImportCustomers", err)
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		var errs []error
		for i := range out {
			if _, err := tx.CustomerByEmail(out[i].Email); err == nil {
				errs = append(errs, &RowError{Index: i, Reason: fmt.Sprintf("email %s is already registered", out[i].Email)})
				continue
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
			err := tx.CreateCustomer(&out[i])
			if errors.Is(err, ErrUUIDTaken) {
				errs = append(errs, &RowError{Index: i, Reason: fmt.Sprintf("uuid %s is already in use", out[i].UUID)})
				continue
			}
			if err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	})
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		return nil, err
	}
	if err != nil {
		return nil, internal("auth.ImportCustomers", err)
	}
	return out, nil
}

// checkNewCustomer validates one customer as Register would and returns it normalised, with what
// is wrong with it in the order of its fields.
func (s *Service) checkNewCustomer(n NewCustomer) (Customer, []string) {
	n.FirstName, n.LastName, n.Telephone = cleanText(n.FirstName), cleanText(n.LastName), cleanOptional(n.Telephone)
	var v validator
	v.email("email", n.Email, msgEnterEmail)
	v.firstName("firstName", n.FirstName)
	v.lastName("lastName", n.LastName)
	v.telephone("telephone", n.Telephone)
	if n.PasswordHash != "" {
		if !IsPasswordHash(n.PasswordHash) {
			v.add("passwordHash", "", "not a bcrypt ($2y$, $2a$, $2b$) or argon2id hash")
		} else if problem := bcryptCostProblem(n.PasswordHash); problem != "" {
			v.add("passwordHash", "", problem)
		}
	} else {
		v.password("password", n.Password, s.cfg.MinPasswordLength)
	}
	c := Customer{
		UUID: n.UUID, Email: normalizeEmail(n.Email), PasswordHash: n.PasswordHash,
		FirstName: strings.TrimSpace(n.FirstName), LastName: strings.TrimSpace(n.LastName),
		Telephone: trimOptional(n.Telephone), CreatedAt: s.Now(),
	}
	if c.UUID == "" {
		c.UUID = uuid.NewString()
	} else if u, err := uuid.Parse(strings.TrimSpace(c.UUID)); err != nil || len(strings.TrimSpace(c.UUID)) != 36 {
		v.add("uuid", "", fmt.Sprintf("%q is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", c.UUID))
	} else {
		c.UUID = u.String()
	}
	var reasons []string
	for _, field := range []string{"email", "firstName", "lastName", "telephone", "password", "passwordHash", "uuid"} {
		for _, x := range v.v[field] {
			reasons = append(reasons, field+": "+x.Message)
		}
	}
	return c, reasons
}

// hashAll hashes the plain passwords of in into out, on every core (the hasher bounds the memory).
func (s *Service) hashAll(ctx context.Context, in []NewCustomer, out []Customer) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				h, err := s.hasher.Hash(ctx, in[i].Password)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				out[i].PasswordHash = h
				mu.Unlock()
			}
		})
	}
	for i := range in {
		if in[i].PasswordHash == "" {
			work <- i
		}
	}
	close(work)
	wg.Wait()
	return first
}
