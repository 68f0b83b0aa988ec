package e2e

import (
	"shopauth/internal/servetest"

	"os"
	"regexp"
	"strings"
	"testing"

	"shopauth/internal/testkit"
)

func TestGraphQLOverHTTPAudit(t *testing.T) {
	servetest.RequireExternal(t)
	srv := startAtIssuer(t)
	out := servetest.Node(t, "audit.mjs", srv.URL+"/graphql")
	counts := regexp.MustCompile(`AUDIT (\{.*\})`).FindStringSubmatch(out)
	if counts == nil || !strings.Contains(counts[1], `"error":0`) {
		t.Fatalf("audit summary missing or has MUST failures: %v", counts)
	}
}

// TestGraphiQLInBrowser drives GraphiQL in headless Chromium: "query" runs an anonymous query
// (e2e/browser.mjs); "session" logs in with a 3 s access token: Register, who am I, the same after
// expiry (one refresh, one retry), Log out (e2e/session.mjs); "tabs" runs the example tabs as they
// open, nothing pasted (e2e/tabs.mjs). Each saves a screenshot.
func TestGraphiQLInBrowser(t *testing.T) {
	servetest.RequireExternal(t)
	tests := []struct {
		name, script, screenshot, ok string
		flags                        []string
	}{
		{"query", "browser.mjs", "graphiql.png", "BROWSER ok", nil},
		{"session", "session.mjs", "graphiql-session.png", "SESSION ok", []string{"--access-ttl", "3s"}},
		{"tabs", "tabs.mjs", "graphiql-tabs.png", "TABS ok", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startAtIssuer(t, tt.flags...)
			shot := servetest.Artifact(t, tt.screenshot)
			out := servetest.Node(t, tt.script, srv.URL, shot)
			if !strings.Contains(out, tt.ok) {
				t.Fatalf("%s did not pass", tt.script)
			}
			if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
				t.Fatalf("screenshot %s missing or empty: %v", shot, err)
			}
			t.Logf("GraphiQL screenshot: %s", shot)
		})
	}
}

// TestGraphiQLSessionScript runs the unit tests of the page's session logic (web/graphiql/session.js)
// in Node: token capture, header precedence, refresh and retry, logout.
func TestGraphiQLSessionScript(t *testing.T) {
	servetest.RequireExternal(t)
	out := servetest.Node(t, "--test", "session.test.mjs")
	if !regexp.MustCompile(`(?m)^# fail 0$`).MatchString(out) {
		t.Fatalf("session.js unit tests failed")
	}
}

func TestJWKSVerifiesWithJose(t *testing.T) {
	servetest.RequireExternal(t)
	srv := startAtIssuer(t)
	pair := testkit.Register(t, srv.URL, "jose@shop.cz", "password1")
	out := servetest.Node(t, "jwks.mjs", srv.URL, pair.AccessToken, srv.URL)
	if !strings.Contains(out, "JWKS ok") || !strings.Contains(out, "jose@shop.cz") {
		t.Fatalf("jose did not verify our token against our JWKS")
	}
}
