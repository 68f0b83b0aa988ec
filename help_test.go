package main

import (
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestHelpListsEveryCommand: help is asked for, so it goes to standard output and exits 0, and it
// names every command the dispatcher knows, one line each.
func TestHelpListsEveryCommand(t *testing.T) {
	commands := []string{"serve", "keys list", "keys rotate", "keys import", "customers add",
		"customers import", "customers list", "customers show", "customers set-password", "customers revoke",
		"customers delete", "audit", "backup", "db copy", "db status", "db migrate", "mail test", "version", "help"}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"-help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", code, stderr)
			}
			for _, c := range commands {
				if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c) + ` {2,}\S`).MatchString(stdout) {
					t.Errorf("help lacks a line for %q:\n%s", c, stdout)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runArgs(t, "", "version")
	if code != 0 || !strings.HasPrefix(stdout, "shopauth ") || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("exit %d, stdout %q, stderr %q; want the Go version %s", code, stdout, stderr, runtime.Version())
	}
	if want := "shopauth " + release(changelog) + " ("; !strings.HasPrefix(stdout, want) || release(changelog) == "(no release)" {
		t.Errorf("version prints %q, want it to start with %q (CHANGELOG.md's newest entry)", stdout, want)
	}
	tests := []struct {
		name       string
		ldRevision string
		info       *debug.BuildInfo
		want       string
	}{
		{"checkout", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T04:00:00Z"}}},
			"shopauth 0.3.0 (commit abc123 2026-12-01T04:00:00Z) go1.26.0 linux/amd64"},
		{"modified checkout", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"shopauth 0.3.0 (commit abc123, modified) go1.26.0 linux/amd64"},
		{"tagged module", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.3.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}}}, "shopauth 0.3.0 (commit abc123, module v0.3.0) go1.26.0 linux/amd64"},
		{"no vcs, revision given at build", "def456", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			"shopauth 0.3.0 (commit def456) go1.26.0 linux/amd64"},
		{"no vcs", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			"shopauth 0.3.0 (commit unknown: built without VCS information) go1.26.0 linux/amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine("0.3.0", tt.ldRevision, tt.info, "linux/amd64"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	for in, want := range map[string]string{
		"# Changelog\n\nintro\n\n## 0.4.0\n\nCommit: x\n\n## 0.3.0\n": "0.4.0",
		"## 1.0.0 (2027-01-01)\n":                                     "1.0.0",
		"# Changelog\n":                                               "(no release)",
	} {
		if got := release(in); got != want {
			t.Errorf("release(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHelpAndVersionMistakes: the commands main runs itself answer help and mistakes as cli's do.
func TestHelpAndVersionMistakes(t *testing.T) {
	t.Setenv("SHOPAUTH_DB", filepath.Join(t.TempDir(), "shop.db"))
	tests := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"--db", "x.db", "keys"}, 2, "shopauth keys: name a command before the flags (--db)\nsee shopauth keys --help\n"},
		{[]string{"version", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"version", "--help"}, 0, "Usage: shopauth version"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runArgs(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q:\n%s%s", code, tt.wantCode, tt.want, stdout, stderr)
			}
		})
	}
}
