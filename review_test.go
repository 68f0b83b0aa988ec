package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Contract §6: every subcommand takes --db and --help. Asking for help with --db given opens
// nothing and creates nothing; version takes --db too (and never opens it).
func TestEverySubcommandTakesDBAndHelp(t *testing.T) {
	commands := [][]string{{"serve"}, {"keys", "rotate"}, {"keys", "list"}, {"keys", "import"},
		{"customers", "add"}, {"customers", "import"}, {"customers", "list"}, {"customers", "show"},
		{"customers", "set-password"}, {"customers", "revoke"}, {"customers", "delete"},
		{"backup"}, {"db", "copy"}, {"audit"}, {"version"}}
	for _, cmd := range commands {
		name := strings.Join(cmd, " ")
		t.Run(name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "shop.db")
			code, stdout, stderr := runArgs(t, "", append(cmd, "--db", dbPath, "--help")...)
			if code != 0 || !strings.Contains(stdout+stderr, "Usage: shopauth") {
				t.Errorf("exit %d, want 0 and the usage\n%s%s", code, stdout, stderr)
			}
			if _, err := os.Stat(dbPath); err == nil {
				t.Errorf("--help created %s", dbPath)
			}
		})
	}
	code, stdout, stderr := runArgs(t, "", "version", "--db", filepath.Join(t.TempDir(), "shop.db"))
	if code != 0 || !strings.HasPrefix(stdout, "shopauth ") {
		t.Errorf("version --db: exit %d, stdout %q, stderr %q; want 0 and the version", code, stdout, stderr)
	}
}
