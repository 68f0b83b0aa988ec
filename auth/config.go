package auth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config is the tunable policy. DefaultConfig gives the contract's defaults.
type Config struct {
	Issuer                string
	AccessTTL             time.Duration
	RefreshTTL            time.Duration
	ReuseInterval         time.Duration
	ClockLeeway           time.Duration
	MinPasswordLength     int
	SigningAlgorithm      string
	RecoveryTTL           time.Duration
	LoginFailuresPerEmail int // per minute, per email and IP
	LoginFailuresPerIP    int // per minute
	RegistrationsPerIP    int // per minute
	SessionsPerCustomer   int // a new session ends the oldest beyond this many
	AuditRetention        time.Duration
	WebAuthn              RelyingParty // passkeys; a zero ID turns them off

	// Social login. Providers are the configured social networks (main builds them from the
	// flags); none turns social login off.
	Providers []IdentityProvider
	// SocialRedirectURL is the page a social login ends on (--social-redirect-url); "" is
	// ISSUER/account.
	SocialRedirectURL string
	// Console is the admin console operators' relying party (ConsoleRelyingParty of
	// --admin-addr); a zero ID means no console.
	Console RelyingParty
	// CORSOrigins are --cors-origins: a social login's redirect parameter may name them.
	CORSOrigins []string
	// VerifyURL is what the email verification mail links to, with {email} and {hash} filled in
	// (--verify-url); "" is ISSUER/account?verify={hash}&email={email}.
	VerifyURL string
	// ProviderTimeout bounds each call to a provider (a code exchange, an id_token's keys).
	ProviderTimeout time.Duration
}

// DefaultConfig returns the contract's defaults.
func DefaultConfig() Config {
	return Config{
		Issuer:                "http://127.0.0.1:8000",
		AccessTTL:             time.Hour,
		RefreshTTL:            14 * 24 * time.Hour,
		ReuseInterval:         10 * time.Second,
		ClockLeeway:           0,
		MinPasswordLength:     8,
		SigningAlgorithm:      RS256,
		RecoveryTTL:           time.Hour,
		LoginFailuresPerEmail: 5,
		LoginFailuresPerIP:    100,
		RegistrationsPerIP:    60,
		SessionsPerCustomer:   100,
		AuditRetention:        90 * 24 * time.Hour,
		ProviderTimeout:       10 * time.Second,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("issuer %q must be an absolute http(s) URL such as http://127.0.0.1:8000", c.Issuer)
	}
	switch {
	case c.AccessTTL <= 0:
		return errors.New("access token lifetime must be positive")
	case c.RefreshTTL <= 0:
		return errors.New("refresh token lifetime must be positive")
	case c.ReuseInterval < 0:
		return errors.New("refresh reuse interval must not be negative")
	case c.ClockLeeway < 0 || c.ClockLeeway > time.Minute:
		return errors.New("clock leeway must be between 0s and 60s")
	case c.MinPasswordLength < 1 || c.MinPasswordLength > 1024:
		return errors.New("minimum password length must be between 1 and 1024")
	case c.RecoveryTTL <= 0:
		return errors.New("recovery lifetime must be positive")
	case c.LoginFailuresPerEmail < 1 || c.LoginFailuresPerIP < 1:
		return errors.New("login failure limits must be at least 1")
	case c.RegistrationsPerIP < 1:
		return errors.New("registrations per IP must be at least 1")
	case c.SessionsPerCustomer < 1:
		return errors.New("sessions per customer must be at least 1")
	}
	if err := c.validateSocial(); err != nil {
		return err
	}
	switch c.SigningAlgorithm {
	case RS256, ES256, EdDSA:
	default:
		return fmt.Errorf("signing algorithm %q: want RS256, ES256 or EdDSA", c.SigningAlgorithm)
	}
	if err := c.Console.validate(); err != nil {
		return err
	}
	return c.WebAuthn.validate()
}

// validateSocial checks the social login settings.
func (c Config) validateSocial() error {
	if c.SocialRedirectURL != "" {
		if u, err := url.Parse(c.SocialRedirectURL); err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("social redirect URL %q must be an absolute http(s) URL", c.SocialRedirectURL)
		}
	}
	if c.VerifyURL != "" {
		u, err := url.Parse(strings.NewReplacer("{email}", "e", "{hash}", "h").Replace(c.VerifyURL))
		if !strings.Contains(c.VerifyURL, "{hash}") || err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("verify URL %q must be an absolute http(s) URL containing {hash}", c.VerifyURL)
		}
	}
	if len(c.Providers) > 0 && c.ProviderTimeout <= 0 {
		return errors.New("provider timeout must be positive")
	}
	seen := map[string]bool{}
	for _, p := range c.Providers {
		if p == nil || !slices.Contains(SocialTypes, p.Type()) {
			return errors.New("a social login provider of an unknown type")
		}
		if seen[p.Type()] {
			return fmt.Errorf("social login provider %s configured twice", p.Type())
		}
		seen[p.Type()] = true
	}
	return nil
}
