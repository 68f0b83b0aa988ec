package mail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/mail/mailtest"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wholeMail is every template of the recovery mail, the built-in ones but for over.
func wholeMail(t *testing.T, over map[string]string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range templateNames {
		body, err := builtinTemplates.ReadFile("templates/" + name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(body)
	}
	for name, body := range over {
		files[name] = body
	}
	return files
}

// TestTemplatesBuiltIn: the shop's name and the link reach both parts and the subject; the HTML
// part escapes what a customer typed.
func TestTemplatesBuiltIn(t *testing.T) {
	tmpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	link := "https://shop.example.com/r?email=a%40b.cz&hash=x"
	subject, text, html, err := tmpl.render(TemplateData{ShopName: "Bike & Co", Name: "<b>Jan</b>", Email: "a@b.cz", Link: link})
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Reset your password at Bike & Co" {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{"Hello <b>Jan</b>,", "account a@b.cz at Bike & Co.", "\n" + link + "\n", "\nBike & Co\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{"Hello &lt;b&gt;Jan&lt;/b&gt;,", "at Bike &amp; Co.", `href="https://shop.example.com/r?email=a%40b.cz&amp;hash=x"`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<b>Jan") {
		t.Errorf("HTML part does not escape the name:\n%s", html)
	}
	// Without a shop name the mail reads as before.
	subject, text, _, _ = tmpl.render(TemplateData{Name: "Jan", Email: "a@b.cz", Link: link})
	if subject != "Reset your password" || strings.Contains(text, " at ") {
		t.Errorf("without a shop name: %q\n%s", subject, text)
	}
}

// TestTemplatesFromFolder: a shop writes its own mail (here Czech); the files it leaves out stay built in.
func TestTemplatesFromFolder(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		SubjectTemplate: "Obnova hesla – {{.ShopName}}\n",
		TextTemplate:    "Dobrý den, {{.FirstName}},\nnové heslo si nastavíte zde: {{.Link}}\n",
		HTMLTemplate:    "<p>Dobrý den, {{.FirstName}},</p><p><a href=\"{{.Link}}\">Nové heslo</a></p>\n",
		"README.md":     "not a template, left alone",
	})
	srv := mailtest.Start(t, mailtest.Options{})
	m, err := New(Config{URL: srv.URL(), From: "kolo@example.com", RecoveryURL: testRecoveryURL, ShopName: "Kolo s.r.o.",
		TemplatesDir: dir, TLSConfig: srv.ClientTLS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SendRecovery(t.Context(), jagr, testHash); err != nil {
		t.Fatal(err)
	}
	got, err := mailtest.Parse(srv.Next(t, 5*time.Second).Data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Obnova hesla – Kolo s.r.o." {
		t.Errorf("subject %q", got.Subject)
	}
	if want := "Dobrý den, Jaromír,\nnové heslo si nastavíte zde: " + wantLink(jagr.Email, testHash); !strings.Contains(strings.ReplaceAll(got.Text, "\r\n", "\n"), want) {
		t.Errorf("text part:\n%s\nwant %q", got.Text, want)
	}
	if !strings.Contains(got.HTML, "Nové heslo") || strings.Contains(got.HTML, "Choose a new password") {
		t.Errorf("HTML part is not the folder's:\n%s", got.HTML)
	}
	if from, _ := got.Header.AddressList("From"); len(from) != 1 || from[0].Name != "Kolo s.r.o." {
		t.Errorf("From %v: want the shop's name on an address given without one", from)
	}
}

func TestTemplatesRefused(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // nil: the folder does not exist
		want  []string
	}{
		{"parse error", wholeMail(t, map[string]string{TextTemplate: "Hello,\n\n{{.Link}\n"}),
			[]string{"recovery.txt", "recovery.txt:3:"}},
		{"unknown field", wholeMail(t, map[string]string{HTMLTemplate: "<p>\n{{.Name}}\n<a href=\"{{.Lnk}}\">x</a>\n"}),
			[]string{"recovery.html:3:", "Lnk", "mail template DIR/recovery.html: "}},
		{"unknown field in the text", wholeMail(t, map[string]string{TextTemplate: "{{.Link}}\n{{.Shop}}"}),
			[]string{"mail template DIR/recovery.txt: ", "recovery.txt:2:"}},
		{"unknown function", wholeMail(t, map[string]string{SubjectTemplate: "{{upper .ShopName}}"}),
			[]string{"recovery.subject.txt:1:", `"upper" not defined`}},
		{"empty subject", wholeMail(t, map[string]string{SubjectTemplate: "  \n"}), []string{"recovery.subject.txt", "the subject is empty"}},
		{"misspelt name", wholeMail(t, map[string]string{"recovery.htm.html": "x"}),
			[]string{"recovery.htm.html is not a template name", "recovery.subject.txt, recovery.txt, recovery.html"}},
		{"half-translated: no HTML", map[string]string{SubjectTemplate: "Obnova hesla", TextTemplate: "{{.Link}}"},
			[]string{"replaces only part of a mail: it lacks recovery.html (a mail's subject, text and HTML are replaced together"}},
		{"only the subject", map[string]string{SubjectTemplate: "Obnova hesla"},
			[]string{"it lacks recovery.txt, recovery.html"}},
		{"no templates", map[string]string{"notes.md": "x"}, []string{"holds none of the templates"}},
		{"missing folder", nil, []string{"does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "missing")
			if tt.files != nil {
				dir = writeFiles(t, tt.files)
			}
			_, err := LoadTemplates(dir)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range append(tt.want, dir) {
				want = strings.ReplaceAll(want, "DIR", dir)
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if _, err := New(Config{From: "shop@example.com", RecoveryURL: testRecoveryURL, TemplatesDir: dir}, nil); err == nil {
				t.Error("New accepted the templates")
			}
		})
	}
}

// TestVerificationMail: the verification mail is its own three templates, with the link the
// domain made, and a folder that translates it must give all three.
func TestVerificationMail(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	m, err := New(Config{URL: srv.URL(), From: "shop@example.com", RecoveryURL: testRecoveryURL, ShopName: "Kolo",
		TLSConfig: srv.ClientTLS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := "https://shop.example.com/account?verify=abc&email=jan%40example.com"
	if err := m.(auth.VerificationMailer).SendVerification(t.Context(), jagr, link); err != nil {
		t.Fatal(err)
	}
	got, err := mailtest.Parse(srv.Next(t, 5*time.Second).Data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Confirm your email address at Kolo" || !strings.Contains(got.Text, link) ||
		!strings.Contains(got.HTML, strings.ReplaceAll(link, "&", "&amp;")) || strings.Contains(got.Text, "password") {
		t.Errorf("verification mail: %q\n%s\n%s", got.Subject, got.Text, got.HTML)
	}
	half := writeFiles(t, map[string]string{VerificationSubjectTemplate: "Ověřte adresu"})
	if _, err := LoadTemplates(half); err == nil || !strings.Contains(err.Error(), "verification.txt") {
		t.Errorf("half a verification mail: %v", err)
	}
	typo := writeFiles(t, map[string]string{VerificationSubjectTemplate: "x", VerificationTextTemplate: "{{.Lnk}}",
		VerificationHTMLTemplate: "<p>x</p>"})
	if _, err := LoadTemplates(typo); err == nil || !strings.Contains(err.Error(), "verification.txt") {
		t.Errorf("a misspelt field in verification.txt: %v", err)
	}
}

// TestTemplatesEachMailWhole: the rule holds per mail, for every mail there is: a folder may replace
// one mail whole and leave another built in, but not replace part of either.
func TestTemplatesEachMailWhole(t *testing.T) {
	mails := map[string][]string{}
	for _, name := range templateNames {
		mail, _, _ := strings.Cut(name, ".")
		mails[mail] = append(mails[mail], name)
	}
	if len(mails) < 2 {
		t.Skipf("one mail only (%v): nothing to mix", mails)
	}
	all := wholeMail(t, nil)
	for mail, names := range mails {
		t.Run(mail, func(t *testing.T) {
			only := map[string]string{}
			for _, n := range names {
				only[n] = all[n]
			}
			if _, err := LoadTemplates(writeFiles(t, only)); err != nil {
				t.Errorf("the %s mail whole, the others built in: %v", mail, err)
			}
			for other, otherNames := range mails {
				if other == mail {
					continue
				}
				half := map[string]string{otherNames[0]: all[otherNames[0]]}
				for n, body := range only {
					half[n] = body
				}
				_, err := LoadTemplates(writeFiles(t, half))
				if err == nil || !strings.Contains(err.Error(), "it lacks "+strings.Join(otherNames[1:], ", ")) {
					t.Errorf("the %s mail whole and %s alone: %v, want the rest of the %s mail named", mail, otherNames[0], err, other)
				}
			}
		})
	}
}
