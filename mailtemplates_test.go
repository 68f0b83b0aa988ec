package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shopauth/mail/mailtest"
)

// TestMailTemplatesAtStart: a template that cannot work stops the start (exit 2) naming the file
// and the line, before any database is made.
func TestMailTemplatesAtStart(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "never.db")
	bad := filepath.Join(dir, "bad")
	os.Mkdir(bad, 0o700)
	copyBuiltinTemplates(t, bad)
	os.WriteFile(filepath.Join(bad, "recovery.txt"), []byte("Dobrý den,\n\n{{.Link\n"), 0o600)
	typo := filepath.Join(dir, "typo")
	os.Mkdir(typo, 0o700)
	copyBuiltinTemplates(t, typo)
	os.WriteFile(filepath.Join(typo, "recovery.html"), []byte("<p>{{.Lnk}}</p>"), 0o600)
	half := filepath.Join(dir, "half")
	os.Mkdir(half, 0o700)
	os.WriteFile(filepath.Join(half, "recovery.subject.txt"), []byte("Obnova hesla"), 0o600)
	os.WriteFile(filepath.Join(half, "recovery.txt"), []byte("{{.Link}}"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"does not parse", []string{"--mail-templates", bad}, "mail template " + filepath.Join(bad, "recovery.txt") + ": template: recovery.txt:4: unclosed action started at recovery.txt:3"},
		{"unknown field", []string{"--mail-templates", typo}, "mail template " + filepath.Join(typo, "recovery.html") + ": template: recovery.html:1:"},
		{"missing folder", []string{"--mail-templates", filepath.Join(dir, "nope")}, "does not exist"},
		{"half a mail", []string{"--mail-templates", half}, "replaces only part of a mail: it lacks recovery.html"},
		{"bad sender", []string{"--mail-from", "shop"}, `mail sender "shop"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runArgs(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "see shopauth serve --help") {
				t.Errorf("exit %d, want 2 with %q\n%s", code, tt.want, stderr)
			}
		})
	}
	if _, err := os.Stat(dbPath); err == nil {
		t.Error("a refused start created the database")
	}
}

// TestMailTemplatesInTheRecoveryMail: --shop-name and --mail-templates reach the mail the customer gets.
func TestMailTemplatesInTheRecoveryMail(t *testing.T) {
	dir := t.TempDir()
	copyBuiltinTemplates(t, dir)
	os.WriteFile(filepath.Join(dir, "recovery.subject.txt"), []byte("Obnova hesla v obchodě {{.ShopName}}"), 0o600)
	smtp := mailtest.Start(t, mailtest.Options{})
	m := startServer(t, func(m *Main) {
		m.SMTPURL, m.MailLog = smtp.URL(), false
		m.ShopName = "Kolo"
		m.MailTemplates = dir
	})
	register(t, m.URL(), "jan@shop.cz", "password1")
	gql(t, m.URL(), `mutation { RequestPasswordRecovery(email: "jan@shop.cz") }`, nil, nil)
	got, err := mailtest.Parse(smtp.Next(t, 5*time.Second).Data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Obnova hesla v obchodě Kolo" || !strings.Contains(got.Text, "at Kolo.") {
		t.Errorf("subject %q, text:\n%s\nwant the Czech subject and the shop's name in the copied text", got.Subject, got.Text)
	}
}

// copyBuiltinTemplates puts a copy of every built-in template into dir, as a shop starting its own
// would (a folder must hold every file of the mails it replaces).
func copyBuiltinTemplates(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob("mail/templates/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no built-in templates: %v", err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
