package cost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"shopauth/auth"
	"shopauth/resolvers"
)

func aliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(itoa(i))
		b.WriteString(": ")
		b.WriteString(field)
	}
	return b.String()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}

// fragmentBomb doubles the selections with each fragment: 2^levels fields from a short text.
func fragmentBomb(levels int) string {
	var b strings.Builder
	b.WriteString("{ currentCustomerUser { ...F0 } } fragment F" + itoa(levels) + " on CurrentCustomerUser { email uuid }")
	for i := levels - 1; i >= 0; i-- {
		b.WriteString(" fragment F" + itoa(i) + " on CurrentCustomerUser { ...F" + itoa(i+1) + " ... on CurrentCustomerUser { ...F" + itoa(i+1) + " } }")
	}
	return b.String()
}

// publicMeter weighs documents against schema.graphql with the default configuration's weights
// (100 sessions per customer).
func publicMeter(t testing.TB) *Meter {
	t.Helper()
	sdl, err := os.ReadFile("../../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMeter(graphql.MustParseSchema(string(sdl), nil, graphql.UseStringDescriptions()), resolvers.ListWeights(auth.DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMeasure(t *testing.T) {
	introspection, err := os.ReadFile("../testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	meter := publicMeter(t)
	x1210 := "{ __schema {" + strings.Repeat(" x: description x: __typename", 605) + " } }"
	sessions := func(n int) string {
		return "{" + aliases(n, "customerSessions { deviceId createdAt lastRefreshedAt expiresAt current }") + " }"
	}
	tests := []struct {
		name             string
		doc              string
		wantOK           bool
		minSel, maxSel   int
		minCost, maxCost int
		withinLimits     bool
	}{
		{"one field", "{ __typename }", true, 1, 1, 1, 1, true},
		{"aliases count one by one", "{ a: __typename b: __typename c: __typename }", true, 3, 3, 3, 3, true},
		{"list fields weigh their items", "{ customerSessions { deviceId current } }", true, 3, 3, 201, 201, true},
		{"arguments, directives, strings and comments are not fields", `mutation M($e: String! = "{ x y z }") @d(a: {b: [1, 2]}) {
			Login(input: {email: $e, password: """ } { """}) @include(if: true) { accessToken } # { a b c }
		}`, true, 2, 2, 2, 2, true},
		{"GraphiQL's introspection query", string(introspection), true, 100, MaxSelections / 2, 1000, MaxCost, true},
		{"1,210 conflicting aliases under __schema", x1210, true, 1211, 1211, 1211, 1211, false},
		{"560 aliased customerSessions", sessions(560), true, 3360, 3360, 280560, 280560, false},
		{"100 aliased customerSessions stay within the cost", "{" + aliases(100, "customerSessions { deviceId }") + " }", true, 200, 200, 10100, 10100, true},
		{"nested introspection lists multiply", "{" + aliases(5, "__schema { types { fields { type { fields { type { fields { type { fields { type { fields { name } } } } } } } } } } }") + " }", true, 60, 60, MaxCost + 1, 1 << 40, false},
		{"a fragment bomb is counted expanded", fragmentBomb(30), true, MaxSelections + 1, 1 << 40, MaxCost + 1, 1 << 40, false},
		{"a fragment spreading itself counts once", "{ currentCustomerUser { ...F } } fragment F on CurrentCustomerUser { email ...F }", true, 2, 2, 2, 2, true},
		{"unterminated", "{ a { b }", false, 0, 0, 0, 0, true},
		{"unterminated string", `{ a(x: "abc) }`, false, 0, 0, 0, 0, true},
		{"stray character", "{ a % }", false, 0, 0, 0, 0, true},
		{"an empty selection set", "{ }", false, 0, 0, 0, 0, true},
		{"nested deeper than graphql-go reads", strings.Repeat("{ a ", 1001) + strings.Repeat("}", 1001), false, 0, 0, 0, 0, true},
		{"nested as deep as graphql-go reads", strings.Repeat("{ a ", 1000) + strings.Repeat("}", 1000), true, 1000, 1000, 1000, 1000, false},
		// Every name graphql-go reads, and everything it skips, is read here too.
		{"a Unicode alias", "{ é: __typename" + aliases(560, "customerSessions { deviceId createdAt lastRefreshedAt expiresAt current }") + " }",
			true, 3361, 3361, 280561, 280561, false},
		{"Unicode names everywhere", "query Dotaz($ř: Int) { 名前: customerSessions { ...Část } } fragment Část on CustomerSession { ünïcode: deviceId }", true, 2, 2, 101, 101, true},
		{"Go comments are skipped, as graphql-go skips them", "{ /* } */ a: __typename // }\n b: __typename }", true, 2, 2, 2, 2, true},
		{"spread dots apart", "{ currentCustomerUser { . . . F ... on CurrentCustomerUser { uuid } } } fragment F on CurrentCustomerUser { email }", true, 3, 3, 3, 3, true},
		{"a byte order mark first", "\uFEFF{ __typename }", true, 1, 1, 1, 1, true},
		{"descriptions and block strings", `"d" query ("v" $x: String = """ { a b c """) { a(s: "x""y""" ) }`, true, 1, 1, 1, 1, true},
		{"a shorthand query after an empty description", `"" { a }`, true, 1, 1, 1, 1, true},
		{"an unterminated block string runs to the end", `{ a(s: """ } } }`, false, 0, 0, 0, 0, true},
		{"a character literal is not a value", "{ a(s: 'c') }", false, 0, 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := meter.Measure(tt.doc)
			if (err == nil) != tt.wantOK {
				t.Fatalf("err = %v, want readable %v", err, tt.wantOK)
			}
			if err != nil {
				return
			}
			t.Logf("selections %d, cost %d", c.Selections, c.Cost)
			if c.Selections < tt.minSel || c.Selections > tt.maxSel {
				t.Errorf("selections = %d, want %d..%d", c.Selections, tt.minSel, tt.maxSel)
			}
			if c.Cost < tt.minCost || c.Cost > tt.maxCost {
				t.Errorf("cost = %d, want %d..%d", c.Cost, tt.minCost, tt.maxCost)
			}
			if within := c.Selections <= MaxSelections && c.Cost <= MaxCost; within != tt.withinLimits {
				t.Errorf("within limits = %v, want %v", within, tt.withinLimits)
			}
		})
	}
}

// TestMeasureValues: a value graphql-go parses but cannot decode (it decodes literals
// with strconv and panics where strconv fails) is found, and every value it decodes is not.
func TestMeasureValues(t *testing.T) {
	for _, tc := range []struct {
		doc string
		bad string // the value named, or "" when every value decodes
	}{
		{`{ a(x: 1, f: -1.5e3, s: "x\n\"", e: RED, b: true, n: null, l: [1, "a"], o: {k: -2}) }`, ""},
		{`{ a(s: "\u00e9 \u{1F600} \uD83D\uDE00", t: """ \U00110000 """) }`, ""},
		{`{ a(x: 1_0) }`, `"1_0"`},
		{`{ a(x: 0x10) }`, `"0x10"`},
		{`{ a(x: 99999999999999999999) }`, `"99999999999999999999"`},
		{`{ a(f: 1e999) }`, `"1e999"`},
		{`{ a(s: "\U00110000") }`, `"\"\\U00110000\""`},
		{`{ a(s: "\uDE00") }`, `"\"\\uDE00\""`},
		{`{ a(s: -"x") }`, `"-\"x\""`},
		{`{ a(s: -{) }`, `"-{"`},
		{`query ($x: Int = 1_0) { a(x: $x) }`, `"1_0"`},
		{`"\U00110000" query { a }`, `"\"\\U00110000\""`},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			_, bad, err := publicMeter(t).Measure(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.bad == "" && bad != nil:
				t.Errorf("found %v", bad)
			case tc.bad != "" && (bad == nil || !strings.Contains(bad.Message, tc.bad)):
				t.Errorf("found %v, want the value %s", bad, tc.bad)
			}
		})
	}
}

// fuzzRoot answers the small schema FuzzMeasure hands documents to.
type fuzzRoot struct{}

func (*fuzzRoot) A(struct {
	X *int32
	F *float64
	S *string
	L *[]*string
}) *int32 {
	return nil
}

func (r *fuzzRoot) Q() *fuzzRoot { return r }

// graphqlGoReads runs doc through graphql-go: parsed is false when it reports a syntax error or
// panics before parsing is known to be done, panicked when it panics anywhere. It parses and
// validates every document, and executes only those the meter found cheap (execute is true), in a
// bounded time: a fragment bomb the meter refuses would otherwise keep a fuzz worker busy past
// -fuzztime, which the fuzzer reports as a failure ("context deadline exceeded").
func graphqlGoReads(schema *graphql.Schema, doc string, execute bool) (parsed, panicked bool) {
	defer func() {
		if recover() != nil {
			parsed, panicked = false, true
		}
	}()
	for _, e := range schema.Validate(doc) {
		if errors.Is(e, gqlerrors.ErrSyntax) {
			return false, false
		}
	}
	if !execute {
		return true, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp := schema.Exec(ctx, doc, "", nil)
	for _, e := range resp.Errors {
		if errors.Is(e, gqlerrors.ErrSyntax) {
			return false, false
		}
		if strings.Contains(e.Message, "panic occurred") {
			return true, true
		}
	}
	return true, false
}

// FuzzMeasure checks the weighing against graphql-go's own parser:
// every document graphql-go parses is weighed, never refused as unreadable, and every document
// on which graphql-go panics is refused. test.sh fuzzes it for a bounded time; go test runs the seeds.
// fuzzExecuteCost is the largest weighed cost FuzzMeasure still executes.
const fuzzExecuteCost = 2000

func FuzzMeasure(f *testing.F) {
	introspection, err := os.ReadFile("../testdata/introspection.graphql")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"{ a }", fragmentBomb(5), string(introspection),
		`query { a(x: "\"") { ... on T { b } ...F } } fragment F on T { c }`, `"""`, "{ a: }", "...", "{ ... on }",
		"{ é: a ř: q { a } }", "query Ú($ž: Int = 1) @d(名: [1, {k: -2}]) { a(x: $ž) }", "fragment Č on Query { a } { ...Č }",
		"{ a /* } */ } // x", "{ q { . . . on Query { a } } }", "\uFEFF{ a }", `"" { a }`, `"d" query ("v" $x: Int) { a(x: $x) }`,
		`{ a(s: "\u{1F600}\uD83D\uDE00") }`, `{ a(s: """ \""" """) }`, `{ a(s: "x""y""") }`, "{ a(s: 'c') }", "{ a(s: `raw`) }",
		`{ a(x: 1_0) }`, `query ($x: String = "\U00110000") { a(s: $x) }`, `"\U00110000" query { a }`, `{ a(f: 0x1p-2, l: [-"x"]) }`,
		"{ a, # comment }\n }", "{ a\x00 }", "{ a(x: -) }", strings.Repeat("{ q ", 30) + "a" + strings.Repeat(" }", 30),
	} {
		f.Add(s)
	}
	schema := graphql.MustParseSchema(`type Query { a(x: Int, f: Float, s: String, l: [String]): Int  q: Query }`, &fuzzRoot{},
		graphql.MaxDepth(40), graphql.Logger(quietLogger{}))
	meter, err := NewMeter(schema, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		c, bad, err := meter.Measure(doc)
		if err == nil && (c.Selections < 0 || c.Cost < 0 || c.Depth < 0) {
			t.Fatalf("negative figures %+v", c)
		}
		cheap := err == nil && c.Cost <= fuzzExecuteCost
		parsed, panicked := graphqlGoReads(schema, doc, cheap)
		if parsed && err != nil {
			t.Fatalf("graphql-go parses %q, but it was not weighed: %v", doc, err)
		}
		if panicked && err == nil && bad == nil {
			t.Fatalf("graphql-go panics on %q, but it was weighed without finding a bad value", doc)
		}
	})
}

// quietLogger keeps the panics FuzzMeasure provokes out of the test output.
type quietLogger struct{}

func (quietLogger) LogPanic(context.Context, any) {}

// TestMeasureRemembers: a document weighed again gets what the first weighing found (figures,
// value and syntax errors), from the memo; the memo stays within memoDocs and keeps no long document.
func TestMeasureRemembers(t *testing.T) {
	m := publicMeter(t)
	docs := []string{
		`{ currentCustomerUser { uuid email } }`,
		aliases(50, "currentCustomerUser { uuid }"),
		`{ a(x: 0x10) }`,
		`{ currentCustomerUser { uuid `,
		"{ currentCustomerUser { uuid } }" + strings.Repeat(" ", memoDocBytes),
	}
	for _, doc := range docs {
		c1, bad1, err1 := m.Measure(doc)
		c2, bad2, err2 := m.Measure(doc)
		if c1 != c2 || bad1 != bad2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Errorf("%.40q: %v %v %v, then %v %v %v", doc, c1, bad1, err1, c2, bad2, err2)
		}
		fresh, badFresh, errFresh := publicMeter(t).Measure(doc)
		if fresh != c1 || fmt.Sprint(badFresh) != fmt.Sprint(bad1) || fmt.Sprint(errFresh) != fmt.Sprint(err1) {
			t.Errorf("%.40q: remembered %v %v %v, a fresh meter finds %v %v %v", doc, c1, bad1, err1, fresh, badFresh, errFresh)
		}
	}
	if n := m.memo.Len(); n != len(docs)-1 {
		t.Errorf("%d documents remembered, want %d: the one of %d bytes is not", n, len(docs)-1, len(docs[len(docs)-1]))
	}
	for i := range 3 * memoDocs {
		m.Measure(fmt.Sprintf("{ a%d }", i))
		if n := m.memo.Len(); n > memoDocs {
			t.Fatalf("%d documents remembered, more than %d", n, memoDocs)
		}
	}
}
