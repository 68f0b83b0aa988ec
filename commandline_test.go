package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
)

// The command line as a whole, with a server where a command meets one: global flags before the
// command, --db and --help everywhere, serve's help and picked port, a backup under load.

// TestBackupWhileServing copies the database while a server writes to it under a refresh load,
// then restores the copy and serves it.
func TestBackupWhileServing(t *testing.T) {
	m := startServer(t, nil)
	url := m.URL()
	kept := register(t, url, "kept@example.com", "correct horse") // not refreshed until after the restore
	busy := register(t, url, "busy@example.com", "correct horse")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		token := busy.RefreshToken
		for {
			select {
			case <-stop:
				return
			default:
			}
			next, err := servetest.RefreshOnce(http.DefaultClient, url, token)
			if err != nil {
				t.Errorf("refresh during the backup: %v", err)
				return
			}
			token = next
		}
	})
	backup := filepath.Join(t.TempDir(), "backup.db")
	code, stdout, stderr := runArgs(t, "", "backup", backup, "--db", m.DBPath)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(stdout, "written to "+backup) {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v %v, want mode 0600", fi, err)
	}
	if code, _, stderr := runArgs(t, "", "backup", backup, "--db", m.DBPath); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d, want 1\n%s", code, stderr)
	}

	// Restore: the copy is a database file like any other.
	restored := filepath.Join(t.TempDir(), "shop.db")
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(restored, data, 0o600)
	r := startServer(t, func(m *Main) { m.DBPath = restored })
	login(t, r.URL(), "busy@example.com", "correct horse").Token(t, "Login")
	refresh(t, r.URL(), kept.RefreshToken).Token(t, "RefreshTokens")
}

// TestServeSaysItCreatedTheDatabase: serve creates a missing database, as the seeding commands
// do, and says so once: one warning line (two landings once made it say so twice, a shouted
// warning and an info line).
func TestServeSaysItCreatedTheDatabase(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "new.db")
	for _, want := range []int{1, 0} {
		var log testkit.LogBuffer
		_, _, stop := serveArgsLog(t, &log, "serve", "--addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:8000", "--db", dbPath)
		if code := stop(); code != 0 {
			t.Fatalf("serve exit %d\n%s", code, log.String())
		}
		if got := strings.Count(strings.ToLower(log.String()), "created a new"); got != want {
			t.Errorf("the log says %d times that it created the database, want %d:\n%s", got, want, log.String())
		}
		if want == 1 && !strings.Contains(log.String(), `msg="created a new database" path=`+dbPath) {
			t.Errorf("the line does not name %s:\n%s", dbPath, log.String())
		}
	}
}

// TestGlobalFlagsBeforeTheCommand: --db works before the command as after it.
func TestGlobalFlagsBeforeTheCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	testkit.SeedCustomer(t, runArgs, path, "before@example.com")
	missing := filepath.Join(t.TempDir(), "missing.db")
	backup := filepath.Join(t.TempDir(), "b.db")
	tests := []struct {
		name           string
		before, after  []string
		wantCode       int
		wantOut, wantE string
	}{
		{"group command", []string{"--db", path, "customers", "list"}, []string{"customers", "list", "--db", path}, 0, "before@example.com", ""},
		{"--db=FILE", []string{"--db=" + path, "customers", "show", "before@example.com"}, []string{"customers", "show", "before@example.com", "--db=" + path}, 0, "before@example.com", ""},
		{"single dash", []string{"-db", path, "keys", "list"}, []string{"keys", "list", "-db", path}, 0, "signing", ""},
		{"a missing database is named", []string{"--db", missing, "audit"}, []string{"audit", "--db", missing}, 1, "", "database " + missing + " does not exist"},
		{"db status", []string{"--db", path, "db", "status"}, []string{"db", "status", "--db", path}, 0, "pending: none", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", tt.before...)
			code2, stdout2, stderr2 := runArgs(t, "", tt.after...)
			if code != tt.wantCode || code2 != code || stdout != stdout2 || stderr != stderr2 {
				t.Errorf("%q: exit %d\n%s%s\n%q: exit %d\n%s%s", tt.before, code, stdout, stderr, tt.after, code2, stdout2, stderr2)
			}
			if !strings.Contains(stdout, tt.wantOut) || !strings.Contains(stderr, tt.wantE) {
				t.Errorf("%q: stdout %q, stderr %q; want %q and %q", tt.before, stdout, stderr, tt.wantOut, tt.wantE)
			}
		})
	}
	// A positional argument and a flag after it: the global flag joins them.
	if code, stdout, stderr := runArgs(t, "", "--db", path, "backup", backup); code != 0 || !strings.Contains(stdout, "written to "+backup) {
		t.Errorf("--db before backup FILE: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestSplitCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "serve []"},
		{[]string{"--addr", ":0"}, "serve [--addr :0]"},
		{[]string{"--db", "x.db"}, "serve [--db x.db]"},
		{[]string{"--db", "x.db", "--addr", ":0"}, "serve [--db x.db --addr :0]"},
		{[]string{"--db"}, "serve [--db]"},
		{[]string{"--db", "x.db", "customers", "list", "--json"}, "customers [list --json --db x.db]"},
		{[]string{"--db", "x.db", "backup", "--", "-odd.db"}, "backup [--db x.db -- -odd.db]"},
		{[]string{"customers", "list"}, "customers [list]"},
	} {
		cmd, rest := splitCommand(tt.args)
		if got := fmt.Sprint(cmd, " ", rest); got != tt.want {
			t.Errorf("splitCommand(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

// Contract §6: every subcommand takes --db and --help. Asking for help with --db given opens
// nothing and creates nothing, and prints the usage on standard output, as shopauth help does
// (so `shopauth serve --help | grep` works); version takes --db too (and never opens it).
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
			if code != 0 || !strings.Contains(stdout, "Usage: shopauth") || stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", code, stdout, stderr)
			}
			if _, err := os.Stat(dbPath); err == nil {
				t.Errorf("--help created %s", dbPath)
			}
		})
	}
	for _, group := range []string{"keys", "customers", "db"} {
		if code, stdout, stderr := runArgs(t, "", group, "--help"); code != 0 || !strings.Contains(stdout, "Usage:") || stderr != "" {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", group, code, stdout, stderr)
		}
	}
	code, stdout, stderr := runArgs(t, "", "version", "--db", filepath.Join(t.TempDir(), "shop.db"))
	if code != 0 || !strings.HasPrefix(stdout, "shopauth ") {
		t.Errorf("version --db: exit %d, stdout %q, stderr %q; want 0 and the version", code, stdout, stderr)
	}
}

// Contract §6: serve --help names every flag with the contract's default, the zero ones included
// (the flag package leaves a zero default out, so --clock-leeway says its own).
func TestServeHelpShowsTheContractDefaults(t *testing.T) {
	_, stdout, stderr := runArgs(t, "", "serve", "--help")
	help := stdout + stderr
	tests := []struct{ flag, want string }{
		{"addr", `default "127.0.0.1:8000"`}, {"db", `default "shopauth.db"`}, {"issuer", "default http:// + addr"},
		{"access-ttl", "default 1h0m0s"}, {"refresh-ttl", "default 336h0m0s"}, {"refresh-reuse-interval", "default 10s"},
		{"min-password-length", "default 8"}, {"clock-leeway", "default 0s"}, {"login-failures-per-email", "default 5"},
		{"login-failures-per-ip", "default 100"}, {"registrations-per-ip", "default 60"}, {"signing-alg", `default "RS256"`},
		{"recovery-ttl", "default 1h0m0s"},
	}
	for _, tt := range tests {
		_, usage, ok := strings.Cut(help, "\n  -"+tt.flag+" ")
		usage, _, _ = strings.Cut(usage, "\n  -")
		if !ok || !strings.Contains(usage, tt.want) {
			t.Errorf("--%s: usage %q lacks %q", tt.flag, usage, tt.want)
		}
	}
}

// serve --addr 127.0.0.1:0 (no --issuer): the default issuer names the port the kernel picked,
// as the discovery document and every token's iss do, never port 0.
func TestServeOnAPickedPortIssuesForThatPort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	out := &stopWhenListening{w: &stdout, stop: cancel}
	code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "shop.db")},
		strings.NewReader(""), out, &stderr)
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(stdout.String())
	if code != 0 || listening == nil {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if want := "issuer=" + listening[1] + " "; !strings.Contains(stderr.String(), want) {
		t.Errorf("start-up log lacks %q:\n%s", want, stderr.String())
	}
}

// stopWhenListening cancels serve once it says it is listening.
type stopWhenListening struct {
	w    io.Writer
	stop context.CancelFunc
}

func (s *stopWhenListening) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if bytes.Contains(p, []byte("listening on")) {
		s.stop()
	}
	return n, err
}
