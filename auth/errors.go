package auth

import (
	"errors"
	"fmt"
)

// Error codes. Each is the `extensions.userCode` a client sees; they are part of the contract.
const (
	EInvalidToken             = "invalid-token"
	EInvalidCredentials       = "invalid-credentials"
	ETooManyLoginAttempts     = "too-many-login-attempts"
	EInvalidAccountOrPassword = "invalid-account-or-password"
	EValidation               = "validation"
	ELastLoginMethod          = "last-login-method"
	// EAdministratorLogin: an operator's "log in as" session may not add a way to log in.
	EAdministratorLogin = "administrator-login"
	EInternal           = "internal"
	// EUnavailable: the database cannot be reached; web answers it with HTTP 503 and Retry-After.
	EUnavailable = "unavailable"
)

// Client-safe messages that the contract fixes word for word.
const (
	MsgInvalidToken       = "Token is not valid."
	MsgNotLoggedIn        = "No customer user is currently logged in."
	MsgLoginFailed        = "Log in failed."
	MsgTooManyAttempts    = "Too many login attempts. Try again later."
	MsgInvalidAccount     = "This account doesn't exist or password is incorrect"
	MsgValidation         = "validation"
	MsgInternal           = "Internal error."
	MsgUnavailable        = "The service is temporarily unavailable."
	MsgInvalidRecovery    = "Provided hash is not valid."
	MsgEmailAlreadyTaken  = "This email is already registered"
	MsgLastLoginMethod    = "This is the last way to log in to the account: set a password or add a passkey first."
	MsgInvalidVerify      = "Provided hash is not valid."
	MsgAdministratorLogin = "An administrator logged in as the customer cannot add a way to log in."
)

// Error is the domain's error as a client sees it: a stable code, a message that is safe to show
// to a client, the validation details for EValidation, and the cause, which is for the log only.
type Error struct {
	Code       string
	Message    string
	Validation Violations
	Err        error
}

// Violations maps an input path such as "input.email" to what is wrong with it.
type Violations map[string][]Violation

// Violation is one failed constraint. Code is the Symfony/Shopsys constraint code where there is one.
type Violation struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an application error whose message is shown to the client.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// internal wraps a foreign error: the client sees "Internal error.", the log sees err. A store's
// ErrUnavailable becomes EUnavailable instead, so the client knows to try again.
func internal(op string, err error) error {
	if errors.Is(err, ErrUnavailable) {
		return &Error{Code: EUnavailable, Message: MsgUnavailable, Err: fmt.Errorf("%s: %w", op, err)}
	}
	return &Error{Code: EInternal, Message: MsgInternal, Err: fmt.Errorf("%s: %w", op, err)}
}

// ErrorCode returns the code of an application error, EUnavailable for a store's ErrUnavailable,
// EInternal for anything else.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e) && e.Code != EInternal:
		return e.Code
	case errors.Is(err, ErrUnavailable):
		return EUnavailable
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	switch ErrorCode(err) {
	case EInternal:
		return MsgInternal
	case EUnavailable:
		return MsgUnavailable
	}
	var e *Error
	errors.As(err, &e)
	return e.Message
}

// Errors that storage implementations return, so the domain can tell cases apart without SQL.
var (
	// ErrUnavailable is wrapped by a store around a failure to reach its database (PostgreSQL
	// down or gone away, the SQLite file gone, read-only or failing with I/O errors): nothing is
	// wrong with the request, and it may succeed if sent again later.
	ErrUnavailable = errors.New("database unavailable")
	ErrNotFound    = errors.New("not found")
	ErrEmailTaken  = errors.New("email already registered")
	ErrUUIDTaken   = errors.New("customer uuid already in use")
)

// Unavailable marks err, a store's failure to reach its database, as ErrUnavailable, keeping its
// message (nil stays nil).
func Unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return &unavailableError{err}
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string   { return e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

var (
	errInvalidToken = &Error{Code: EInvalidToken, Message: MsgInvalidToken}
	errNotLoggedIn  = &Error{Code: EInvalidToken, Message: MsgNotLoggedIn}
)

// invalidToken keeps the reason for the log while the client sees only "Token is not valid.".
func invalidToken(reason error) error {
	return &Error{Code: EInvalidToken, Message: MsgInvalidToken, Err: reason}
}

// Symfony constraint codes, so a storefront written for Shopsys can match on them.
const (
	codeBlank       = "c1051bb4-d103-4f74-8988-acbcafc7fdc3" // NotBlank::IS_BLANK_ERROR
	codeBadEmail    = "bd79c0ab-ddba-46cc-a703-a7a4b08de310" // Email::INVALID_FORMAT_ERROR
	codeTooShort    = "9ff3fdc4-b214-49db-8718-39c315e33d45" // Length::TOO_SHORT_ERROR
	codeTooLong     = "d94b19cc-114f-4f44-9cc4-4138e80a87b9" // Length::TOO_LONG_ERROR
	codeEmailTaken  = "523826b9-9d44-4af1-bcda-2b5dba2d2bd4" // Shopsys UniqueEmail (ours: Shopsys keeps none stable)
	codeBadRecovery = "82016a50-34c6-4b78-a21d-f9dc5bb47215" // Shopsys ResetPasswordHash
	// Ours, for what Shopsys has no constraint for.
	codeBadLoginType  = "shopauth-login-type"
	codeBadChallenge  = "shopauth-code-challenge"
	codeBadVerifyHash = "shopauth-verify-hash"
)

// refuseAdministrator refuses p when its session is an operator's "log in as": such a session
// lasts an hour and must not leave the operator a way back in (a passkey, a linked social account).
func refuseAdministrator(p *Principal) error {
	if p != nil && p.Login.Type == LoginTypeAdmin {
		return &Error{Code: EAdministratorLogin, Message: MsgAdministratorLogin}
	}
	return nil
}
