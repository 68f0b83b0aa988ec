package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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
