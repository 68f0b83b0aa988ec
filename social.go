package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"

	"shopauth/auth"
	"shopauth/cli"
	"shopauth/social"
)

// socialFlags are serve's social login flags (contract §7): a provider is on when its client id
// and secret (Apple: client id, team id, key id and key file) are set, and refused when only some
// of them are.
type socialFlags struct {
	googleID, googleSecret, googleIssuer                   string
	appleIDs, appleTeam, appleKeyID, appleKey, appleIssuer string
	facebookID, facebookSecret, facebookURL                string
	seznamID, seznamSecret, seznamURL                      string
	oidcIssuer, oidcID, oidcSecret, oidcLabel              string
}

// registerSocialFlags binds the social login flags to m.
func (m *Main) registerSocialFlags(fs *flag.FlagSet) {
	s := &m.social
	fs.StringVar(&m.Config.SocialRedirectURL, "social-redirect-url", "", "page a social login ends on, with the one-time `URL` code (default ISSUER/account)")
	fs.StringVar(&s.googleID, "google-client-id", "", "Google OAuth client `id` (Log in with Google)")
	fs.StringVar(&s.googleSecret, "google-client-secret", "", "Google OAuth client `secret`")
	fs.StringVar(&s.googleIssuer, "google-issuer", social.GoogleIssuer, "Google's OpenID Connect issuer `URL` (a stand-in's for tests)")
	fs.StringVar(&s.appleIDs, "apple-client-id", "", "Sign in with Apple Services `ID`; more ids comma-separated (apps' bundle ids) are accepted as an id_token's aud")
	fs.StringVar(&s.appleTeam, "apple-team-id", "", "Apple developer team `id`")
	fs.StringVar(&s.appleKeyID, "apple-key-id", "", "`id` of the Sign in with Apple key")
	fs.StringVar(&s.appleKey, "apple-private-key", "", "the Sign in with Apple key's .p8 `file` (shopauth signs its client secret with it)")
	fs.StringVar(&s.appleIssuer, "apple-issuer", social.AppleIssuer, "Apple's OpenID Connect issuer `URL`")
	fs.StringVar(&s.facebookID, "facebook-client-id", "", "Facebook app `id` (Log in with Facebook)")
	fs.StringVar(&s.facebookSecret, "facebook-client-secret", "", "Facebook app `secret`")
	fs.StringVar(&s.facebookURL, "facebook-url", "", "base `URL` replacing www.facebook.com and graph.facebook.com (a stand-in, a proxy)")
	fs.StringVar(&s.seznamID, "seznam-client-id", "", "Seznam OAuth client `id` (Přihlášení přes Seznam)")
	fs.StringVar(&s.seznamSecret, "seznam-client-secret", "", "Seznam OAuth client `secret`")
	fs.StringVar(&s.seznamURL, "seznam-url", social.SeznamURL, "Seznam's OAuth server `URL`")
	fs.StringVar(&s.oidcIssuer, "oidc-issuer", "", "issuer `URL` of a generic OpenID Connect provider (login type oidc; discovery from it)")
	fs.StringVar(&s.oidcID, "oidc-client-id", "", "the OpenID Connect provider's client `id`")
	fs.StringVar(&s.oidcSecret, "oidc-client-secret", "", "the OpenID Connect provider's client `secret`")
	fs.StringVar(&s.oidcLabel, "oidc-label", "", "`text` of the OpenID Connect provider's button (default: the issuer's host)")
}

// configureSocial builds Config.Providers from the flags, refusing a half-configured provider
// (naming the flag it lacks) and a --social-redirect-url that is no absolute http(s) URL. Each
// OpenID Connect provider is then discovered in the background; one that fails is only logged and
// retried at its first login.
func (m *Main) configureSocial(ctx context.Context) error {
	if r := m.Config.SocialRedirectURL; r != "" {
		if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("--social-redirect-url %q must be an absolute http(s) URL", r)
		}
	}
	providers, err := m.social.providers(social.Options{Log: m.Log, Timeout: m.Config.ProviderTimeout})
	if err != nil {
		return err
	}
	m.Config.Providers = providers
	var types []string
	for _, p := range providers {
		types = append(types, p.Type())
		if d, ok := p.(interface{ Discover(context.Context) error }); ok {
			go func() {
				if err := d.Discover(ctx); err != nil {
					m.Log.Warn("social login provider not discovered; retried at its next login", "type", p.Type(), "err", err)
				}
			}()
		}
	}
	if len(types) > 0 {
		m.Log.Info("social login", "providers", strings.Join(types, ","))
	}
	return nil
}

// providers returns the configured providers in LoginTypeEnum's order.
func (s socialFlags) providers(o social.Options) ([]auth.IdentityProvider, error) {
	var out []auth.IdentityProvider
	if on, err := allOrNone("Facebook", [][2]string{{"facebook-client-id", s.facebookID}, {"facebook-client-secret", s.facebookSecret}},
		"facebook-url", s.facebookURL != ""); err != nil {
		return nil, err
	} else if on {
		out = append(out, social.NewFacebook(s.facebookID, s.facebookSecret, s.facebookURL, o))
	}
	if on, err := allOrNone("Google", [][2]string{{"google-client-id", s.googleID}, {"google-client-secret", s.googleSecret}},
		"google-issuer", s.googleIssuer != social.GoogleIssuer); err != nil {
		return nil, err
	} else if on {
		out = append(out, social.NewGoogle(s.googleID, s.googleSecret, s.googleIssuer, o))
	}
	if on, err := allOrNone("Seznam", [][2]string{{"seznam-client-id", s.seznamID}, {"seznam-client-secret", s.seznamSecret}},
		"seznam-url", s.seznamURL != social.SeznamURL); err != nil {
		return nil, err
	} else if on {
		out = append(out, social.NewSeznam(s.seznamID, s.seznamSecret, s.seznamURL, o))
	}
	if on, err := allOrNone("Apple", [][2]string{{"apple-client-id", s.appleIDs}, {"apple-team-id", s.appleTeam},
		{"apple-key-id", s.appleKeyID}, {"apple-private-key", s.appleKey}}, "apple-issuer", s.appleIssuer != social.AppleIssuer); err != nil {
		return nil, err
	} else if on {
		data, err := os.ReadFile(s.appleKey)
		if err != nil {
			return nil, fmt.Errorf("--apple-private-key: %w", err)
		}
		key, err := social.ParseAppleKey(data)
		if err != nil {
			return nil, fmt.Errorf("--apple-private-key %s: %w", s.appleKey, err)
		}
		p, err := social.NewApple(social.AppleConfig{ClientIDs: cli.SplitList(s.appleIDs), TeamID: s.appleTeam,
			KeyID: s.appleKeyID, Key: key, Issuer: s.appleIssuer}, o)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if on, err := allOrNone("the OpenID Connect provider", [][2]string{{"oidc-issuer", s.oidcIssuer},
		{"oidc-client-id", s.oidcID}, {"oidc-client-secret", s.oidcSecret}}, "oidc-label", s.oidcLabel != ""); err != nil {
		return nil, err
	} else if on {
		out = append(out, social.NewGenericOIDC(s.oidcIssuer, s.oidcID, s.oidcSecret, s.oidcLabel, o))
	}
	for _, issuer := range [][2]string{{"google-issuer", s.googleIssuer}, {"apple-issuer", s.appleIssuer},
		{"facebook-url", s.facebookURL}, {"seznam-url", s.seznamURL}, {"oidc-issuer", s.oidcIssuer}} {
		if u, err := url.Parse(issuer[1]); issuer[1] != "" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
			return nil, fmt.Errorf("--%s %q must be an absolute http(s) URL", issuer[0], issuer[1])
		}
	}
	return out, nil
}

// allOrNone reports whether every required flag of a provider is set, and refuses some without
// the others (or only its endpoint override), naming the first one missing.
func allOrNone(provider string, required [][2]string, override string, overridden bool) (bool, error) {
	var set, missing []string
	for _, f := range required {
		if strings.TrimSpace(f[1]) != "" {
			set = append(set, "--"+f[0])
		} else {
			missing = append(missing, "--"+f[0])
		}
	}
	switch {
	case len(missing) == 0:
		return true, nil
	case len(set) > 0:
		return false, fmt.Errorf("%s login needs %s too (%s set)", provider, missing[0], strings.Join(set, ", "))
	case overridden:
		return false, fmt.Errorf("--%s is set but %s login is not: it needs %s", override, provider, strings.Join(missing, ", "))
	}
	return false, nil
}
