package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shopauth/internal/testkit"
)

// olderSchemaDB makes a SQLite database at the schema before this binary's: the migrations of
// db/sqlite/migrations but the last, applied as the release before would have. It returns the path
// and both versions.
func olderSchemaDB(t *testing.T) (path string, older, latest int) {
	t.Helper()
	files, err := filepath.Glob("db/sqlite/migrations/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("need at least two migrations: %v %v", files, err)
	}
	latest, older = len(files), len(files)-1
	path = filepath.Join(t.TempDir(), "old.db")
	d, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, f := range files[:older] {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if _, err := d.Exec(fmt.Sprintf("PRAGMA journal_mode = WAL; PRAGMA user_version = %d", older)); err != nil {
		t.Fatal(err)
	}
	return path, older, latest
}

func schemaVersion(t *testing.T, path string) int {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var v int
	if err := d.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOnlyServeAndMigrateChangeTheSchema: after a rollback a newer binary's read must not upgrade
// the database under the running older server. Every command but serve and db migrate refuses an
// older schema, naming both versions and db migrate, and leaves it as it was.
func TestOnlyServeAndMigrateChangeTheSchema(t *testing.T) {
	path, older, latest := olderSchemaDB(t)
	refusal := []string{fmt.Sprintf("database schema version %d is older than this binary's (%d)", older, latest), "shopauth db migrate"}
	for _, args := range [][]string{
		{"audit"},
		{"customers", "list"},
		{"customers", "show", "a@example.com"},
		{"customers", "revoke", "a@example.com"},
		{"keys", "list"},
		{"keys", "rotate"},
		{"db", "copy", "--to", filepath.Join(t.TempDir(), "copy.db")},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := runArgs(t, "", append(args, "--db", path)...)
			if code != 1 {
				t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr)
			}
			for _, want := range refusal {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if v := schemaVersion(t, path); v != older {
				t.Fatalf("the command moved the schema from %d to %d", older, v)
			}
		})
	}

	// A backup copies the database as it is, and db status says where it stands; neither migrates.
	if code, _, stderr := runArgs(t, "", "backup", filepath.Join(t.TempDir(), "b.db"), "--db", path); code != 0 {
		t.Fatalf("backup of an older schema: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := runArgs(t, "", "db", "status", "--db", path)
	last, _ := filepath.Glob("db/sqlite/migrations/*.sql")
	for _, want := range []string{fmt.Sprintf("schema version: %d\n", older), fmt.Sprintf("this binary's schema version: %d\n", latest),
		"pending: " + filepath.Base(last[len(last)-1]) + " (shopauth db migrate applies them)"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("db status: exit %d, stdout lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
	if v := schemaVersion(t, path); v != older {
		t.Fatalf("backup or db status moved the schema from %d to %d", older, v)
	}

	// db migrate upgrades and says so; then the commands work and db status has nothing pending.
	code, stdout, stderr = runArgs(t, "", "db", "migrate", "--db", path)
	if want := fmt.Sprintf("migrated the database from schema %d to %d\n", older, latest); code != 0 || stdout != want {
		t.Fatalf("db migrate: exit %d, stdout %q, want %q\n%s", code, stdout, want, stderr)
	}
	if code, stdout, _ := runArgs(t, "", "db", "migrate", "--db", path); code != 0 || !strings.Contains(stdout, "nothing to migrate") {
		t.Errorf("db migrate again: exit %d %q", code, stdout)
	}
	if code, stdout, stderr := runArgs(t, "", "db", "status", "--db", path); code != 0 || !strings.Contains(stdout, "pending: none\n") {
		t.Errorf("db status after migrate: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runArgs(t, "", "customers", "list", "--db", path); code != 0 {
		t.Errorf("customers list after migrate: exit %d\n%s", code, stderr)
	}
}

// TestServeMigratesAndSaysSo: serve applies what is pending and logs it in the contract's words.
func TestServeMigratesAndSaysSo(t *testing.T) {
	path, older, latest := olderSchemaDB(t)
	var logs testkit.LogBuffer
	_, _, stop := serveArgsLog(t, &logs, "--addr", "127.0.0.1:0", "--db", path)
	if code := stop(); code != 0 {
		t.Fatalf("serve: exit %d\n%s", code, logs.String())
	}
	if want := fmt.Sprintf("migrated the database from schema %d to %d", older, latest); !strings.Contains(logs.String(), want) {
		t.Errorf("the log lacks %q:\n%s", want, logs.String())
	}
	if v := schemaVersion(t, path); v != latest {
		t.Errorf("schema after serve: %d, want %d", v, latest)
	}
}
