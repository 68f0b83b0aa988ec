package web

import (
	"os"
	"strings"
	"testing"
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

func TestMeasureDocument(t *testing.T) {
	introspection, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
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
		{"issue 16 item 1: 1,210 conflicting aliases under __schema", x1210, true, 1211, 1211, 1211, 1211, false},
		{"issue 16 item 2: 560 aliased customerSessions", sessions(560), true, 3360, 3360, 280560, 280560, false},
		{"100 aliased customerSessions stay within the cost", "{" + aliases(100, "customerSessions { deviceId }") + " }", true, 200, 200, 10100, 10100, true},
		{"nested introspection lists multiply", "{" + aliases(5, "__schema { types { fields { type { fields { type { fields { name } } } } } } }") + " }", true, 40, 40, MaxCost + 1, 1 << 40, false},
		{"a fragment bomb is counted expanded", fragmentBomb(30), true, MaxSelections + 1, 1 << 40, MaxCost + 1, 1 << 40, false},
		{"a fragment spreading itself counts once", "{ currentCustomerUser { ...F } } fragment F on CurrentCustomerUser { email ...F }", true, 2, 2, 2, 2, true},
		{"unterminated", "{ a { b }", false, 0, 0, 0, 0, true},
		{"unterminated string", `{ a(x: "abc) }`, false, 0, 0, 0, 0, true},
		{"stray character", "{ a % }", false, 0, 0, 0, 0, true},
		{"too deep to read", strings.Repeat("{ a ", 100) + strings.Repeat("}", 100), false, 0, 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := measureDocument(tt.doc)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			t.Logf("selections %d, cost %d", c.selections, c.cost)
			if c.selections < tt.minSel || c.selections > tt.maxSel {
				t.Errorf("selections = %d, want %d..%d", c.selections, tt.minSel, tt.maxSel)
			}
			if c.cost < tt.minCost || c.cost > tt.maxCost {
				t.Errorf("cost = %d, want %d..%d", c.cost, tt.minCost, tt.maxCost)
			}
			if within := c.selections <= MaxSelections && c.cost <= MaxCost; within != tt.withinLimits {
				t.Errorf("within limits = %v, want %v", within, tt.withinLimits)
			}
		})
	}
}

// FuzzMeasureDocument: any text is read without panicking, in bounded time.
func FuzzMeasureDocument(f *testing.F) {
	for _, s := range []string{"{ a }", fragmentBomb(5), `query { a(x: "\"") { ... on T { b } ...F } } fragment F on T { c }`, `"""`, "{ a: }", "...", "{ ... on }"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		c, ok := measureDocument(doc)
		if ok && (c.selections < 0 || c.cost < 0) {
			t.Fatalf("negative figures %+v", c)
		}
	})
}
