// Package cost weighs a GraphQL document before graphql-go validates it: validation itself is where
// a 16 KiB document of conflicting aliases once made an 88 MB error body, so the document is
// weighed first. The reader here reads exactly what graphql-go v1.11.0 reads (its parser is
// internal, so it cannot be called): the same text/scanner tokens, the same grammar, the same
// nesting limit. A document it cannot read is refused, never waved through; FuzzMeasure checks
// that every document graphql-go parses is weighed.
package cost

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/scanner"
	"unicode/utf8"

	graphql "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/introspection"

	"shopauth/internal/memo"
)

// Limits on a document's breadth and cost.
const (
	// MaxSelections bounds the field selections of a document, each counted (aliases, __typename
	// and introspection fields included), fragments counted where they are spread. GraphiQL's
	// introspection query makes about 250.
	MaxSelections = 600
	// MaxCost bounds the values an operation may produce: each field counts 1, and a list field
	// counts once per item it may hold (its Weights): its selection that many times, or, for a
	// list of scalars, that many values. GraphiQL's introspection query costs about 11 000 (it
	// answers about 2 200 values).
	MaxCost = 50_000
)

// Weights says how many items each list field of a schema may hold, keyed by type and field:
// "Query.customerSessions" holds at most --sessions-per-customer sessions. The introspection
// types' lists are weighed by the schema itself (about how many its introspection returns).
type Weights map[string]int

// Meter weighs documents against one schema: it knows each field's type, so a list field is
// weighed by its type and name (an admin schema's CustomerDetail.sessions is not Query.passkeys).
type Meter struct {
	roots  map[string]string                // "query", "mutation", "subscription" → the root type
	fields map[string]map[string]fieldCount // type → field → what it may hold

	memo *memo.Memo[string, measured] // the figures of documents weighed lately
}

// A storefront sends a handful of documents, again and again: the Meter remembers the figures of
// up to memoDocs documents of at most memoDocBytes each (1 MiB).
const (
	memoDocs     = 256
	memoDocBytes = 4 << 10
)

type measured struct {
	c        Figures
	badValue *SyntaxError
	err      error
}

// fieldCount is what a field may hold: values of type typ, at most weight of them.
type fieldCount struct {
	typ    string
	weight int
	list   bool
}

// NewMeter reads the schema's types. Every list field must have a weight in w (at least 1), and
// every weight must name a list field: a list field added to the schema without one is an error
// here, and so at start-up and in the tests, never a list weighed as a single value.
func NewMeter(schema *graphql.Schema, w Weights) (*Meter, error) {
	in := schema.Inspect()
	m := &Meter{roots: map[string]string{}, fields: map[string]map[string]fieldCount{}, memo: memo.New[string, measured](memoDocs)}
	for kind, t := range map[string]*introspection.Type{"query": in.QueryType(), "mutation": in.MutationType(), "subscription": in.SubscriptionType()} {
		if t != nil && t.Name() != nil {
			m.roots[kind] = *t.Name()
		}
	}
	computed := introspectionWeights(in)
	used := map[string]bool{}
	var problems []string
	for _, t := range in.Types() {
		fields := t.Fields(&includeDeprecated)
		if fields == nil || t.Name() == nil {
			continue
		}
		counts := map[string]fieldCount{}
		for _, f := range *fields {
			typ, list := namedType(f.Type())
			c := fieldCount{typ: typ, weight: 1, list: list}
			if list {
				key := *t.Name() + "." + f.Name()
				n, ok := w[key]
				used[key] = ok
				if !ok {
					n, ok = computed[key]
				}
				switch {
				case !ok:
					problems = append(problems, "the list field "+key+" has no weight")
				case n < 1:
					problems = append(problems, fmt.Sprintf("the list field %s weighs %d; a list may hold at least 1", key, n))
				}
				c.weight = n
			}
			counts[f.Name()] = c
		}
		m.fields[*t.Name()] = counts
	}
	if q, ok := m.fields[m.roots["query"]]; ok {
		// The meta fields, which the query type's own fields do not list.
		q["__schema"], q["__type"] = fieldCount{typ: "__Schema", weight: 1}, fieldCount{typ: "__Type", weight: 1}
	}
	for key := range w {
		if !used[key] {
			problems = append(problems, "the weight of "+key+" names no list field of the schema")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, errors.New("cost weights: " + strings.Join(problems, "; "))
	}
	return m, nil
}

var includeDeprecated = struct{ IncludeDeprecated bool }{true}

// namedType unwraps NON_NULL and LIST: the type's name, and whether it is a list.
func namedType(t *introspection.Type) (name string, list bool) {
	for t.OfType() != nil {
		list = list || t.Kind() == "LIST"
		t = t.OfType()
	}
	if t.Name() != nil {
		name = *t.Name()
	}
	return name, list
}

// introspectionWeights weighs the introspection types' lists by this schema: __Schema.types by
// its types, and each other list by how many items one parent holds on average, so that
// `types { fields { args } }` weighs about what the whole introspection answers.
func introspectionWeights(in *introspection.Schema) map[string]int {
	types, directives := in.Types(), in.Directives()
	var fields, args, interfaces, possible, enums, inputs, directiveArgs, locations int
	for _, t := range types {
		if fs := t.Fields(&includeDeprecated); fs != nil {
			fields += len(*fs)
			for _, f := range *fs {
				args += len(f.Args(&includeDeprecated))
			}
		}
		if is := t.Interfaces(); is != nil {
			interfaces += len(*is)
		}
		if ps := t.PossibleTypes(); ps != nil {
			possible += len(*ps)
		}
		if es := t.EnumValues(&includeDeprecated); es != nil {
			enums += len(*es)
		}
		if is := t.InputFields(&includeDeprecated); is != nil {
			inputs += len(*is)
		}
	}
	for _, d := range directives {
		directiveArgs += len(d.Args(&includeDeprecated))
		locations += len(d.Locations())
	}
	each := func(total, parents int) int { return max(1, (total+parents-1)/max(parents, 1)) }
	return map[string]int{
		"__Schema.types":        max(1, len(types)),
		"__Schema.directives":   max(1, len(directives)),
		"__Type.fields":         each(fields, len(types)),
		"__Type.interfaces":     each(interfaces, len(types)),
		"__Type.possibleTypes":  each(possible, len(types)),
		"__Type.enumValues":     each(enums, len(types)),
		"__Type.inputFields":    each(inputs, len(types)),
		"__Field.args":          each(args, fields),
		"__Directive.args":      each(directiveArgs, len(directives)),
		"__Directive.locations": each(locations, len(directives)),
	}
}

// Figures are what Measure found.
type Figures struct {
	Selections int // every field selection, fragments counted once per spread
	Cost       int // the costliest operation's weighted cost
	Depth      int // the deepest field nesting, fragments expanded
}

// selectionSet is a document's `{ … }` as far as cost goes.
type selectionSet struct {
	on      string // the type condition of a fragment; "" for the enclosing field's type
	fields  []field
	spreads []string        // fragment names spread here
	inline  []*selectionSet // inline fragments
}

type field struct {
	name string
	sub  *selectionSet
}

// operation is an operation's kind ("query" for the shorthand) and its selections.
type operation struct {
	kind string
	set  *selectionSet
}

// SyntaxError says where and why the reader stopped (graphql-go stops there too, or earlier), or
// which value graphql-go would fail to decode.
type SyntaxError struct {
	Line, Column int
	Message      string // quotes at most a few dozen characters of the document
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// Measure weighs a document. A document the reader cannot read is a *SyntaxError: graphql-go
// would not parse it either, and the caller refuses it. badValue is the first value (or
// description) that graphql-go would parse but panic decoding, which the caller refuses too.
// A field the schema does not have weighs 1 (validation refuses it afterwards).
func (m *Meter) Measure(doc string) (c Figures, badValue *SyntaxError, err error) {
	if len(doc) > memoDocBytes {
		return m.measure(doc)
	}
	r := m.memo.Get(doc, func() (r measured) {
		r.c, r.badValue, r.err = m.measure(doc)
		return r
	})
	return r.c, r.badValue, r.err
}

func (m *Meter) measure(doc string) (c Figures, badValue *SyntaxError, err error) {
	p := &parser{}
	var ops []operation
	fragments := map[string]*selectionSet{}
	var all []*selectionSet
	if err := p.read(func() {
		p.start(doc)
		for p.tok != scanner.EOF {
			p.description()
			if p.tok == '{' {
				s := p.selectionSet()
				ops, all = append(ops, operation{"query", s}), append(all, s)
				continue
			}
			switch keyword := p.ident(); keyword {
			case "query", "mutation", "subscription":
				s := p.operation()
				ops, all = append(ops, operation{keyword, s}), append(all, s)
			case "fragment":
				name, s := p.fragment()
				fragments[name] = s
				all = append(all, s)
			default:
				p.failf("unexpected %s, expecting \"fragment\"", quoteInput(keyword))
			}
		}
	}); err != nil {
		return c, nil, err
	}
	w := &weigher{Meter: m, fragments: fragments, cost: map[string]int{}, count: map[string]int{}, depth: map[string]int{}, active: map[string]bool{}}
	text := 0
	for _, s := range all {
		text += s.textFields()
	}
	c.Selections = text
	for _, op := range ops {
		sel, cost, depth := w.measure(op.set, m.roots[op.kind])
		c.Selections = max(c.Selections, sel)
		c.Cost = max(c.Cost, cost)
		c.Depth = max(c.Depth, depth)
	}
	return c, p.badValue, nil
}

func (s *selectionSet) textFields() int {
	n := len(s.fields)
	for _, f := range s.fields {
		if f.sub != nil {
			n += f.sub.textFields()
		}
	}
	for _, in := range s.inline {
		n += in.textFields()
	}
	return n
}

// weigher expands fragments, remembering each one's figures; a fragment that spreads itself
// counts nothing there (validation refuses the cycle).
type weigher struct {
	*Meter
	fragments          map[string]*selectionSet
	cost, count, depth map[string]int
	active             map[string]bool
}

// saturate keeps sums from overflowing: anything past it is over every limit anyway.
const saturate = 1 << 40

// measure weighs s, a selection of the type typ ("" when unknown: every field weighs 1).
func (w *weigher) measure(s *selectionSet, typ string) (selections, cost, depth int) {
	if s.on != "" {
		typ = s.on
	}
	fields := w.fields[typ]
	for _, f := range s.fields {
		fc, ok := fields[f.name]
		if !ok {
			fc = fieldCount{weight: 1}
		}
		selections++
		depth = max(depth, 1)
		switch {
		case f.sub != nil:
			sel, c, d := w.measure(f.sub, fc.typ)
			selections += sel
			cost += 1 + min(c, saturate)*fc.weight
			depth = max(depth, d+1)
		case fc.list:
			cost += fc.weight // a list of scalars: its values
		default:
			cost++
		}
		selections, cost = min(selections, saturate), min(cost, saturate)
	}
	for _, in := range s.inline {
		sel, c, d := w.measure(in, typ)
		selections, cost, depth = min(selections+sel, saturate), min(cost+c, saturate), max(depth, d)
	}
	for _, name := range s.spreads {
		if _, done := w.cost[name]; !done {
			frag, ok := w.fragments[name]
			if !ok || w.active[name] {
				continue
			}
			w.active[name] = true
			w.count[name], w.cost[name], w.depth[name] = w.measure(frag, "")
			w.active[name] = false
		}
		selections, cost = min(selections+w.count[name], saturate), min(cost+w.cost[name], saturate)
		depth = max(depth, w.depth[name])
	}
	return selections, cost, depth
}

// maxNesting is graphql-go's MaxParserDepth: selection sets, list and object values and list
// types nested deeper are a syntax error there.
const maxNesting = 1000

// parser follows graphql-go's internal/query and internal/common parsers rule by rule, so
// that what one accepts the other accepts. It may accept a little more (a description before a
// shorthand query, a string escape graphql-go refuses); graphql-go then refuses the document itself.
type parser struct {
	sc       scanner.Scanner
	tok      rune
	depth    int
	badValue *SyntaxError
}

// read runs f, turning the parser's own panics into an error.
func (p *parser) read(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			u, ok := v.(*SyntaxError)
			if !ok {
				panic(v)
			}
			err = u
		}
	}()
	f()
	return nil
}

// start sets the scanner up as graphql-go's lexer ends up: it sets a Mode and then calls Init,
// which resets Mode to GoTokens, so Go comments (// and /* */) are skipped, and raw strings and
// character literals are tokens. Errors the scanner reports (bad escapes, NUL) are ignored here:
// they do not move token boundaries, and graphql-go reports them itself.
func (p *parser) start(doc string) {
	p.sc.Init(strings.NewReader(doc))
	p.sc.Error = func(*scanner.Scanner, string) {}
	p.advance()
}

func (p *parser) failf(format string, args ...any) {
	pos := p.sc.Position
	if !pos.IsValid() {
		pos = p.sc.Pos()
	}
	panic(&SyntaxError{Line: pos.Line, Column: pos.Column, Message: fmt.Sprintf(format, args...)})
}

// advance reads the next token, skipping commas and # comments (graphql-go's ConsumeWhitespace).
func (p *parser) advance() {
	for {
		p.tok = p.sc.Scan()
		switch p.tok {
		case ',':
			continue
		case '#':
			for {
				if c := p.sc.Next(); c == '\r' || c == '\n' || c == scanner.EOF {
					break
				}
			}
			continue
		}
		return
	}
}

// current describes the current token for an error message, quoting at most a few characters.
func (p *parser) current() string {
	if p.tok == scanner.EOF {
		return "end of document"
	}
	return quoteInput(p.sc.TokenText())
}

// quoteInput quotes a piece of the client's document for a message, cut short.
func quoteInput(s string) string {
	const most = 40
	if utf8.RuneCountInString(s) > most {
		s = string([]rune(s)[:most]) + "…"
	}
	return strconv.Quote(s)
}

func (p *parser) expect(tok rune) {
	if p.tok != tok {
		p.failf("unexpected %s, expecting %s", p.current(), scanner.TokenString(tok))
	}
	p.advance()
}

func (p *parser) ident() string {
	if p.tok != scanner.Ident {
		p.failf("unexpected %s, expecting a name", p.current())
	}
	name := p.sc.TokenText()
	p.advance()
	return name
}

func (p *parser) nest() {
	if p.depth++; p.depth > maxNesting {
		p.failf("maximum nesting depth exceeded")
	}
}

func (p *parser) unnest() { p.depth-- }

// description skips a string before a definition (consumeDescription).
func (p *parser) description() {
	if p.tok != scanner.String {
		return
	}
	if p.sc.Peek() == '"' {
		p.blockString()
	} else {
		p.checkValue(scanner.String, p.sc.TokenText(), p.sc.Position)
	}
	p.advance()
}

// blockString reads past a block string. The scanner read `""` as a string; graphql-go then reads
// characters up to three quotes in a row, or the end (consumeTripleQuoteComment). So does this.
func (p *parser) blockString() {
	p.sc.Next() // the third quote
	quotes := 0
	for quotes < 3 {
		switch p.sc.Next() {
		case '"':
			quotes++
		case scanner.EOF:
			return
		default:
			quotes = 0
		}
	}
}

// operation reads what follows query, mutation or subscription.
func (p *parser) operation() *selectionSet {
	if p.tok == scanner.Ident {
		p.advance()
	}
	if p.tok == '(' {
		p.advance()
		for p.tok != ')' {
			p.description()
			p.expect('$')
			p.description()
			p.ident()
			p.expect(':')
			p.typeRef()
			if p.tok == '=' {
				p.advance()
				p.value(true)
			}
			p.directives()
		}
		p.expect(')')
	}
	p.directives()
	return p.selectionSet()
}

// fragment reads what follows `fragment`.
func (p *parser) fragment() (string, *selectionSet) {
	name := p.ident()
	if p.tok != scanner.Ident || p.sc.TokenText() != "on" {
		p.failf("unexpected %s, expecting \"on\"", p.current())
	}
	p.advance()
	on := p.ident()
	p.directives()
	s := p.selectionSet()
	s.on = on
	return name, s
}

func (p *parser) selectionSet() *selectionSet {
	p.nest()
	defer p.unnest()
	s := &selectionSet{}
	p.expect('{')
	p.selection(s)
	for p.tok != '}' {
		p.selection(s)
	}
	p.expect('}')
	return s
}

func (p *parser) selection(s *selectionSet) {
	if p.tok == '.' {
		p.spread(s)
		return
	}
	name := p.ident()
	if p.tok == ':' {
		p.advance()
		name = p.ident()
	}
	if p.tok == '(' {
		p.arguments()
	}
	p.directives()
	f := field{name: name}
	if p.tok == '{' {
		f.sub = p.selectionSet()
	}
	s.fields = append(s.fields, f)
}

// spread reads `...Name` or an inline fragment; graphql-go reads the dots as three tokens.
func (p *parser) spread(s *selectionSet) {
	p.expect('.')
	p.expect('.')
	p.expect('.')
	on := ""
	if p.tok == scanner.Ident {
		if name := p.ident(); name != "on" {
			s.spreads = append(s.spreads, name)
			p.directives()
			return
		}
		on = p.ident()
	}
	p.directives()
	in := p.selectionSet()
	in.on = on
	s.inline = append(s.inline, in)
}

func (p *parser) directives() {
	for p.tok == '@' {
		p.advance()
		p.ident()
		if p.tok == '(' {
			p.arguments()
		}
	}
}

func (p *parser) arguments() {
	p.expect('(')
	for p.tok != ')' {
		p.ident()
		p.expect(':')
		p.value(false)
		p.directives()
	}
	p.expect(')')
}

func (p *parser) typeRef() {
	if p.tok == '[' {
		p.nest()
		p.advance()
		p.typeRef()
		p.expect(']')
		p.unnest()
	} else {
		p.ident()
	}
	if p.tok == '!' {
		p.advance()
	}
}

// value reads a value (ParseLiteral).
func (p *parser) value(constOnly bool) {
	switch p.tok {
	case '$':
		if constOnly {
			p.failf("variable not allowed")
		}
		p.advance()
		p.ident()
	case scanner.Int, scanner.Float, scanner.String, scanner.Ident:
		p.scalar("")
	case '-':
		p.advance()
		p.scalar("-") // whatever token follows, as graphql-go does
	case '[':
		p.nest()
		p.advance()
		for p.tok != ']' {
			p.value(constOnly)
		}
		p.expect(']')
		p.unnest()
	case '{':
		p.nest()
		p.advance()
		for p.tok != '}' {
			p.ident()
			p.expect(':')
			p.value(constOnly)
		}
		p.expect('}')
		p.unnest()
	default:
		p.failf("unexpected %s, expecting a value", p.current())
	}
}

// scalar reads one value token (ConsumeLiteral), noting the first that graphql-go could parse
// but not decode: it decodes literals with strconv and panics where strconv fails.
func (p *parser) scalar(sign string) {
	tok, text := p.tok, p.sc.TokenText()
	pos := p.sc.Position
	if tok == scanner.String && p.sc.Peek() == '"' {
		p.blockString()
		text = `""` // graphql-go quotes a block string's text itself
	}
	p.checkValue(tok, sign+text, pos)
	p.advance()
}

// checkValue notes the first value or description graphql-go would fail to decode.
func (p *parser) checkValue(tok rune, text string, pos scanner.Position) {
	if p.badValue == nil && !decodable(tok, text) {
		p.badValue = &SyntaxError{Line: pos.Line, Column: pos.Column,
			Message: fmt.Sprintf("the value %s cannot be decoded", quoteInput(text))}
	}
}

// decodable mirrors ast.PrimitiveValue.Deserialize, which panics on what it cannot decode.
func decodable(tok rune, text string) bool {
	var err error
	switch tok {
	case scanner.Int:
		_, err = strconv.ParseInt(text, 10, 64)
	case scanner.Float:
		_, err = strconv.ParseFloat(text, 64)
	case scanner.String:
		_, err = strconv.Unquote(graphQLEscapes(text))
	case scanner.Ident:
	default:
		return false
	}
	return err == nil
}

// graphQLEscapes rewrites GraphQL's \u{…} escapes and \uXXXX surrogate pairs into Go's \U form,
// as graphql-go's reader does before its lexer sees a string, so strconv can decode the string.
func graphQLEscapes(s string) string {
	if !strings.Contains(s, `\u`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] != 'u' {
			b.WriteString(s[i : i+2])
			i++
			continue
		}
		if r, n, ok := unicodeEscape(s[i:]); ok {
			fmt.Fprintf(&b, `\U%08X`, r)
			i += n - 1
			continue
		}
		b.WriteString(s[i : i+2])
		i++
	}
	return b.String()
}

// unicodeEscape decodes \u{X…} or a \uXXXX\uXXXX surrogate pair at the start of s.
func unicodeEscape(s string) (rune, int, bool) {
	if len(s) > 3 && s[2] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 4 || end > 11 {
			return 0, 0, false
		}
		v, err := strconv.ParseUint(s[3:end], 16, 32)
		if err != nil || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
			return 0, 0, false
		}
		return rune(v), end + 1, true
	}
	if len(s) < 12 || s[6] != '\\' || s[7] != 'u' {
		return 0, 0, false
	}
	hi, err1 := strconv.ParseUint(s[2:6], 16, 16)
	lo, err2 := strconv.ParseUint(s[8:12], 16, 16)
	if err1 != nil || err2 != nil || hi < 0xD800 || hi > 0xDBFF || lo < 0xDC00 || lo > 0xDFFF {
		return 0, 0, false
	}
	return rune((hi-0xD800)<<10|(lo-0xDC00)) + 0x10000, 12, true
}
