package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shopauth/internal/testkit"
)

func TestBackupMistakes(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	testkit.SeedCustomer(t, runArgs, dbPath, "anna@shop.cz")
	tests := []struct {
		name, file, want string
	}{
		{"missing folder", filepath.Join(dir, "no", "such", "out.db"), "folder " + filepath.Join(dir, "no", "such") + " does not exist"},
		{"folder is a file", filepath.Join(dbPath, "out.db"), dbPath + " is not a folder"},
		{"file exists", dbPath, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", "backup", tt.file, "--db", dbPath)
			if code != 1 || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, want 1 with %q and nothing on stdout\n%s%s", code, tt.want, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); err == nil {
		t.Error("backup created the missing folder")
	}
}
