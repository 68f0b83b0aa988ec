package socialtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
)

// Facebook is a stand-in of Facebook Login and the Graph API's /me, at the paths the server uses
// under --facebook-url.
type Facebook struct{ *server }

// Paths of the Facebook stand-in.
const (
	FacebookAuthorizePath = "/dialog/oauth"
	FacebookTokenPath     = "/oauth/access_token"
	FacebookMePath        = "/me"
)

// NewFacebook starts a Facebook stand-in, closed when the test ends. Its /me requires a valid
// appsecret_proof, as an app with "Require App Secret" on does.
func NewFacebook(t testing.TB) *Facebook {
	t.Helper()
	p := &Facebook{}
	p.server = newServer(t, http.NewServeMux(), FacebookAuthorizePath, FacebookTokenPath, FacebookMePath,
		func(user User, r *http.Request, token string) (map[string]any, error) {
			mac := hmac.New(sha256.New, []byte(p.ClientSecret))
			mac.Write([]byte(token))
			if !hmac.Equal([]byte(r.URL.Query().Get("appsecret_proof")), []byte(hex.EncodeToString(mac.Sum(nil)))) {
				return nil, errors.New("Invalid appsecret_proof")
			}
			profile := map[string]any{"id": user.Subject}
			for field, value := range map[string]string{"email": user.Email, "first_name": user.FirstName, "last_name": user.LastName} {
				if value != "" {
					profile[field] = value
				}
			}
			return profile, nil
		})
	return p
}

// Seznam is a stand-in of Seznam's OAuth server and its /api/v1/user, at the paths the server uses
// under --seznam-url. IssueCode makes a FedCM code (no redirect_uri, no PKCE).
type Seznam struct{ *server }

// Paths of the Seznam stand-in.
const (
	SeznamAuthorizePath = "/api/v1/oauth/auth"
	SeznamTokenPath     = "/api/v1/oauth/token"
	SeznamUserPath      = "/api/v1/user"
)

// NewSeznam starts a Seznam stand-in, closed when the test ends.
func NewSeznam(t testing.TB) *Seznam {
	t.Helper()
	p := &Seznam{}
	p.server = newServer(t, http.NewServeMux(), SeznamAuthorizePath, SeznamTokenPath, SeznamUserPath,
		func(user User, _ *http.Request, _ string) (map[string]any, error) {
			return map[string]any{"oauth_user_id": user.Subject, "email": user.Email,
				"firstname": user.FirstName, "lastname": user.LastName}, nil
		})
	p.user = User{Subject: "8f14e45fceea167a5a36dedd4bea2543", Email: "jana.novakova@seznam.cz", FirstName: "Jana", LastName: "Nováková"}
	p.tokenExtra = func(g grant, _ Fault) (map[string]any, error) {
		// Seznam's token answer names the account too; the adapter reads the profile regardless.
		return map[string]any{"oauth_user_id": g.user.Subject, "account_name": g.user.Email}, nil
	}
	return p
}
