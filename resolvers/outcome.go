package resolvers

import (
	"context"
	"sync/atomic"

	"shopauth/auth"
)

// A RefreshOutcome is what the RefreshTokens resolver answers in a context from
// WithRefreshOutcome, in place of calling the service: web calls the service's Refresh itself for
// a RefreshTokens document it has seen before (web/prepared.go), and has graphql-go answer from
// the outcome whenever it cannot write the answer itself (an error, a panic), or to learn the
// answer's text for a new document. graphql-go stays the one judge of what a document means.
type RefreshOutcome struct {
	token   string // the refresh token the document must pass to the resolver
	pair    auth.TokenPair
	err     error
	panicV  any
	calls   atomic.Int32 // RefreshTokens fields resolved
	matched atomic.Int32 // of them, those asked for token
	others  atomic.Int32 // root fields refused: any but Mutation.RefreshTokens
}

type refreshOutcomeKey struct{}

// WithRefreshOutcome marks ctx so that a schema from NewSchema resolves RefreshTokens to pair and
// err (or panics with panicValue, when not nil) instead of refreshing, and resolves no other root
// field, of a query or a mutation: nothing in a document run in ctx reaches the service.
func WithRefreshOutcome(ctx context.Context, token string, pair auth.TokenPair, err error, panicValue any) (context.Context, *RefreshOutcome) {
	o := &RefreshOutcome{token: token, pair: pair, err: err, panicV: panicValue}
	return context.WithValue(ctx, refreshOutcomeKey{}, o), o
}

// Confirmed reports, once Exec has returned, whether the document asked for exactly one
// RefreshTokens, with the outcome's token, and for no other root field.
func (o *RefreshOutcome) Confirmed() bool {
	return o.calls.Load() == 1 && o.matched.Load() == 1 && o.others.Load() == 0
}

func refreshOutcome(ctx context.Context) *RefreshOutcome {
	o, _ := ctx.Value(refreshOutcomeKey{}).(*RefreshOutcome)
	return o
}

// resolve is RefreshTokens in an outcome's context.
func (o *RefreshOutcome) resolve(token string) (auth.TokenPair, error) {
	o.calls.Add(1)
	if token != o.token {
		// Not the document web took it for: nothing is answered for it.
		return auth.TokenPair{}, &Error{Message: auth.MsgInvalidToken, UserCode: auth.EInvalidToken}
	}
	o.matched.Add(1)
	if o.panicV != nil {
		panic(o.panicV)
	}
	return o.pair, o.err
}
