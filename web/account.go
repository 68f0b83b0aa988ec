package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// accountFS holds the customer's account page: plain HTML, one stylesheet, one script.
//
//go:embed account
var accountFS embed.FS

// AccountPath is where the account page is served; its assets are under AccountPath + "/".
const AccountPath = "/account"

// accountCSP allows the page's own script, style and API and nothing else: no inline script or
// style, no other origin, no framing.
const accountCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type accountFile struct {
	name, contentType, etag string
	data                    []byte
}

// AccountHandler serves GET /account (the page) and /account/account.js and
// /account/account.css, embedded in the binary like GraphiQL (no CDN, works offline).
func AccountHandler() http.Handler {
	return pageHandler(accountFS, "account", AccountPath)
}

// pageHandler serves an embedded page at path (dir/index.html, under the strict CSP) and its
// script and stylesheet at path/NAME (dir/NAME.js, dir/NAME.css): /account and /admin.
func pageHandler(fsys fs.FS, dir, path string) http.Handler {
	files := map[string]*accountFile{}
	for name, ctype := range map[string]string{
		"index.html": "text/html; charset=utf-8",
		dir + ".js":  "text/javascript; charset=utf-8",
		dir + ".css": "text/css; charset=utf-8",
	} {
		data, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			panic("web: " + dir + " page: " + err.Error())
		}
		sum := sha256.Sum256(data)
		files[name] = &accountFile{name: name, contentType: ctype, data: data,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "Method not allowed.", "")
			return
		}
		name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, path), "/")
		if name == "" {
			name = "index.html"
		}
		f := files[name]
		if f == nil {
			writeError(w, http.StatusNotFound, "Not found.", "")
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache") // small files: revalidated by ETag, so an upgrade shows at once
		h.Set("ETag", f.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		if name == "index.html" {
			h.Set("Content-Security-Policy", accountCSP)
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
		}
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
	})
}
