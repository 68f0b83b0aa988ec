package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraphiQLOff: --graphiql=false (SHOPAUTH_GRAPHIQL=false, as deploy/shopauth.env sets it)
// serves no GraphiQL page or asset; the API, the account page and the JWKS stay.
func TestGraphiQLOff(t *testing.T) {
	get := func(url, accept string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept", accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	for _, tt := range []struct {
		name string
		args []string
		env  string
		page bool
	}{
		{"default", nil, "", true},
		{"--graphiql=false", []string{"--graphiql=false"}, "", false},
		{"SHOPAUTH_GRAPHIQL=false", nil, "false", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("SHOPAUTH_GRAPHIQL", tt.env)
			}
			url, out, stop := serveArgs(t, append(tt.args, "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "shop.db"))...)
			defer stop()
			if got := strings.Contains(out.String(), "GraphiQL at"); got != tt.page {
				t.Errorf("listening line %q: names GraphiQL %v, want %v", out.String(), got, tt.page)
			}
			for _, path := range []string{"/", "/graphql", "/graphiql/index.html"} {
				code, body := get(url+path, "text/html")
				isPage := code == 200 && strings.Contains(body, "graphiql")
				if isPage != tt.page {
					t.Errorf("GET %s: %d, GraphiQL page %v, want %v:\n%.200s", path, code, isPage, tt.page, body)
				}
				if !tt.page && code >= 500 {
					t.Errorf("GET %s: %d", path, code)
				}
			}
			if code, _ := get(url+"/", "text/html"); !tt.page && code != 404 {
				t.Errorf("GET / without GraphiQL: %d, want 404", code)
			}
			// The API, the account page and the JWKS stay.
			if code, body := get(url+"/graphql?query=%7B__typename%7D", "application/json"); code != 200 || !strings.Contains(body, `"__typename":"Query"`) {
				t.Errorf("GET /graphql?query: %d %s", code, body)
			}
			register(t, url, "api@example.com", "correct horse")
			if code, _ := get(url+"/account", "text/html"); code != 200 {
				t.Errorf("GET /account: %d", code)
			}
			if code, _ := get(url+"/.well-known/jwks.json", "application/json"); code != 200 {
				t.Errorf("GET /.well-known/jwks.json: %d", code)
			}
		})
	}
}
