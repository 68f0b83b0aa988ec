package cost

import (
	"strings"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
)

const weightsSDL = `
type Query { me: User!  users: [User!]!  tags: [String!]! }
type User { name: String!  friends: [User!]!  sessions: [Session!]! }
type Session { id: String! }`

var weighed = Weights{"Query.users": 10, "Query.tags": 4, "User.friends": 3, "User.sessions": 7}

func withWeights(change func(Weights)) Weights {
	w := Weights{}
	for k, v := range weighed {
		w[k] = v
	}
	change(w)
	return w
}

// TestNewMeterWantsAWeightForEveryListField: a list field without a weight, a weight naming no
// list field (a bare field name, another type's field, a scalar) and a weight below 1 are refused,
// each named.
func TestNewMeterWantsAWeightForEveryListField(t *testing.T) {
	schema := graphql.MustParseSchema(weightsSDL, nil)
	tests := []struct {
		name    string
		weights Weights
		want    []string // "" accepted
	}{
		{"every list weighed", weighed, nil},
		{"a list field without a weight", withWeights(func(w Weights) { delete(w, "User.sessions") }), []string{"the list field User.sessions has no weight"}},
		{"a list of scalars without a weight", withWeights(func(w Weights) { delete(w, "Query.tags") }), []string{"Query.tags has no weight"}},
		{"a bare field name", withWeights(func(w Weights) { w["sessions"] = 7 }), []string{"the weight of sessions names no list field"}},
		{"the field on another type", withWeights(func(w Weights) { delete(w, "User.friends"); w["Query.friends"] = 3 }),
			[]string{"User.friends has no weight", "the weight of Query.friends names no list field"}},
		{"a field that is no list", withWeights(func(w Weights) { w["User.name"] = 2 }), []string{"the weight of User.name names no list field"}},
		{"a weight of 0", withWeights(func(w Weights) { w["Query.users"] = 0 }), []string{"Query.users weighs 0"}},
		{"no weights at all", nil, []string{"Query.users has no weight", "Query.tags has no weight", "User.friends has no weight", "User.sessions has no weight"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMeter(schema, tt.weights)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to say %q", err, w)
				}
			}
		})
	}
}

// TestListsAreWeighedByTypeAndField: a list's selection counts once per item its type's field may
// hold, whichever way it is reached (fragments, inline fragments, aliases), and a list of scalars
// counts its values.
func TestListsAreWeighedByTypeAndField(t *testing.T) {
	m, err := NewMeter(graphql.MustParseSchema(weightsSDL, nil), weighed)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		doc  string
		cost int
	}{
		{"{ users { name } }", 1 + 10},
		{"{ me { name } }", 1 + 1},
		{"{ me { sessions { id } } }", 1 + (1 + 7)},
		{"{ me { friends { sessions { id } } } }", 1 + (1 + 3*(1+7))},
		{"{ users { sessions { id } } }", 1 + 10*(1+7)},
		{"{ a: users { name } b: users { name } }", 2 * (1 + 10)},
		{"{ tags }", 4},
		{"{ me { ...F } } fragment F on User { friends { name } }", 1 + (1 + 3)},
		{"{ me { ... on User { friends { name } } } }", 1 + (1 + 3)},
		{"{ me { ... { sessions { id } } } }", 1 + (1 + 7)},
		{"query { users { name } }", 1 + 10},
		{"{ nobody { users { name } } }", 1 + (1 + 1)}, // not in the schema: validation refuses it
	} {
		t.Run(tt.doc, func(t *testing.T) {
			c, _, err := m.Measure(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if c.Cost != tt.cost {
				t.Errorf("cost = %d, want %d", c.Cost, tt.cost)
			}
		})
	}
}
