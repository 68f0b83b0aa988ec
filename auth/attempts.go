package auth

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
)

// MaxPasswordChecksPerRequest is how many password checks or hashes (Login, ChangePassword,
// Register, RecoverPassword) one request may ask for; aliases beyond it are refused with
// too-many-login-attempts before any work, so one request cannot queue minutes of hashing.
const MaxPasswordChecksPerRequest = 5

type checkBudgetKey struct{}

// NewContextWithCheckBudget returns ctx allowing n password checks in all (the HTTP layer gives
// each request MaxPasswordChecksPerRequest). Without one, checks are not counted per request.
func NewContextWithCheckBudget(ctx context.Context, n int) context.Context {
	b := new(atomic.Int64)
	b.Store(int64(n))
	return context.WithValue(ctx, checkBudgetKey{}, b)
}

// takeCheck spends one of the request's password checks; false when none is left.
func takeCheck(ctx context.Context) bool {
	b, ok := ctx.Value(checkBudgetKey{}).(*atomic.Int64)
	return !ok || b.Add(-1) >= 0
}

var errTooManyAttempts = &Error{Code: ETooManyLoginAttempts, Message: MsgTooManyAttempts}

// beginAttempt admits one attempt under limits (after the request's own budget), or answers
// too-many-login-attempts and tells OnEvent throttledEvent. end must be called with the outcome.
func (s *Service) beginAttempt(ctx context.Context, throttledEvent Event, limits ...Limit) (end func(failed bool), err error) {
	if !takeCheck(ctx) {
		s.event(throttledEvent)
		return nil, errTooManyAttempts
	}
	return s.admit(ctx, throttledEvent, limits...)
}

// admit is beginAttempt without the request's budget.
func (s *Service) admit(ctx context.Context, throttledEvent Event, limits ...Limit) (end func(failed bool), err error) {
	end, err = s.Throttle.Begin(ctx, s.Now(), limits...)
	if err != nil {
		if !errors.Is(err, ErrThrottled) && ctx.Err() == nil {
			// A shared throttle that cannot answer (its database is away) refuses rather than
			// lets guesses through, and says what happened rather than blame the client.
			s.log.Error("throttle unavailable; attempt refused", "err", err)
			return nil, internal("auth.beginAttempt", err)
		}
		s.event(throttledEvent)
		return nil, errTooManyAttempts
	}
	return end, nil
}

// Throttle keys. Each names what it counts, then the client's address (IPv6 by its /64); emails
// are normalised and at most 255 characters by then, so a key is short whatever a client sends.
func loginLimits(cfg Config, email, ip string) []Limit {
	return []Limit{
		// The address comes first: once it is spent nothing is made for the email.
		addressLimit(cfg, ip),
		{Key: "login\x00" + email + "\x00" + addressKey(ip), Max: cfg.LoginFailuresPerEmail},
	}
}

// addressLimit is the failure budget of a client address, which every password check draws on.
func addressLimit(cfg Config, ip string) Limit {
	return Limit{Key: "ip\x00" + addressKey(ip), Max: cfg.LoginFailuresPerIP}
}

func changePasswordLimits(cfg Config, customerUUID, ip string) []Limit {
	return []Limit{
		addressLimit(cfg, ip),
		{Key: "customer\x00" + customerUUID + "\x00" + addressKey(ip), Max: cfg.LoginFailuresPerEmail},
	}
}

func recoveryLimits(cfg Config, email, ip string) []Limit {
	a := addressKey(ip)
	return []Limit{
		{Key: "recovery-ip\x00" + a, Max: cfg.LoginFailuresPerIP},
		{Key: "recovery\x00" + email + "\x00" + a, Max: cfg.LoginFailuresPerEmail},
	}
}

// recoverLimits are RecoverPassword's: the address's recovery budget, and one per email and
// address of the same size as Login's, counting wrong hashes.
func recoverLimits(cfg Config, email, ip string) []Limit {
	a := addressKey(ip)
	return []Limit{
		{Key: "recovery-ip\x00" + a, Max: cfg.LoginFailuresPerIP},
		{Key: "recover\x00" + email + "\x00" + a, Max: cfg.LoginFailuresPerEmail},
	}
}

func registrationLimits(cfg Config, ip string) []Limit {
	return []Limit{{Key: "register\x00" + addressKey(ip), Max: cfg.RegistrationsPerIP}}
}

// maxEmailLength is the contract's limit; a longer "email" cannot be an account.
const maxEmailLength = 255

// plausibleEmail reports whether a normalised email could belong to an account: checked before
// the email becomes a throttle key, so a megabyte of "email" is answered without being kept.
func plausibleEmail(email string) bool {
	return len(email) <= 4*maxEmailLength && len([]rune(email)) <= maxEmailLength &&
		strings.Contains(email, "@") && emailPattern.MatchString(email)
}
