package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"
)

// Each mail (the password recovery, the email verification) is written by three templates. The
// built-in ones are the files in mail/templates; a shop replaces them (to write the mail in Czech,
// say) with files of the same names in the folder given as --mail-templates: all three of a mail,
// never part of it.
const (
	SubjectTemplate = "recovery.subject.txt" // text/template; whitespace is collapsed to one line
	TextTemplate    = "recovery.txt"         // text/template: the plain-text part
	HTMLTemplate    = "recovery.html"        // html/template: the HTML part (values are escaped)

	VerificationSubjectTemplate = "verification.subject.txt"
	VerificationTextTemplate    = "verification.txt"
	VerificationHTMLTemplate    = "verification.html"
)

// The mails, by the name their templates begin with.
const (
	mailRecovery     = "recovery"
	mailVerification = "verification"
)

var templateNames = []string{SubjectTemplate, TextTemplate, HTMLTemplate,
	VerificationSubjectTemplate, VerificationTextTemplate, VerificationHTMLTemplate}

//go:embed templates/*
var builtinTemplates embed.FS

// TemplateData is what the templates are given.
type TemplateData struct {
	ShopName  string // --shop-name; may be empty
	Name      string // the customer's first and last name, for a greeting
	FirstName string
	LastName  string
	Email     string
	Link      string // --recovery-url with the email and the hash filled in
}

// sampleData renders every template once when they are loaded, so that a template that cannot
// render (a misspelt field, a wrong call) is refused at start, not at a customer's first recovery.
var sampleData = TemplateData{ShopName: "Shop", Name: "Jan Novák", FirstName: "Jan", LastName: "Novák",
	Email: "jan@example.com", Link: "https://shop.example.com/reset-password?email=jan%40example.com&hash=x"}

// Templates renders the mails.
type Templates struct {
	mails map[string]*mailTemplates // by mail name
}

// mailTemplates are the three templates of one mail.
type mailTemplates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// LoadTemplates returns the built-in templates, each replaced by the file of the same name in dir
// when there is one (dir "" keeps them all). A template that does not parse or render is an error
// naming the file and the line; so is a folder that is missing, holds none of the templates, holds
// some but not all of one mail's (a half-translated mail), or holds a .txt or .html file that is
// not one of them (a misspelt name would be ignored silently).
func LoadTemplates(dir string) (*Templates, error) {
	own, err := templateFiles(dir)
	if err != nil {
		return nil, err
	}
	source := func(name string) (path string, body []byte, err error) {
		if own[name] {
			path = filepath.Join(dir, name)
			body, err = os.ReadFile(path)
			return path, body, err
		}
		body, err = builtinTemplates.ReadFile("templates/" + name)
		return "built-in " + name, body, err
	}
	t := &Templates{mails: map[string]*mailTemplates{}}
	paths := map[string]string{}
	for _, name := range templateNames {
		path, body, err := source(name)
		paths[name] = path
		if err != nil {
			return nil, fmt.Errorf("mail template %s: %w", path, err)
		}
		m := t.mails[mailOf(name)]
		if m == nil {
			m = &mailTemplates{}
			t.mails[mailOf(name)] = m
		}
		switch {
		case strings.HasSuffix(name, ".html"):
			m.html, err = htmltemplate.New(name).Parse(string(body))
		case strings.HasSuffix(name, ".subject.txt"):
			m.subject, err = texttemplate.New(name).Parse(string(body))
		default:
			m.text, err = texttemplate.New(name).Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("mail template %s: %w", path, err)
		}
	}
	for _, mail := range []string{mailRecovery, mailVerification} {
		subject, _, _, err := t.renderMail(mail, sampleData)
		if err != nil {
			return nil, fmt.Errorf("mail template %s: %w", paths[failedTemplate(mail, err)], err)
		}
		if subject == "" {
			return nil, fmt.Errorf("mail template %s: the subject is empty", paths[mail+".subject.txt"])
		}
	}
	return t, nil
}

// mailOf is the mail a template belongs to: the name before the first dot.
func mailOf(name string) string { m, _, _ := strings.Cut(name, "."); return m }

// templateFiles checks the folder and says which templates it replaces.
func templateFiles(dir string) (map[string]bool, error) {
	own := map[string]bool{}
	if dir == "" {
		return own, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("mail templates folder %s does not exist", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("mail templates folder %s: %w", dir, err)
	}
	known := strings.Join(templateNames, ", ")
	for _, e := range entries {
		name := e.Name()
		switch {
		case slices.Contains(templateNames, name):
			own[name] = true
		case strings.HasPrefix(name, "."):
		case strings.HasSuffix(name, ".txt") || strings.HasSuffix(name, ".html"):
			return nil, fmt.Errorf("mail templates folder %s: %s is not a template name (they are %s)", dir, name, known)
		}
	}
	if len(own) == 0 {
		return nil, fmt.Errorf("mail templates folder %s holds none of the templates (%s)", dir, known)
	}
	if missing := partlyReplaced(own); len(missing) > 0 {
		return nil, fmt.Errorf("mail templates folder %s replaces only part of a mail: it lacks %s (a mail's subject, "+
			"text and HTML are replaced together, or a customer gets a translated subject over a built-in body)",
			dir, strings.Join(missing, ", "))
	}
	return own, nil
}

// partlyReplaced returns the templates missing from own for each mail own replaces in part. A
// mail's templates share the name before the first dot (recovery.subject.txt, recovery.txt and
// recovery.html are the recovery mail), so the rule covers every mail templateNames lists.
func partlyReplaced(own map[string]bool) (missing []string) {
	replaced := map[string]bool{}
	for name := range own {
		replaced[mailOf(name)] = true
	}
	for _, name := range templateNames {
		if replaced[mailOf(name)] && !own[name] {
			missing = append(missing, name)
		}
	}
	return missing
}

// failedTemplate names the template of mail an execution error comes from.
func failedTemplate(mail string, err error) string {
	var exec texttemplate.ExecError
	if errors.As(err, &exec) {
		return exec.Name
	}
	var escape *htmltemplate.Error
	if errors.As(err, &escape) {
		return escape.Name
	}
	return mail + ".html" // html/template reports its escaping errors as *Error; anything else is its too
}

// render writes the recovery mail.
func (t *Templates) render(d TemplateData) (subject, text, html string, err error) {
	return t.renderMail(mailRecovery, d)
}

// renderMail writes the subject (one line), the plain-text and the HTML part of mail. An error
// names the template and the line, as the template packages word it ("template: recovery.txt:3:7: …").
func (t *Templates) renderMail(mail string, d TemplateData) (subject, text, html string, err error) {
	m := t.mails[mail]
	var b bytes.Buffer
	if err := m.subject.Execute(&b, d); err != nil {
		return "", "", "", err
	}
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := m.text.Execute(&b, d); err != nil {
		return "", "", "", err
	}
	text = b.String()
	b.Reset()
	if err := m.html.Execute(&b, d); err != nil {
		return "", "", "", err
	}
	return subject, text, b.String(), nil
}
