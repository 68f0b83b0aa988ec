package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestGraphiQLHandler(t *testing.T) {
	h := GraphiQLHandler()
	const (
		page  = "text/html; charset=utf-8"
		js    = "text/javascript; charset=utf-8"
		css   = "text/css; charset=utf-8"
		text  = "text/plain; charset=utf-8"
		jsonT = "application/json; charset=utf-8"
	)
	notFound := `{"errors":[{"message":"Not found."}]}`
	tests := []struct {
		method, path string
		status       int
		contentType  string
		cache        string // expected Cache-Control
		contains     []string
	}{
		{"GET", "/", 200, page, "no-cache", []string{
			`<div id="graphiql" data-endpoint="/graphql">`,
			`<script src="/graphiql/graphiql.min.js"></script>`,
			`<script src="/graphiql/session.js"></script>`,
			`<script src="/graphiql/init.js"></script>`,
			`href="/graphiql/graphiql.min.css"`,
		}},
		{"GET", "/graphql", 200, page, "no-cache", []string{"<title>shopauth GraphiQL</title>"}},
		{"GET", "/graphiql", 200, page, "no-cache", []string{"<title>shopauth GraphiQL</title>"}},
		{"GET", "/graphiql/", 200, page, "no-cache", []string{"<title>shopauth GraphiQL</title>"}},
		{"GET", "/graphiql/index.html", 200, page, "no-cache", []string{"<title>shopauth GraphiQL</title>"}},
		{"HEAD", "/", 200, page, "no-cache", nil},
		{"GET", "/graphiql/init.js", 200, js, "public, max-age=86400", []string{
			"ShopauthSession.createSession({ endpoint: endpoint, storage: window.sessionStorage })",
			"fetcher: session.fetcher,",
			"h(GraphiQL.Logo, null, h(SessionBar))",
			"isHeadersEditorEnabled: true",
			"shouldPersistHeaders: true",
			"mutation Register($input: RegistrationDataInput!)",
			"mutation Login($input: LoginInput!)",
			"query CurrentCustomer {",
			"currentCustomerUser {",
			"mutation RefreshTokens($input: RefreshTokenInput!)",
			"mutation Logout {",
		}},
		{"GET", "/graphiql/session.js", 200, js, "public, max-age=86400", []string{
			"sessionStorage",
			"var STORAGE_KEY = 'shopauth:session';",
			"headers.Authorization = 'Bearer ' + token;",
			"e.extensions.userCode === 'invalid-token'",
			"RefreshTokens(input: $input)",
			"global.ShopauthSession = {",
		}},
		{"GET", "/graphiql/graphiql.min.js", 200, js, "public, max-age=86400", []string{".GraphiQL=t(e.React,e.ReactDOM)"}},
		{"GET", "/graphiql/graphiql.min.css", 200, css, "public, max-age=86400", []string{".graphiql-container"}},
		{"GET", "/graphiql/react.production.min.js", 200, js, "public, max-age=86400", []string{"react.production.min.js"}},
		{"GET", "/graphiql/react-dom.production.min.js", 200, js, "public, max-age=86400", []string{"react-dom.production.min.js"}},
		{"GET", "/graphiql/LICENSE.graphiql", 200, text, "public, max-age=86400", []string{"MIT License"}},
		{"GET", "/graphiql/LICENSE.react", 200, text, "public, max-age=86400", []string{"MIT License"}},
		{"GET", "/graphiql/LICENSE.react-dom", 200, text, "public, max-age=86400", []string{"MIT License"}},
		{"GET", "/graphiql/nope.js", 404, jsonT, "no-store", []string{notFound}},
		{"GET", "/graphiql/../graphiql.go", 404, jsonT, "no-store", []string{notFound}},
		{"GET", "/graphiql/graphiql/index.html", 404, jsonT, "no-store", []string{notFound}},
		{"GET", "/graphiql/init.js/", 404, jsonT, "no-store", []string{notFound}},
		{"POST", "/", 405, jsonT, "no-store", []string{`{"errors":[{"message":"Method not allowed."}]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://127.0.0.1:8000/", nil)
			req.URL.Path = tt.path // as is: httptest would clean "/graphiql/../x"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			csp := res.Header.Get("Content-Security-Policy")
			if tt.contentType == page {
				want := "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
					"img-src 'self' data:; font-src 'self' data:; connect-src 'self'"
				if csp != want {
					t.Errorf("Content-Security-Policy = %q, want %q", csp, want)
				}
			} else if csp != "" {
				t.Errorf("Content-Security-Policy = %q on a non-page response", csp)
			}
			if tt.status == 405 && res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", res.Header.Get("Allow"))
			}
			body := rec.Body.String()
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD body has %d bytes", len(body))
			}
			if tt.status == 404 && body != notFound {
				t.Errorf("body = %q, want %q", body, notFound)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body does not contain %q", s)
				}
			}
		})
	}
}

// TestGraphiQLPins pins the vendored files, so that a bad or changed vendoring
// (scripts/vendor-graphiql.sh) is caught. The graphiql values are the
// published ones for graphiql@4.1.2 graphiql.min.js and graphiql.min.css; the
// React ones are those of react@18.3.1 and react-dom@18.3.1 umd/*.production.min.js.
func TestGraphiQLPins(t *testing.T) {
	pins := map[string]string{
		"graphiql.min.js":             "hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
		"graphiql.min.css":            "MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		"react.production.min.js":     "2Unxw2h67a3O2shSYYZfKbF80nOZfn9rK/xTsvnUxN0=",
		"react-dom.production.min.js": "NfT5dPSyvNRNpzljNH+JUuNB+DkJ5EmCJ9Tia5j2bw0=",
	}
	for name, want := range pins {
		data, err := graphiqlFS.ReadFile("graphiql/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("sha256(%s) = %s, want %s", name, got, want)
		}
	}
}

// TestGraphiQLPageStrictCSP checks that the page has no inline script (it
// must work under script-src 'self') and that every asset it names is served.
func TestGraphiQLPageStrictCSP(t *testing.T) {
	html, err := graphiqlFS.ReadFile("graphiql/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(regexp.MustCompile(`<script[^>]*>[^<]+</script>`).FindAll(html, -1)); n != 0 {
		t.Errorf("index.html has %d inline scripts", n)
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=`).Match(html) {
		t.Error("index.html has an inline event handler attribute")
	}
	initJS, err := graphiqlFS.ReadFile("graphiql/init.js")
	if err != nil {
		t.Fatal(err)
	}
	// The schema's own descriptions are what GraphiQL should show.
	if bytes.Contains(initJS, []byte("schemaDescription")) {
		t.Error("init.js sets schemaDescription")
	}
	// The page keeps the session: no example asks for a pasted token.
	if m := regexp.MustCompile(`(?i)paste|<[a-z ]*token[a-z ]*>`).Find(initJS); m != nil {
		t.Errorf("init.js still asks for a pasted token: %q", m)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/[^"]*)"`).FindAllSubmatch(html, -1)
	if len(refs) != 6 {
		t.Errorf("index.html refers to %d assets, want 6", len(refs))
	}
	h := GraphiQLHandler()
	for _, m := range refs {
		ref := string(m[1])
		if !strings.HasPrefix(ref, GraphiQLAssetPrefix) {
			t.Errorf("asset %q is not under %s", ref, GraphiQLAssetPrefix)
			continue
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", ref, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d", ref, rec.Code)
		}
	}
}

func TestGraphiQLGzipAndETag(t *testing.T) {
	h := GraphiQLHandler()
	raw, err := graphiqlFS.ReadFile("graphiql/graphiql.min.js")
	if err != nil {
		t.Fatal(err)
	}

	req := httptest.NewRequest("GET", "/graphiql/graphiql.min.js", nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q; want 200 gzip", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q", rec.Header().Get("Vary"))
	}
	if rec.Body.Len() >= len(raw)/2 {
		t.Errorf("gzipped body is %d bytes of %d", rec.Body.Len(), len(raw))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, raw) {
		t.Fatalf("gunzipped body differs from the file (err %v)", err)
	}
	gzETag := rec.Header().Get("ETag")

	for _, ae := range []string{"", "gzip;q=0", "identity"} {
		req = httptest.NewRequest("GET", "/graphiql/graphiql.min.js", nil)
		req.Header.Set("Accept-Encoding", ae)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Encoding") != "" || !bytes.Equal(rec.Body.Bytes(), raw) {
			t.Errorf("Accept-Encoding %q: got an encoded or different body", ae)
		}
		if etag := rec.Header().Get("ETag"); etag == "" || etag == gzETag {
			t.Errorf("Accept-Encoding %q: ETag %q (gzip one %q)", ae, etag, gzETag)
		}
	}

	// The page is no-cache: a browser revalidates it with If-None-Match.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	etag := rec.Header().Get("ETag")
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match %s: status %d with %d bytes, want 304", etag, rec.Code, rec.Body.Len())
	}
}
