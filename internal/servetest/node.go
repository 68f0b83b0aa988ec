package servetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Node and Chromium checks run the scripts of e2e/ against a server; ./test.sh sets
// SHOPAUTH_E2E=1 and installs what they need, and a bare `go test` skips them.

// RequireExternal skips the test unless SHOPAUTH_E2E is set, and fails it when e2e/node_modules
// is missing.
func RequireExternal(t testing.TB) {
	t.Helper()
	if os.Getenv("SHOPAUTH_E2E") == "" {
		t.Skip("set SHOPAUTH_E2E=1 (./test.sh does) to run the Node and Chromium checks")
	}
	if _, err := os.Stat(filepath.Join(ModuleRoot(), "e2e", "node_modules")); err != nil {
		t.Fatal("e2e/node_modules is missing: run npm ci --prefix e2e (./test.sh does)")
	}
}

// Node runs node with args in e2e/ (a script of that folder and its arguments) and returns what
// it printed; a failure or two minutes fail the test.
func Node(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = filepath.Join(ModuleRoot(), "e2e")
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("node %s: %v", args[0], err)
	}
	return string(out)
}

// Artifact returns the absolute path for a file in $SHOPAUTH_ARTIFACTS (./test.sh sets it), or in
// a temporary folder.
func Artifact(t testing.TB, name string) string {
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
