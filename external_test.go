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

func TestGraphiQLInBrowser(t *testing.T) {
	requireExternal(t)
	m := startServer(t, nil)
	dir := os.Getenv("SHOPAUTH_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, _ := filepath.Abs(filepath.Join(dir, "graphiql.png"))
	out := node(t, "e2e/browser.mjs", m.URL(), shot)
	if !strings.Contains(out, "BROWSER ok") {
		t.Fatalf("browser check did not pass")
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s missing or empty: %v", shot, err)
	}
	t.Logf("GraphiQL screenshot: %s", shot)
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
