package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestReadmeCurlExample sends the README's curl requests, in order, to a server on a fresh
// database, as a newcomer would paste them: each must succeed, and the last must name the customer.
func TestReadmeCurlExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "## Try it")
	if start < 0 {
		t.Fatal("README has no Try it section")
	}
	section = section[start:]
	if end := strings.Index(section[3:], "\n## "); end > 0 {
		section = section[:end+3]
	}
	bodies := regexp.MustCompile(`(?s)-d '([^']*)'`).FindAllStringSubmatch(section, -1)
	if len(bodies) < 2 {
		t.Fatalf("found %d curl bodies in Try it, want the register-login-query walk", len(bodies))
	}
	m := startServer(t, nil)
	var access, last string
	for _, b := range bodies {
		header := map[string]string{}
		if access != "" && !strings.Contains(b[1], "mutation") {
			header = bearer(access)
		}
		r := post(t, m.URL(), b[1], header)
		if r.Status != 200 || len(r.Errors) > 0 {
			t.Fatalf("README request %s: %d %s", b[1], r.Status, r.Raw)
		}
		for _, field := range r.Data {
			var tok struct{ AccessToken string }
			if json.Unmarshal(field, &tok) == nil && tok.AccessToken != "" {
				access = tok.AccessToken
			}
		}
		last = string(r.Raw)
	}
	if !strings.Contains(last, `"email":"jan@shop.cz"`) {
		t.Errorf("the last README request answers %s, want the registered customer", last)
	}
}

// TestReadmeSetUpIsTwoCommands: the README's Set up section gives a newcomer exactly two commands,
// `go run .` to serve and `./test.sh` to test, each with its explanation before it.
func TestReadmeSetUpIsTwoCommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Set up\n")
	if !ok {
		t.Fatal("README has no Set up section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var commands []string
	prose := 0
	for _, line := range strings.Split(section, "\n") {
		if command, ok := strings.CutPrefix(line, "    "); ok {
			if prose < 40 {
				t.Errorf("the command %q comes without an explanation before it", command)
			}
			commands = append(commands, strings.TrimSpace(command))
			prose = 0
		} else {
			prose += len(strings.TrimSpace(line))
		}
	}
	if want := []string{"go run .", "./test.sh"}; !slices.Equal(commands, want) {
		t.Errorf("Set up gives the commands %q; want exactly %q", commands, want)
	}
}

// TestDocsLinkInsideTheRepository: the README, CHANGELOG.md and every guide in docs/ link only to
// files that exist in the repository (or to the web), never to ../shared or another checkout, and
// every #anchor names a heading of the file it points at. The README has no ../ at all.
func TestDocsLinkInsideTheRepository(t *testing.T) {
	guides, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(guides) < 2 {
		t.Fatalf("docs/ holds %v; want the guides", guides)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range append([]string{"README.md", "CHANGELOG.md"}, guides...) {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), "../shared") || file == "README.md" && strings.Contains(string(body), "../") {
			t.Errorf("%s points outside the repository (../)", file)
		}
		for _, m := range link.FindAllStringSubmatch(string(body), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			resolved := file
			if path != "" {
				resolved = filepath.Join(filepath.Dir(file), path)
				if !filepath.IsLocal(resolved) {
					t.Errorf("%s links to %s, outside the repository", file, target)
					continue
				}
				if _, err := os.Stat(resolved); err != nil {
					t.Errorf("%s links to %s: %v", file, target, err)
					continue
				}
			}
			if anchor != "" && !slices.Contains(headingAnchors(t, resolved), anchor) {
				t.Errorf("%s links to %s: %s has no heading with the anchor #%s", file, target, resolved, anchor)
			}
		}
	}
}

// headingAnchors returns the anchors a Markdown renderer such as GitHub's gives the headings of
// file: lower case, punctuation dropped, spaces as hyphens. Code blocks are skipped.
func headingAnchors(t *testing.T, file string) []string {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var anchors []string
	fenced := false
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		var slug strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#"))) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				slug.WriteRune(r)
			case r == ' ':
				slug.WriteRune('-')
			}
		}
		anchors = append(anchors, slug.String())
	}
	return anchors
}

// TestArchitectureMatchesImports keeps the README's Architecture list of who imports whom true:
// every package it names imports exactly the shopauth packages listed (test files aside).
func TestArchitectureMatchesImports(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?m)^    ([a-z/]+) +->(.*)$`).FindAllStringSubmatch(string(readme), -1) {
		listed[m[1]] = strings.Fields(m[2])
	}
	if len(listed) < 5 {
		t.Fatalf("README's Architecture section lists %d packages; want the import list", len(listed))
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	actual := map[string][]string{}
	short := func(path string) string {
		if path == "shopauth" {
			return "main"
		}
		return strings.TrimPrefix(path, "shopauth/")
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		var ours []string
		for _, imp := range strings.Fields(imports) {
			if imp == "shopauth" || strings.HasPrefix(imp, "shopauth/") {
				ours = append(ours, short(imp))
			}
		}
		slices.Sort(ours)
		actual[short(pkg)] = ours
	}
	for pkg, want := range listed {
		got, ok := actual[pkg]
		if !ok {
			t.Errorf("README lists %s, which is not a package", pkg)
			continue
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s imports %v; README says %v", pkg, got, want)
		}
	}
}

// TestDocsSchemaIsTheServedSchema: the schema in docs/api.md is the one the server serves
// (schema.graphql), definition for definition, descriptions and layout aside.
func TestDocsSchemaIsTheServedSchema(t *testing.T) {
	docs, err := os.ReadFile("docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```graphql\n(.*?)```").FindStringSubmatch(string(docs))
	if block == nil {
		t.Fatal("docs/api.md has no graphql block")
	}
	if got, want := schemaDefinitions(block[1]), schemaDefinitions(schemaSDL); !slices.Equal(got, want) {
		t.Errorf("docs/api.md's schema differs from schema.graphql:\ndocs:   %q\nserved: %q", got, want)
	}
}

// schemaDefinitions returns each top-level definition of an SDL document as its tokens, sorted.
func schemaDefinitions(sdl string) []string {
	sdl = regexp.MustCompile(`(?s)""".*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*`).ReplaceAllString(sdl, " ")
	tokens := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|[!:\[\](){}=|]`).FindAllString(sdl, -1)
	var defs []string
	depth := 0
	for _, tok := range tokens {
		switch {
		case tok == "{":
			depth++
		case tok == "}":
			depth--
		case depth == 0 && slices.Contains([]string{"type", "input", "enum", "scalar", "interface", "union", "schema"}, tok):
			defs = append(defs, tok)
			continue
		}
		if len(defs) > 0 {
			defs[len(defs)-1] += " " + tok
		}
	}
	slices.Sort(defs)
	return defs
}
