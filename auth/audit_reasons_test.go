package auth

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditReasonsAreOneDocumentedSet: every audit reason of the package is an AuditReason
// constant with a comment saying when it is written, no two are the same text, and docs/api.md
// quotes each one (so an operator reading `shopauth audit` finds it). A constant named Audit… of
// another type, or a new reason missing from the docs, fails here.
func TestAuditReasonsAreOneDocumentedSet(t *testing.T) {
	docs, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(docs)), " ") // the docs wrap long reasons over lines

	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	reasons := map[string]string{} // text → constant
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				typ, _ := vs.Type.(*ast.Ident)
				for i, id := range vs.Names {
					isReason := typ != nil && typ.Name == "AuditReason"
					if !isReason {
						if strings.HasPrefix(id.Name, "Audit") {
							t.Errorf("%s: %s is not an AuditReason", fset.Position(id.Pos()), id.Name)
						}
						continue
					}
					if vs.Doc == nil && vs.Comment == nil {
						t.Errorf("%s: %s has no comment saying when it is written", fset.Position(id.Pos()), id.Name)
					}
					text, ok := stringConstant(vs.Values[i])
					if !ok {
						t.Errorf("%s: %s is not a string literal", fset.Position(id.Pos()), id.Name)
						continue
					}
					if other, dup := reasons[text]; dup {
						t.Errorf("%s and %s are both %q", other, id.Name, text)
					}
					reasons[text] = id.Name
					if !strings.Contains(flat, "`"+text) {
						t.Errorf("docs/api.md does not quote %s (%q)", id.Name, text)
					}
				}
			}
		}
	}
	if len(reasons) < 20 {
		t.Fatalf("found %d audit reasons; the parser missed them", len(reasons))
	}
}

// stringConstant evaluates a string literal, or a sum of them.
func stringConstant(e ast.Expr) (string, bool) {
	var eval func(ast.Expr) constant.Value
	eval = func(e ast.Expr) constant.Value {
		switch e := e.(type) {
		case *ast.BasicLit:
			return constant.MakeFromLiteral(e.Value, e.Kind, 0)
		case *ast.ParenExpr:
			return eval(e.X)
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				return constant.BinaryOp(eval(e.X), token.ADD, eval(e.Y))
			}
		}
		return constant.MakeUnknown()
	}
	v := eval(e)
	if v.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(v), true
}
