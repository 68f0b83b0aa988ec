package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"shopauth/web"
)

func TestAccountHandler(t *testing.T) {
	h := web.NewHandler(web.Config{Service: fakeService{}, Logger: slog.New(slog.DiscardHandler)})
	tests := []struct {
		method, path string
		status       int
		contentType  string
		contains     []string
	}{
		{"GET", "/account", 200, "text/html; charset=utf-8", []string{
			`<script src="/account/account.js" defer></script>`, `href="/account/account.css"`,
			`id="password-login"`, `id="passkey-login"`, `id="add-passkey"`, `id="sessions"`, `id="change-password"`, `id="logout"`,
		}},
		{"GET", "/account/", 200, "text/html; charset=utf-8", []string{"<title>Your account</title>"}},
		{"HEAD", "/account", 200, "text/html; charset=utf-8", nil},
		{"GET", "/account/account.js", 200, "text/javascript; charset=utf-8", []string{
			"PublicKeyCredential.parseCreationOptionsFromJSON", "PublicKeyCredential.parseRequestOptionsFromJSON",
			"JSON.stringify(credential.toJSON())", "PasskeyRegistrationOptions", "RegisterPasskey", "RemovePasskey",
			"PasskeyLoginOptions", "LoginWithPasskey", "RevokeSessions", "ChangePassword", "Logout", "RefreshTokens",
		}},
		{"GET", "/account/account.css", 200, "text/css; charset=utf-8", nil},
		{"GET", "/account/nope.js", 404, "application/json; charset=utf-8", []string{`"Not found."`}},
		{"POST", "/account", 405, "application/json; charset=utf-8", []string{"Method not allowed."}},
		{"DELETE", "/account/account.js", 405, "application/json; charset=utf-8", nil},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			body, _ := io.ReadAll(w.Body)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, body)
			}
			if tc.contentType != "" && w.Header().Get("Content-Type") != tc.contentType {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tc.contentType)
			}
			for _, want := range tc.contains {
				if !strings.Contains(string(body), want) {
					t.Errorf("body lacks %q", want)
				}
			}
			if tc.status == 200 && w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
}

// The page runs under a CSP without 'unsafe-inline', so it must hold no inline script, style or
// event handler, and it loads nothing from another origin.
func TestAccountPageIsStrict(t *testing.T) {
	w := httptest.NewRecorder()
	web.AccountHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/account", nil))
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows something unsafe", csp)
	}
	page := w.Body.String()
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>`),         // inline script
		regexp.MustCompile(`<script(?:(?:\s+(?:defer|type="[^"]*"))*)>`), // a script without src
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`(?:src|href)="(?:https?:)?//`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("the page holds %q, which the CSP forbids or which leaves the server", m)
		}
	}
	js := httptest.NewRecorder()
	web.AccountHandler().ServeHTTP(js, httptest.NewRequest(http.MethodGet, "/account/account.js", nil))
	if js.Code != 200 || regexp.MustCompile(`https?://`).Match(js.Body.Bytes()) {
		t.Error("account.js names another origin")
	}
}
