package web

// What a GraphQL document may cost, measured before the library validates it: validation itself
// is where a 16 KiB document of conflicting aliases once made an 88 MB error body, so the document
// is weighed first by this small reader, which only follows braces, names and fragments.

// Limits on a document's breadth and cost.
const (
	// MaxSelections bounds the field selections of a document, each counted (aliases, __typename
	// and introspection fields included), fragments counted where they are spread. GraphiQL's
	// introspection query makes about 250.
	MaxSelections = 600
	// MaxCost bounds the values an operation may produce: each field counts 1, and a list field's
	// selection counts once per item the list may hold (listWeights). GraphiQL's introspection
	// query costs about 26 000.
	MaxCost = 50_000
	// MaxErrors is how many errors an answer lists, as graphql-js stops validating after 100.
	MaxErrors = 100
	// MaxResponseBytes bounds an answer's body.
	MaxResponseBytes = 4 << 20
)

// listWeights says how many items a list field may return at most (for customerSessions, the
// sessions a customer may hold), or about how many the introspection of this schema returns.
var listWeights = map[string]int{
	"customerSessions": 100,
	"passkeys":         20,
	"types":            35,
	"fields":           6,
	"args":             2,
	"inputFields":      3,
	"enumValues":       3,
	"interfaces":       1,
	"possibleTypes":    1,
	"directives":       5,
}

// documentCost is what measureDocument found.
type documentCost struct {
	selections int // every field selection, fragments counted once per spread
	cost       int // the costliest operation's weighted cost
	depth      int // the deepest field nesting, fragments expanded
}

type costToken struct {
	kind byte // 'n' name, 's' string, '0' number, '.' spread, or the punctuator itself
	text string
}

// costReader is a minimal GraphQL reader: enough to find selection sets, fields and fragments.
type costReader struct {
	src  string
	pos  int
	tok  costToken
	bad  bool
	deep int
}

// selectionSet is a document's `{ … }` as far as cost goes.
type selectionSet struct {
	fields  []costField
	spreads []string        // fragment names spread here
	inline  []*selectionSet // inline fragments
}

type costField struct {
	name string
	sub  *selectionSet
}

// measureDocument weighs a document. ok is false when it cannot be read; the library then
// reports the syntax error (the document is at most 16 KiB, so reading it twice costs little).
func measureDocument(doc string) (c documentCost, ok bool) {
	r := &costReader{src: doc}
	r.next()
	var ops []*selectionSet
	fragments := map[string]*selectionSet{}
	var all []*selectionSet
	for r.tok.kind != 0 && !r.bad {
		switch {
		case r.tok.kind == '{':
			s := r.selectionSet()
			ops, all = append(ops, s), append(all, s)
		case r.tok.kind == 'n' && r.tok.text == "fragment":
			r.next()
			name := r.tok.text
			for r.tok.kind != '{' && r.tok.kind != 0 {
				r.skip()
			}
			s := r.selectionSet()
			fragments[name] = s
			all = append(all, s)
		case r.tok.kind == 'n':
			// query/mutation/subscription, a name, variables, directives, then the selection set
			for r.tok.kind != '{' && r.tok.kind != 0 {
				r.skip()
			}
		default:
			r.bad = true
		}
	}
	if r.bad {
		return c, false
	}
	m := &costMeter{fragments: fragments, cost: map[string]int{}, count: map[string]int{}, depth: map[string]int{}, active: map[string]bool{}}
	text := 0
	for _, s := range all {
		text += s.textFields()
	}
	c.selections = text
	for _, s := range ops {
		sel, cost, depth := m.measure(s)
		c.selections = max(c.selections, sel)
		c.cost = max(c.cost, cost)
		c.depth = max(c.depth, depth)
	}
	return c, true
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

// costMeter expands fragments, remembering each one's figures; a fragment that spreads itself
// counts nothing there (validation refuses the cycle).
type costMeter struct {
	fragments          map[string]*selectionSet
	cost, count, depth map[string]int
	active             map[string]bool
}

// saturate keeps sums from overflowing: anything past it is over every limit anyway.
const saturate = 1 << 40

func (m *costMeter) measure(s *selectionSet) (selections, cost, depth int) {
	for _, f := range s.fields {
		selections++
		cost++
		depth = max(depth, 1)
		if f.sub != nil {
			sel, c, d := m.measure(f.sub)
			w := listWeights[f.name]
			if w == 0 {
				w = 1
			}
			selections += sel
			cost += min(c, saturate) * w
			depth = max(depth, d+1)
		}
		selections, cost = min(selections, saturate), min(cost, saturate)
	}
	for _, in := range s.inline {
		sel, c, d := m.measure(in)
		selections, cost, depth = min(selections+sel, saturate), min(cost+c, saturate), max(depth, d)
	}
	for _, name := range s.spreads {
		if _, done := m.cost[name]; !done {
			frag, ok := m.fragments[name]
			if !ok || m.active[name] {
				continue
			}
			m.active[name] = true
			m.count[name], m.cost[name], m.depth[name] = m.measure(frag)
			m.active[name] = false
		}
		selections, cost = min(selections+m.count[name], saturate), min(cost+m.cost[name], saturate)
		depth = max(depth, m.depth[name])
	}
	return selections, cost, depth
}

// maxCostNesting bounds the reader's recursion; the library refuses such depth anyway.
const maxCostNesting = 64

// selectionSet reads `{ … }`; the current token is the `{`.
func (r *costReader) selectionSet() *selectionSet {
	s := &selectionSet{}
	if r.tok.kind != '{' {
		r.bad = true
		return s
	}
	if r.deep++; r.deep > maxCostNesting {
		r.bad = true
		return s
	}
	defer func() { r.deep-- }()
	r.next()
	for !r.bad {
		switch r.tok.kind {
		case '}':
			r.next()
			return s
		case '.':
			r.next()
			if r.tok.kind == 'n' && r.tok.text != "on" {
				s.spreads = append(s.spreads, r.tok.text)
				r.next()
				r.directives()
				continue
			}
			if r.tok.kind == 'n' { // on Type
				r.next()
				r.next()
			}
			r.directives()
			s.inline = append(s.inline, r.selectionSet())
		case 'n':
			name := r.tok.text
			r.next()
			if r.tok.kind == ':' {
				r.next()
				if r.tok.kind != 'n' {
					r.bad = true
					return s
				}
				name = r.tok.text
				r.next()
			}
			if r.tok.kind == '(' {
				r.skip()
			}
			r.directives()
			f := costField{name: name}
			if r.tok.kind == '{' {
				f.sub = r.selectionSet()
			}
			s.fields = append(s.fields, f)
		default:
			r.bad = true
		}
	}
	return s
}

// directives skips @name(args) …
func (r *costReader) directives() {
	for r.tok.kind == '@' && !r.bad {
		r.next()
		r.next()
		if r.tok.kind == '(' {
			r.skip()
		}
	}
}

// skip passes one token, or a whole bracketed group ( … ) or [ … ] with what is inside.
func (r *costReader) skip() {
	open := r.tok.kind
	if open != '(' && open != '[' {
		r.next()
		return
	}
	depth := 0
	for r.tok.kind != 0 && !r.bad {
		switch r.tok.kind {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		}
		r.next()
		if depth == 0 {
			return
		}
	}
	r.bad = true
}

// next reads the next token into r.tok (kind 0 at the end).
func (r *costReader) next() {
	src := r.src
	for r.pos < len(src) {
		c := src[r.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			r.pos++
			continue
		case c == '#':
			for r.pos < len(src) && src[r.pos] != '\n' && src[r.pos] != '\r' {
				r.pos++
			}
			continue
		case c == 0xEF && len(src) >= r.pos+3 && src[r.pos:r.pos+3] == "\uFEFF":
			r.pos += 3
			continue
		}
		break
	}
	if r.pos >= len(src) {
		r.tok = costToken{}
		return
	}
	start := r.pos
	c := src[r.pos]
	switch {
	case isNameStart(c):
		for r.pos < len(src) && isNameChar(src[r.pos]) {
			r.pos++
		}
		r.tok = costToken{'n', src[start:r.pos]}
	case c == '-' || ('0' <= c && c <= '9'):
		r.pos++
		for r.pos < len(src) && (isNameChar(src[r.pos]) || src[r.pos] == '.' || src[r.pos] == '+' || src[r.pos] == '-') {
			r.pos++
		}
		r.tok = costToken{'0', ""}
	case c == '"':
		r.str()
	case c == '.':
		if len(src) < r.pos+3 || src[r.pos:r.pos+3] != "..." {
			r.bad = true
			r.tok = costToken{}
			return
		}
		r.pos += 3
		r.tok = costToken{'.', "..."}
	case c == '{' || c == '}' || c == '(' || c == ')' || c == '[' || c == ']' || c == ':' || c == '@' ||
		c == '$' || c == '!' || c == '=' || c == '&' || c == '|':
		r.pos++
		r.tok = costToken{c, ""}
	default:
		r.bad = true
		r.tok = costToken{}
	}
}

// str reads a string or block string.
func (r *costReader) str() {
	src := r.src
	if len(src) >= r.pos+3 && src[r.pos:r.pos+3] == `"""` {
		r.pos += 3
		for r.pos < len(src) {
			if src[r.pos] == '\\' && len(src) >= r.pos+4 && src[r.pos+1:r.pos+4] == `"""` {
				r.pos += 4
				continue
			}
			if len(src) >= r.pos+3 && src[r.pos:r.pos+3] == `"""` {
				r.pos += 3
				r.tok = costToken{'s', ""}
				return
			}
			r.pos++
		}
		r.bad = true
		r.tok = costToken{}
		return
	}
	r.pos++
	for r.pos < len(src) && src[r.pos] != '"' && src[r.pos] != '\n' && src[r.pos] != '\r' {
		if src[r.pos] == '\\' {
			r.pos++
		}
		r.pos++
	}
	if r.pos >= len(src) || src[r.pos] != '"' {
		r.bad = true
		r.tok = costToken{}
		return
	}
	r.pos++
	r.tok = costToken{'s', ""}
}

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || ('0' <= c && c <= '9') }
