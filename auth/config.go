package auth

import (
	"errors"
	"fmt"
	"net/url"
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
	switch c.SigningAlgorithm {
	case RS256, ES256, EdDSA:
	default:
		return fmt.Errorf("signing algorithm %q: want RS256, ES256 or EdDSA", c.SigningAlgorithm)
	}
	return c.WebAuthn.validate()
}
