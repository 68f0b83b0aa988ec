package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// graphiqlFS holds the GraphiQL page, its init script and the vendored
// GraphiQL 4.1.2 and React 18.3.1 browser builds (scripts/vendor-graphiql.sh).
//
//go:embed graphiql
var graphiqlFS embed.FS

// GraphiQLAssetPrefix is the URL path under which GraphiQLHandler serves the
// page's scripts and styles. index.html refers to its assets by absolute
// paths under it, so the handler must receive requests for it unchanged.
const GraphiQLAssetPrefix = "/graphiql/"

// graphiqlCSP is sent with the page. GraphiQL sets inline styles, hence
// 'unsafe-inline' for styles only; its fonts and icons are data: URLs.
const graphiqlCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'"

const (
	graphiqlPageCache  = "no-cache"
	graphiqlAssetCache = "public, max-age=86400"
)

// GraphiQLHandler returns the handler for the GraphiQL page and its assets,
// all served from files embedded in the binary (no CDN, works offline).
//
// A GET or HEAD request for a path under GraphiQLAssetPrefix ("/graphiql/")
// gets the named asset, or a JSON 404 if there is none. Any other path gets
// the page, so the handler can be mounted on "GET /" and on "GET /graphql"
// for browsers (Accept: text/html), as long as "/graphiql/" reaches it too.
// The page talks to POST /graphql. Other methods get 405.
//
// Responses carry an ETag and honour If-None-Match; assets are gzipped for
// clients that accept it.
func GraphiQLHandler() http.Handler {
	sub, err := fs.Sub(graphiqlFS, "graphiql")
	if err != nil {
		panic("web: graphiql assets: " + err.Error())
	}
	h := &graphiqlHandler{assets: make(map[string]*graphiqlAsset)}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		h.assets[name] = &graphiqlAsset{fsys: sub, name: name, contentType: graphiqlContentType(name)}
		return nil
	})
	if err != nil {
		panic("web: graphiql assets: " + err.Error())
	}
	if h.assets["index.html"] == nil {
		panic("web: graphiql assets: index.html is missing")
	}
	return h
}

type graphiqlHandler struct {
	assets map[string]*graphiqlAsset // by file name; read-only after construction
}

// graphiqlAsset is read from the binary when it is first asked for: a server nobody opens
// GraphiQL on keeps its 1.6 MB out of memory (and out of its resident pages).
type graphiqlAsset struct {
	fsys        fs.FS
	name        string
	contentType string

	loadOnce sync.Once
	data     []byte
	etag     string

	gzOnce sync.Once
	gz     []byte // data gzipped, or nil when that does not make it smaller
}

func (h *graphiqlHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed.", "")
		return
	}
	name, isAsset := strings.CutPrefix(r.URL.Path, GraphiQLAssetPrefix)
	if !isAsset || name == "" || name == "index.html" {
		h.servePage(w, r)
		return
	}
	a := h.assets[name]
	if a == nil {
		writeError(w, http.StatusNotFound, "Not found.", "")
		return
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", graphiqlAssetCache)
	hdr.Set("X-Content-Type-Options", "nosniff")
	a.serve(w, r)
}

func (h *graphiqlHandler) servePage(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", graphiqlPageCache)
	hdr.Set("Content-Security-Policy", graphiqlCSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	h.assets["index.html"].serve(w, r)
}

// serve writes the asset, gzipped when the client accepts it and that helps,
// with conditional and range requests handled by http.ServeContent.
func (a *graphiqlAsset) serve(w http.ResponseWriter, r *http.Request) {
	a.load()
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Add("Vary", "Accept-Encoding")
	body, etag := a.data, a.etag
	if acceptsGzip(r) {
		if gz := a.gzipped(); gz != nil {
			body, etag = gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(body))
}

func (a *graphiqlAsset) load() {
	a.loadOnce.Do(func() {
		data, err := fs.ReadFile(a.fsys, a.name)
		if err != nil {
			panic("web: graphiql asset " + a.name + ": " + err.Error()) // listed by WalkDir from the same embed.FS
		}
		sum := sha256.Sum256(data)
		a.data, a.etag = data, `"`+base64.RawURLEncoding.EncodeToString(sum[:18])+`"`
	})
}

func (a *graphiqlAsset) gzipped() []byte {
	a.gzOnce.Do(func() {
		if len(a.data) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(a.data); err != nil {
			return
		}
		if err := zw.Close(); err != nil {
			return
		}
		if buf.Len() < len(a.data) {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

// acceptsGzip reports whether the request's Accept-Encoding names gzip with a
// non-zero quality.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			for param := range strings.SplitSeq(params, ";") {
				key, value, _ := strings.Cut(param, "=")
				if strings.EqualFold(strings.TrimSpace(key), "q") {
					q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
					return err == nil && q > 0
				}
			}
			return true
		}
	}
	return false
}

func graphiqlContentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default: // LICENSE.*
		return "text/plain; charset=utf-8"
	}
}
