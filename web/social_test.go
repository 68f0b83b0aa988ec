package web

import (
	"net/http"
	"testing"
)

// The flow cookie survives Apple's cross-site form POST only as SameSite=None, which browsers
// take only with Secure: so with an https issuer; an http one (local) gets Lax.
func TestSocialCookie(t *testing.T) {
	for _, c := range []struct {
		issuer   string
		secure   bool
		sameSite http.SameSite
	}{
		{"https://auth.shop.cz", true, http.SameSiteNoneMode},
		{"http://127.0.0.1:8000", false, http.SameSiteLaxMode},
	} {
		got := socialCookie(c.issuer, "v")
		if got.Secure != c.secure || got.SameSite != c.sameSite || !got.HttpOnly || got.Path != "/social-network/login/" || got.MaxAge != 600 {
			t.Errorf("%s: %+v", c.issuer, got)
		}
	}
}
