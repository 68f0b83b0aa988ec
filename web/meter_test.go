package web_test

import (
	"testing"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/web/cost"
)

// mustMeter is the cost.Meter a handler of schema weighs documents with.
func mustMeter(t testing.TB, schema *graphql.Schema, w cost.Weights) *cost.Meter {
	t.Helper()
	m, err := cost.NewMeter(schema, w)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
