package main

import (
	"os"
	"strings"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/introspection"
)

// The schema served is the contract's (docs/api.md §1, the contract of record): every type of the
// contract is there with the same kind, every field and argument with the same type and
// nullability, and every field the contract describes carries that description word for word.
func TestSchemaIsTheContracts(t *testing.T) {
	doc, err := os.ReadFile("docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```graphql\n")
	if !ok {
		t.Fatal("docs/api.md has no graphql block")
	}
	block, _, _ = strings.Cut(block, "```")
	want, err := graphql.ParseSchema(block, nil, graphql.UseStringDescriptions())
	if err != nil {
		t.Fatalf("the contract's schema does not parse: %v", err)
	}
	got, err := graphql.ParseSchema(schemaSDL, nil, graphql.UseStringDescriptions())
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]*introspection.Type{}
	for _, typ := range got.Inspect().Types() {
		served[*typ.Name()] = typ
	}
	all := &struct{ IncludeDeprecated bool }{true}
	checked := 0
	for _, w := range want.Inspect().Types() {
		name := *w.Name()
		if strings.HasPrefix(name, "__") {
			continue
		}
		g := served[name]
		if g == nil {
			t.Errorf("type %s is missing", name)
			continue
		}
		if g.Kind() != w.Kind() {
			t.Errorf("%s is a %s, the contract says %s", name, g.Kind(), w.Kind())
		}
		for _, e := range deref(w.EnumValues(all)) {
			if !hasEnumValue(g, e.Name()) {
				t.Errorf("enum %s lacks %s", name, e.Name())
			}
		}
		gotInputs := map[string]*introspection.InputValue{}
		for _, f := range deref(g.InputFields(all)) {
			gotInputs[f.Name()] = f
		}
		for _, wf := range deref(w.InputFields(all)) {
			gf := gotInputs[wf.Name()]
			if gf == nil {
				t.Errorf("%s.%s is missing", name, wf.Name())
			} else if typeString(gf.Type()) != typeString(wf.Type()) {
				t.Errorf("%s.%s: %s, the contract says %s", name, wf.Name(), typeString(gf.Type()), typeString(wf.Type()))
			}
		}
		gotFields := map[string]*introspection.Field{}
		for _, f := range deref(g.Fields(all)) {
			gotFields[f.Name()] = f
		}
		for _, wf := range deref(w.Fields(all)) {
			checked++
			field := name + "." + wf.Name()
			gf := gotFields[wf.Name()]
			if gf == nil {
				t.Errorf("%s is missing", field)
				continue
			}
			if typeString(gf.Type()) != typeString(wf.Type()) {
				t.Errorf("%s: %s, the contract says %s", field, typeString(gf.Type()), typeString(wf.Type()))
			}
			if wd := wf.Description(); wd != nil && (gf.Description() == nil || *gf.Description() != *wd) {
				t.Errorf("%s is described %q, the contract says %q", field, deref1(gf.Description()), *wd)
			}
			gotArgs := map[string]*introspection.InputValue{}
			for _, a := range gf.Args(all) {
				gotArgs[a.Name()] = a
			}
			for _, wa := range wf.Args(all) {
				if ga := gotArgs[wa.Name()]; ga == nil || typeString(ga.Type()) != typeString(wa.Type()) {
					t.Errorf("%s(%s: %s) is missing or of another type", field, wa.Name(), typeString(wa.Type()))
				}
			}
			if len(gotArgs) != len(wf.Args(all)) {
				t.Errorf("%s takes %d arguments, the contract %d", field, len(gotArgs), len(wf.Args(all)))
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d fields compared: is the contract's block cut short?", checked)
	}
}

func typeString(t *introspection.Type) string {
	switch t.Kind() {
	case "NON_NULL":
		return typeString(t.OfType()) + "!"
	case "LIST":
		return "[" + typeString(t.OfType()) + "]"
	}
	return *t.Name()
}

func hasEnumValue(t *introspection.Type, name string) bool {
	for _, e := range deref(t.EnumValues(&struct{ IncludeDeprecated bool }{true})) {
		if e.Name() == name {
			return true
		}
	}
	return false
}

func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

func deref1(p *string) string {
	if p == nil {
		return "(none)"
	}
	return *p
}
