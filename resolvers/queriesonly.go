package resolvers

import (
	"context"
	"sync/atomic"

	"github.com/graph-gophers/graphql-go/errors"
	"github.com/graph-gophers/graphql-go/trace/noop"
)

type queriesOnlyKey struct{}

// QueriesOnly marks ctx so that a schema from NewSchema resolves no field of a mutation in it (a
// GET request: queries only). The operation's type is the one graphql-go's own parse of the
// document chose, so no other reading of the document can disagree with what would run.
// refused reports, once Exec has returned, whether the operation was a mutation and was refused.
func QueriesOnly(ctx context.Context) (_ context.Context, refused func() bool) {
	flag := new(atomic.Bool)
	return context.WithValue(ctx, queriesOnlyKey{}, flag), flag.Load
}

// mutationGuard is the schema's tracer. graphql-go asks it for each field's context just before
// the field resolves, and skips the resolver when that context is already cancelled. It refuses
// a mutation's fields in a GET, and every root field but RefreshTokens in a context from
// WithRefreshOutcome.
type mutationGuard struct{ noop.Tracer }

func (mutationGuard) TraceField(ctx context.Context, _, typeName, fieldName string, _ bool, _ map[string]any) (context.Context, func(*errors.QueryError)) {
	if o := refreshOutcome(ctx); o != nil && (typeName == "Query" || typeName == "Mutation") && !(typeName == "Mutation" && fieldName == "RefreshTokens") {
		o.others.Add(1)
		return cancelled(ctx), func(*errors.QueryError) {}
	}
	if typeName == "Mutation" {
		if refused, ok := ctx.Value(queriesOnlyKey{}).(*atomic.Bool); ok {
			refused.Store(true)
			return cancelled(ctx), func(*errors.QueryError) {}
		}
	}
	return ctx, func(*errors.QueryError) {}
}

func cancelled(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	return ctx
}
