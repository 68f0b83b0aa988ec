package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"shopauth/auth"
)

// The link confirmation. A SocialLinkUrl links whichever provider account opens it to the shop
// account that asked for it, so an attacker could send their own link URL to a victim: the
// victim's Google account would be linked to the attacker's shop account, and the victim's next
// "Log in with Google" would land there. So opening a link URL does not go to the provider at
// once: shopauth answers a page of its own that names the shop account (masked email), and only
// its form, posted with a token that must equal a SameSite=Strict cookie set by that page, starts
// the flow. Another site can neither post the form with the cookie nor read the token, and a
// script-free page under a strict CSP cannot be driven from a frame.

// LinkCSRFCookie holds the confirmation page's token.
const LinkCSRFCookie = "shopauth_link_csrf"

// linkFormKeys are the start parameters the confirmation form carries on.
var linkFormKeys = []string{"link", "redirect", "code_challenge", "code_challenge_method",
	"cartUuid", "shouldOverwriteCustomerUserCart", "productListUuids"}

const linkConfirmCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"

var linkConfirmPage = template.Must(template.New("link").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Link your {{.Type}} account</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; padding: 0 1em">
<h1>Link your {{.Type}} account?</h1>
<p>Continuing links the {{.Type}} account you sign in to next to the shop account <strong id="account">{{.Account}}</strong>.
From then on, logging in with {{.Type}} logs in to that shop account.</p>
<p>If this is not your shop account, or you did not ask for this link yourself, close this page: whoever sent you
the link would be able to log in as you.</p>
<form method="post">{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit">Continue to {{.Type}}</button></form>
</body></html>
`))

type linkField struct{ Name, Value string }

// linkConfirm answers the confirmation page for the link URL with query q, or the failure
// redirect when its token is unusable.
func linkConfirm(w http.ResponseWriter, r *http.Request, svc SocialLogin, log *slog.Logger, typ string, q url.Values) {
	masked, failure, err := svc.SocialLinkTarget(r.Context(), typ, q.Get("link"), q.Get("redirect"))
	if errors.Is(err, auth.ErrLinkInvalid) {
		http.Redirect(w, r, failure, http.StatusFound)
		return
	}
	if err != nil {
		socialError(w, r, log, err)
		return
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	data := struct {
		Type, Account, CSRF string
		Fields              []linkField
	}{Type: providerLabel(typ), Account: masked, CSRF: token}
	for _, k := range linkFormKeys {
		if q.Has(k) {
			data.Fields = append(data.Fields, linkField{k, q.Get(k)})
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", linkConfirmCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	http.SetCookie(w, linkCSRFCookie(svc.Config().Issuer, token, 300))
	linkConfirmPage.Execute(w, data)
}

// linkConfirmed reports whether a POSTed link form carries the token of its page's cookie.
func linkConfirmed(r *http.Request) bool {
	c, err := r.Cookie(LinkCSRFCookie)
	form := r.PostForm.Get("csrf")
	return err == nil && len(c.Value) == 43 && subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) == 1
}

// linkCSRFCookie is the confirmation's cookie: SameSite=Strict (the form posts from our own page,
// so a cross-site post never carries it), HttpOnly, on the social path only.
func linkCSRFCookie(issuer, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: LinkCSRFCookie, Value: value, Path: auth.SocialPath, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: strings.HasPrefix(issuer, "https://")}
}

// providerLabel names a social type for people.
func providerLabel(typ string) string {
	switch typ {
	case auth.LoginTypeOIDC:
		return "OpenID Connect"
	case "":
		return typ
	}
	return strings.ToUpper(typ[:1]) + typ[1:]
}
