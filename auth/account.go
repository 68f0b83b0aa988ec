package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// RegisterInput is what Register takes.
type RegisterInput struct {
	FirstName, LastName, Email, Password string
	Telephone                            *string
}

// PersonalData is what ChangePersonalData takes.
type PersonalData struct {
	FirstName, LastName string
	Telephone           *string
}

// emailPattern is Symfony's Email constraint in its "html5" mode, which Shopsys uses.
var emailPattern = regexp.MustCompile(`^[a-zA-Z0-9.!#$%&'*+/=?^_` + "`" + `{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$`)

// normalizeEmail is how emails are stored and looked up: trimmed and lower-cased, so that
// "Jan@Shop.cz" and "jan@shop.cz" are one account.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// validator collects violations keyed by input path, in the order they were found.
type validator struct{ v Violations }

func (c *validator) add(path, code, msg string) {
	if c.v == nil {
		c.v = Violations{}
	}
	c.v[path] = append(c.v[path], Violation{Message: msg, Code: code})
}

func (c *validator) err() error {
	if len(c.v) == 0 {
		return nil
	}
	return &Error{Code: EValidation, Message: MsgValidation, Validation: c.v}
}

// Validation messages, word for word as Shopsys answers them; each is written here once.
const (
	msgEnterFirstName      = "Please enter first name"
	msgFirstNameTooLong    = "First name cannot be longer than 100 characters"
	msgEnterLastName       = "Please enter last name"
	msgLastNameTooLong     = "Last name cannot be longer than 100 characters"
	msgEnterEmail          = "Please enter email"
	msgEnterYourEmail      = "Please enter your email address"
	msgEnterPassword       = "Please enter password"
	msgPasswordTooShort    = "Password must be at least %d characters long"
	msgEnterOldPassword    = "Please enter old password"
	msgEnterNewPassword    = "Please enter new password"
	msgNewPasswordTooShort = "New password must be at least %d characters long"
)

func (c *validator) firstName(path, value string) {
	c.name(path, value, msgEnterFirstName, msgFirstNameTooLong)
}

func (c *validator) lastName(path, value string) {
	c.name(path, value, msgEnterLastName, msgLastNameTooLong)
}

// password checks a customer's first password; newPassword one that replaces another.
func (c *validator) password(path, value string, minLen int) {
	c.passwordWith(path, value, msgEnterPassword, msgPasswordTooShort, minLen)
}

func (c *validator) newPassword(path, value string, minLen int) {
	c.passwordWith(path, value, msgEnterNewPassword, msgNewPasswordTooShort, minLen)
}

func (c *validator) name(path, value, blankMsg, longMsg string) {
	switch {
	case strings.TrimSpace(value) == "":
		c.add(path, codeBlank, blankMsg)
	case utf8.RuneCountInString(value) > 100:
		c.add(path, codeTooLong, longMsg)
	}
}

func (c *validator) email(path, value, blankMsg string) {
	switch {
	case strings.TrimSpace(value) == "":
		c.add(path, codeBlank, blankMsg)
	case utf8.RuneCountInString(value) > 255:
		c.add(path, codeTooLong, "Email cannot be longer than 255 characters")
	case !emailPattern.MatchString(strings.TrimSpace(value)):
		c.add(path, codeBadEmail, "Please enter valid email")
	}
}

func (c *validator) passwordWith(path, value, blankMsg, shortFmt string, minLen int) {
	switch {
	case value == "":
		c.add(path, codeBlank, blankMsg)
	case utf8.RuneCountInString(value) < minLen:
		c.add(path, codeTooShort, fmt.Sprintf(shortFmt, minLen))
	case len(value) > 4096:
		c.add(path, codeTooLong, "Password cannot be longer than 4096 characters")
	}
}

func (c *validator) telephone(path string, value *string) {
	if value != nil && utf8.RuneCountInString(*value) > 30 {
		c.add(path, codeTooLong, "Telephone number cannot be longer than 30 characters")
	}
}

// Register creates a customer and logs them in on a new device.
func (s *Service) Register(ctx context.Context, in RegisterInput) (TokenPair, error) {
	in.FirstName, in.LastName, in.Telephone = cleanText(in.FirstName), cleanText(in.LastName), cleanOptional(in.Telephone)
	var v validator
	v.firstName("input.firstName", in.FirstName)
	v.lastName("input.lastName", in.LastName)
	v.email("input.email", in.Email, msgEnterEmail)
	v.password("input.password", in.Password, s.cfg.MinPasswordLength)
	v.telephone("input.telephone", in.Telephone)
	if err := v.err(); err != nil {
		return TokenPair{}, err
	}
	end, err := s.beginAttempt(ctx, EventRegisterThrottled, registrationLimits(s.cfg, ClientFromContext(ctx).IP)...)
	if err != nil {
		return TokenPair{}, err
	}
	end(true) // every registration counts, whatever comes of it
	email := normalizeEmail(in.Email)
	if _, err := s.store.CustomerByEmail(ctx, email); err == nil {
		return TokenPair{}, emailTaken()
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return TokenPair{}, internal("auth.Register", err)
	}
	c := Customer{
		UUID: uuid.NewString(), Email: email, PasswordHash: hash,
		FirstName: strings.TrimSpace(in.FirstName), LastName: strings.TrimSpace(in.LastName),
		Telephone: trimOptional(in.Telephone), CreatedAt: s.Now(),
	}
	return s.startSession(ctx, &c, LoginInfo{Type: LoginTypeWeb}, func(tx Tx) error {
		err := tx.CreateCustomer(&c)
		if errors.Is(err, ErrEmailTaken) {
			return emailTaken()
		}
		return err
	})
}

func emailTaken() error {
	return &Error{Code: EValidation, Message: MsgValidation,
		Validation: Violations{"input.email": {{Message: MsgEmailAlreadyTaken, Code: codeEmailTaken}}}}
}

func trimOptional(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	if t == "" {
		return nil
	}
	return &t
}

// ChangePassword sets a new password after checking the old one, and ends every session of the
// customer, the caller's included: access tokens issued before stop working at once.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, email, oldPassword, newPassword string) (Customer, error) {
	if p == nil {
		return Customer{}, errInvalidToken
	}
	var v validator
	v.email("input.email", email, msgEnterYourEmail)
	if oldPassword == "" {
		v.add("input.oldPassword", codeBlank, msgEnterOldPassword)
	}
	v.newPassword("input.newPassword", newPassword, s.cfg.MinPasswordLength)
	if err := v.err(); err != nil {
		return Customer{}, err
	}
	wrong := &Error{Code: EInvalidAccountOrPassword, Message: MsgInvalidAccount}
	// Guessing the old password is guessing a password: throttled per customer and address like Login.
	end, err := s.beginAttempt(ctx, EventChangePasswordThrottled, changePasswordLimits(s.cfg, p.Customer.UUID, ClientFromContext(ctx).IP)...)
	if err != nil {
		return Customer{}, err
	}
	if normalizeEmail(email) != p.Customer.Email || !p.Customer.HasPassword() {
		// A customer without a password (registered through a social network) has no old
		// password to give: they set one with a password recovery.
		_, _, _ = s.hasher.Verify(ctx, dummyHash, oldPassword)
		end(true)
		return Customer{}, wrong
	}
	ok, _, err := s.hasher.Verify(ctx, p.Customer.PasswordHash, oldPassword)
	end(err == nil && !ok)
	if err != nil {
		return Customer{}, internal("auth.ChangePassword", err)
	}
	if !ok {
		return Customer{}, wrong
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return Customer{}, internal("auth.ChangePassword", err)
	}
	c, err := s.setPassword(ctx, p, hash)
	if err != nil {
		return Customer{}, internal("auth.ChangePassword", err)
	}
	return c, nil
}

// setPassword stores the caller's new password hash, ends every session and any pending recovery.
func (s *Service) setPassword(ctx context.Context, p *Principal, hash string) (Customer, error) {
	var c Customer
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		if c, err = tx.CustomerByID(p.Customer.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, c, p.DeviceID, AuditCustomerPassword); err != nil {
			return err
		}
		return s.resetPassword(tx, &c, hash)
	})
	return c, err
}

// ChangePersonalData updates the caller's name and telephone.
func (s *Service) ChangePersonalData(ctx context.Context, p *Principal, in PersonalData) (Customer, error) {
	if p == nil {
		return Customer{}, errInvalidToken
	}
	in.FirstName, in.LastName, in.Telephone = cleanText(in.FirstName), cleanText(in.LastName), cleanOptional(in.Telephone)
	var v validator
	v.firstName("input.firstName", in.FirstName)
	v.lastName("input.lastName", in.LastName)
	v.telephone("input.telephone", in.Telephone)
	if err := v.err(); err != nil {
		return Customer{}, err
	}
	var c Customer
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		if c, err = tx.CustomerByID(p.Customer.ID); err != nil {
			return err
		}
		c.FirstName, c.LastName = strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
		c.Telephone = trimOptional(in.Telephone)
		return tx.UpdateCustomer(c)
	})
	if err != nil {
		return Customer{}, internal("auth.ChangePersonalData", err)
	}
	return c, nil
}

// CurrentCustomer returns the caller, or the Shopsys "not logged in" error.
func (s *Service) CurrentCustomer(p *Principal) (Customer, error) {
	if p == nil {
		return Customer{}, errNotLoggedIn
	}
	return p.Customer, nil
}

// RecoveryMailer sends the password-recovery mail with the single-use hash.
type RecoveryMailer interface {
	SendRecovery(ctx context.Context, c Customer, hash string) error
}
