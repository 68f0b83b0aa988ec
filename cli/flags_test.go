package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// TestFlagsFromEnvironment: SHOPAUTH_* variables set the flags the command line left alone, and a
// bad value is named with the command, the variable, the flag and why it does not parse.
func TestFlagsFromEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantTTL time.Duration
		wantN   int
		wantErr string // on stderr; "" for none
	}{
		{"defaults", nil, nil, time.Hour, 5, ""},
		{"from the environment", map[string]string{"SHOPAUTH_ACCESS_TTL": "30m", "SHOPAUTH_LOGIN_FAILURES": "7"}, nil, 30 * time.Minute, 7, ""},
		{"the command line wins", map[string]string{"SHOPAUTH_ACCESS_TTL": "30m"}, []string{"--access-ttl", "2h"}, 2 * time.Hour, 5, ""},
		{"a bad value on the command line wins too", map[string]string{"SHOPAUTH_ACCESS_TTL": "banana"}, []string{"--access-ttl", "2h"}, 2 * time.Hour, 5, ""},
		{"empty is unset", map[string]string{"SHOPAUTH_ACCESS_TTL": ""}, nil, time.Hour, 5, ""},
		{"bad duration", map[string]string{"SHOPAUTH_ACCESS_TTL": "banana"}, nil, 0, 0,
			`shopauth serve: invalid value "banana" for SHOPAUTH_ACCESS_TTL (--access-ttl): time: invalid duration "banana"` + "\nsee shopauth serve --help\n"},
		{"bad number", map[string]string{"SHOPAUTH_LOGIN_FAILURES": "lots"}, nil, 0, 0,
			`shopauth serve: invalid value "lots" for SHOPAUTH_LOGIN_FAILURES (--login-failures): strconv.ParseInt: parsing "lots": invalid syntax`},
		{"bad boolean", map[string]string{"SHOPAUTH_DEMO": "maybe"}, nil, 0, 0,
			`invalid value "maybe" for SHOPAUTH_DEMO (--demo): strconv.ParseBool: parsing "maybe": invalid syntax`},
		{"a flag's own check", map[string]string{"SHOPAUTH_ORIGINS": "nope"}, nil, 0, 0,
			`invalid value "nope" for SHOPAUTH_ORIGINS (--origins): want https://…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			fs, _ := NewFlagSet("serve", "serve", io.Discard, &stderr)
			ttl := fs.Duration("access-ttl", time.Hour, "")
			n := fs.Int("login-failures", 5, "")
			fs.Bool("demo", false, "")
			fs.Func("origins", "", func(s string) error {
				if !strings.HasPrefix(s, "https://") {
					return errors.New("want https://…")
				}
				return nil
			})
			err := ParseFlags(fs, tt.args)
			if tt.wantErr == "" {
				if err != nil || *ttl != tt.wantTTL || *n != tt.wantN {
					t.Fatalf("got %v, %v, %d; want %v, %d\n%s", err, *ttl, *n, tt.wantTTL, tt.wantN, stderr.String())
				}
				return
			}
			if !errors.Is(err, ErrUsage) || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Fatalf("got %v and stderr\n%s\nwant ErrUsage and %q", err, stderr.String(), tt.wantErr)
			}
		})
	}
}

// TestParseFlagsHelp: --help prints the usage to stdout and answers flag.ErrHelp, whatever the
// environment holds.
func TestParseFlagsHelp(t *testing.T) {
	t.Setenv("SHOPAUTH_DB", "x.db")
	var stdout, stderr bytes.Buffer
	fs, _ := NewFlagSet("keys list", "keys list [--db FILE]", &stdout, &stderr)
	if err := ParseFlags(fs, []string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("ParseFlags(--help) = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stdout.String(), "Usage: shopauth keys list") || !strings.Contains(stdout.String(), "SHOPAUTH_ACCESS_TTL") || stderr.Len() > 0 {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}
