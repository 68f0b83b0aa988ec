package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"shopauth/auth"
)

// SocialLogin is what the social login path needs of the domain; *auth.Service satisfies it.
type SocialLogin interface {
	Config() auth.Config
	StartSocialLogin(ctx context.Context, typ string, q url.Values, browser string) (auth.SocialStart, error)
	SocialLinkTarget(ctx context.Context, typ, link, redirect string) (masked, failure string, err error)
	FinishSocialLogin(ctx context.Context, typ string, cb auth.SocialCallback) (string, error)
}

// SocialCookie binds a social login flow to the browser that began it. Its value is random, the
// same for every flow of one browser (so two tabs can both finish), stored server-side only as a
// hash.
const SocialCookie = "shopauth_social"

// maxCallbackBody bounds a form_post callback (Apple's: code, state, id_token, user).
const maxCallbackBody = 64 << 10

// SocialHandler serves GET|POST auth.SocialPath{type}: without state, code or error it starts a
// login with the provider (302 to it); with them it is the provider's callback (302 to the social
// redirect page, with the one-time code or the failure's reason). Apple answers with a form POST.
func SocialHandler(svc SocialLogin, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, "Use GET or POST.", "")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBody)
		}
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "The request's query or form cannot be read.", "")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		// The state, the code and the link token are in URLs: never sent on as a Referer.
		w.Header().Set("Referrer-Policy", "no-referrer")
		typ := r.PathValue("type")
		browser := ""
		if c, err := r.Cookie(SocialCookie); err == nil {
			browser = c.Value
		}
		callback := r.Form.Has("state") || r.Form.Has("code") || r.Form.Has("error")
		start := r.URL.Query()
		switch {
		case !callback && r.Method == http.MethodGet && start.Has("link"):
			// A SocialLinkUrl: ask first (linkConfirmPage); its form POSTs back here.
			linkConfirm(w, r, svc, log, typ, start)
			return
		case !callback && r.Method == http.MethodPost && r.PostForm.Has("link"):
			if !linkConfirmed(r) {
				writeError(w, http.StatusForbidden, "This link confirmation did not come from its own page: open the link again.", "")
				return
			}
			start = url.Values{}
			for _, k := range linkFormKeys {
				if r.PostForm.Has(k) {
					start.Set(k, r.PostForm.Get(k))
				}
			}
			http.SetCookie(w, linkCSRFCookie(svc.Config().Issuer, "", -1))
		case !callback && r.Method == http.MethodPost:
			writeError(w, http.StatusBadRequest, "A POST here is a provider's callback: state and code are missing.", "")
			return
		}
		if !callback {
			st, err := svc.StartSocialLogin(r.Context(), typ, start, browser)
			if err != nil {
				socialError(w, r, log, err)
				return
			}
			if st.Browser != "" {
				http.SetCookie(w, socialCookie(svc.Config().Issuer, st.Browser))
			}
			http.Redirect(w, r, st.URL, http.StatusFound)
			return
		}
		target, err := svc.FinishSocialLogin(r.Context(), typ, auth.SocialCallback{State: r.Form.Get("state"), Browser: browser,
			Code: r.Form.Get("code"), User: r.Form.Get("user"), Error: r.Form.Get("error")})
		if err != nil {
			socialError(w, r, log, err)
			return
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
}

// socialCookie is the flow cookie. With an https issuer it is SameSite=None and Secure: Apple's
// callback is a cross-site form POST, which carries no SameSite=Lax cookie. Without https a
// SameSite=None cookie is refused by browsers, so it is Lax (the GET callbacks of the other
// providers are top-level navigations, which carry it; Apple requires https anyway). The state
// still has to match it, so a cross-site request without the browser's own flow gets nowhere.
func socialCookie(issuer, value string) *http.Cookie {
	c := &http.Cookie{Name: SocialCookie, Value: value, Path: auth.SocialPath, MaxAge: 600, HttpOnly: true,
		SameSite: http.SameSiteLaxMode}
	if strings.HasPrefix(issuer, "https://") {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	return c
}

// socialError answers what went wrong before any redirect could be made, as JSON.
func socialError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *auth.Error
	switch {
	case errors.Is(err, auth.ErrProviderNotConfigured):
		writeError(w, http.StatusNotFound, "No such social login provider is configured.", "")
	case auth.ErrorCode(err) == auth.EValidation && errors.As(err, &e):
		msg := auth.MsgValidation
		for _, v := range e.Validation {
			msg = v[0].Message
		}
		writeError(w, http.StatusBadRequest, msg, auth.EValidation)
	case auth.ErrorCode(err) == auth.ETooManyLoginAttempts:
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, auth.MsgTooManyAttempts, auth.ETooManyLoginAttempts)
	case auth.ErrorCode(err) == auth.EUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
		writeError(w, http.StatusServiceUnavailable, auth.MsgUnavailable, auth.EUnavailable)
	default:
		log.ErrorContext(r.Context(), "social login", "err", err)
		writeError(w, http.StatusServiceUnavailable, auth.MsgInternal, auth.EInternal)
	}
}
