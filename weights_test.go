package main

import (
	"fmt"
	"strings"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/auth"
	"shopauth/resolvers"
	"shopauth/web/cost"
)

// TestEveryListFieldIsWeighed: every list field of schema.graphql and admin.graphql has a weight
// from the configuration (resolvers.ListWeights, AdminListWeights), keyed by type and field, and
// a list field added to either schema without one fails here (and at start-up).
func TestEveryListFieldIsWeighed(t *testing.T) {
	cfg := auth.DefaultConfig()
	for _, tt := range []struct {
		name    string
		sdl     string
		weights map[string]int
	}{
		{"schema.graphql", schemaSDL, resolvers.ListWeights(cfg)},
		{"admin.graphql", adminSDL, resolvers.AdminListWeights(cfg, resolvers.AdminInfo{})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parse := func(sdl string) *graphql.Schema {
				return graphql.MustParseSchema(sdl, nil, graphql.UseStringDescriptions())
			}
			if _, err := cost.NewMeter(parse(tt.sdl), tt.weights); err != nil {
				t.Fatal(err)
			}
			// The same schema with one more list field, as the next feature might add it.
			added := strings.Replace(tt.sdl, "type Query {", "type Query {\n  newList: [String!]!", 1)
			if added == tt.sdl {
				t.Fatal("no type Query to add a field to")
			}
			if _, err := cost.NewMeter(parse(added), tt.weights); err == nil || !strings.Contains(err.Error(), "Query.newList has no weight") {
				t.Errorf("a list field without a weight: err = %v", err)
			}
		})
	}
}

// TestListWeightsFollowTheConfiguration: customerSessions weighs --sessions-per-customer. 100
// aliased customerSessions cost 100 × (1 + 100) under the default, within the limit, and
// 100 × (1 + 500) with 500 sessions per customer, which is refused before it runs.
func TestListWeightsFollowTheConfiguration(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		fmt.Fprintf(&b, " s%d: customerSessions { deviceId }", i)
	}
	b.WriteString(" }")
	for _, tt := range []struct {
		sessions    int
		tooComplex  bool
		wantMessage string
	}{
		{100, false, ""},
		{500, true, "about 50100 values"},
	} {
		t.Run(fmt.Sprint(tt.sessions), func(t *testing.T) {
			m := startServer(t, func(m *Main) { m.Config.SessionsPerCustomer = tt.sessions })
			r := gql(t, m.URL(), b.String(), nil, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("answered without errors: %s", r.Raw)
			}
			code, _ := r.Errors[0].Extensions["userCode"].(string)
			if (code == "query-too-complex") != tt.tooComplex || !strings.Contains(r.Errors[0].Message, tt.wantMessage) {
				t.Errorf("answer %s; want too complex %v", r.Raw, tt.tooComplex)
			}
		})
	}
}
