package auth

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"golang.org/x/net/publicsuffix"
)

// RelyingParty is who passkeys are made for: the RP ID (a domain the browser checks against the
// page's host) and the page origins whose ceremonies are accepted. A zero ID turns passkeys off.
type RelyingParty struct {
	ID      string
	Origins []string
	// Skipped lists default origins left out because the default RP ID does not cover them
	// (said at start, so the operator knows to set --webauthn-rp-id).
	Skipped []string
}

// ResolveRelyingParty applies the --webauthn-* defaults: the RP ID is the issuer's host and the
// origins are the issuer's origin and the CORS origins. A loopback IP address cannot be an RP ID
// (browsers refuse one), so an issuer on 127.0.0.1 or ::1 gives "localhost" and the issuer's
// origin on localhost: `go run .` then has passkeys at http://localhost:8000/account.
//
// When neither flag is given, a CORS origin outside the default RP ID is skipped rather than
// refused, so a server that only ever used CORS keeps starting; an issuer on another IP address
// turns passkeys off. When either flag is given, every origin must be covered by the RP ID.
func ResolveRelyingParty(issuer, rpID string, origins, corsOrigins []string) (RelyingParty, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return RelyingParty{}, fmt.Errorf("issuer %q must be an absolute http(s) URL", issuer)
	}
	explicit := rpID != "" || len(origins) > 0
	issuerOrigin := u.Scheme + "://" + u.Host
	if rpID == "" {
		rpID = strings.ToLower(u.Hostname())
		if ip := net.ParseIP(rpID); ip != nil {
			if !ip.IsLoopback() {
				if explicit {
					return RelyingParty{}, fmt.Errorf("the issuer's host %s is an IP address, which cannot be a WebAuthn RP ID: set --webauthn-rp-id", rpID)
				}
				return RelyingParty{}, nil
			}
			rpID = "localhost"
			issuerOrigin = u.Scheme + "://" + net.JoinHostPort("localhost", u.Port())
			if u.Port() == "" {
				issuerOrigin = u.Scheme + "://localhost"
			}
		}
	}
	if len(origins) == 0 {
		origins = append([]string{issuerOrigin}, corsOrigins...)
	}
	rp := RelyingParty{ID: rpID}
	for _, o := range origins {
		if err := rp.check(o); err != nil {
			if explicit {
				return RelyingParty{}, err
			}
			rp.Skipped = append(rp.Skipped, o)
			continue
		}
		rp.Origins = append(rp.Origins, o)
	}
	if err := rp.validate(); err != nil {
		if explicit {
			return RelyingParty{}, err
		}
		return RelyingParty{Skipped: origins}, nil
	}
	return rp, nil
}

// validate checks an RP ID that is set: a registrable domain (or localhost) covering each origin.
func (rp RelyingParty) validate() error {
	if rp.ID == "" {
		return nil
	}
	if err := protocol.ValidateRPID(rp.ID); err != nil || rp.ID != strings.ToLower(rp.ID) {
		return fmt.Errorf("--webauthn-rp-id %q is not a domain such as shop.cz (a lower-case host name without scheme or port)", rp.ID)
	}
	if rp.ID != "localhost" {
		if suffix, _ := publicsuffix.PublicSuffix(rp.ID); suffix == rp.ID {
			return fmt.Errorf("--webauthn-rp-id %q is a public suffix, which browsers refuse: use the shop's own domain", rp.ID)
		}
	}
	if len(rp.Origins) == 0 {
		return fmt.Errorf("--webauthn-rp-id %q: no --webauthn-origins to accept passkeys from", rp.ID)
	}
	for _, o := range rp.Origins {
		if err := rp.check(o); err != nil {
			return err
		}
	}
	return nil
}

// check reports whether origin is exactly scheme://host[:port], as a browser writes a page's
// origin, with a host that is the RP ID or under it.
func (rp RelyingParty) check(origin string) error {
	if !plainOrigin(origin) {
		return fmt.Errorf("--webauthn-origins %q is not an origin such as https://www.shop.cz (scheme://host[:port] with nothing after it)", origin)
	}
	u, _ := url.Parse(origin)
	host := strings.ToLower(u.Hostname())
	if host != rp.ID && !strings.HasSuffix(host, "."+rp.ID) {
		return fmt.Errorf("--webauthn-rp-id %q is not a registrable suffix of the host of origin %q: set --webauthn-rp-id to a domain both share (for www.shop.cz and auth.shop.cz, shop.cz)", rp.ID, origin)
	}
	return nil
}

// plainOrigin reports whether origin is http(s)://host[:port] and nothing else: no user, path (not
// even "/"), query or fragment, not even an empty one, a host name of letters, digits, hyphens and
// dots, and a port from 1 to 65535 written without leading zeros.
func plainOrigin(origin string) bool {
	scheme, hostPort, ok := strings.Cut(origin, "://")
	if !ok || (scheme != "http" && scheme != "https") || strings.ContainsAny(hostPort, "/?#@\\") {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != hostPort {
		return false
	}
	host, port := u.Hostname(), u.Port()
	canonical := host
	if port != "" {
		canonical += ":" + port
	}
	if canonical != hostPort { // "https://shop.cz:" (an empty port), an IP address in brackets
		return false
	}
	if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535 || port[0] == '0') {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
			strings.ContainsFunc(label, func(r rune) bool {
				return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-')
			}) {
			return false
		}
	}
	return true
}
