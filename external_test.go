package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The external checks run the Node scripts in e2e/ against the real server: the GraphQL-over-HTTP
// audit (graphql-http), GraphiQL in headless Chromium, and a JWKS verification with jose.
// ./test.sh sets SHOPAUTH_E2E=1 and installs what they need; a bare `go test` skips them.
func requireExternal(t *testing.T) {
	t.Helper()
	if os.Getenv("SHOPAUTH_E2E") == "" {
		t.Skip("set SHOPAUTH_E2E=1 (./test.sh does) to run the Node and Chromium checks")
	}
	if _, err := os.Stat("e2e/node_modules"); err != nil {
		t.Fatal("e2e/node_modules is missing: run npm ci --prefix e2e (./test.sh does)")
	}
}

func node(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("node %s: %v", args[0], err)
	}
	return string(out)
}

func TestGraphQLOverHTTPAudit(t *testing.T) {
	requireExternal(t)
	m := startServer(t, nil)
	out := node(t, "e2e/audit.mjs", m.URL()+"/graphql")
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
	requireExternal(t)
	tests := []struct {
		name, script, screenshot, ok string
		configure                    func(*Main)
	}{
		{"query", "e2e/browser.mjs", "graphiql.png", "BROWSER ok", nil},
		{"session", "e2e/session.mjs", "graphiql-session.png", "SESSION ok",
			func(m *Main) { m.Config.AccessTTL = 3 * time.Second }},
		{"tabs", "e2e/tabs.mjs", "graphiql-tabs.png", "TABS ok", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := startServer(t, tt.configure)
			shot := artifact(t, tt.screenshot)
			out := node(t, tt.script, m.URL(), shot)
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
	requireExternal(t)
	out := node(t, "--test", "e2e/session.test.mjs")
	if !regexp.MustCompile(`(?m)^# fail 0$`).MatchString(out) {
		t.Fatalf("session.js unit tests failed")
	}
}

// artifact returns the absolute path for a file in $SHOPAUTH_ARTIFACTS (./test.sh sets it), or in
// a temporary folder.
func artifact(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("SHOPAUTH_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJWKSVerifiesWithJose(t *testing.T) {
	requireExternal(t)
	m := startServer(t, nil)
	pair := register(t, m.URL(), "jose@shop.cz", "password1")
	out := node(t, "e2e/jwks.mjs", m.URL(), pair.AccessToken, m.Config.Issuer)
	if !strings.Contains(out, "JWKS ok") || !strings.Contains(out, "jose@shop.cz") {
		t.Fatalf("jose did not verify our token against our JWKS")
	}
}
