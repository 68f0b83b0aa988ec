package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"shopauth/auth"
	"shopauth/resolvers"
	"shopauth/web/cost"
)

// GraphQLOption adjusts GraphQLHandler.
type GraphQLOption func(*graphQLLimits)

// WithRequestTimeout sets how long one request may run (RequestTimeout by default).
func WithRequestTimeout(d time.Duration) GraphQLOption {
	return func(l *graphQLLimits) { l.timeout = d }
}

// Limits of an answer.
const (
	// MaxErrors is how many errors an answer lists, as graphql-js stops validating after 100.
	MaxErrors = 100
	// MaxResponseBytes bounds an answer's body.
	MaxResponseBytes = 4 << 20
)

type graphQLLimits struct {
	timeout time.Duration
	meter   *cost.Meter // weighs each document against the schema
	workers *workers    // run the executions
	// prepared, when set, answers RefreshTokens documents seen before (WithPreparedRefresh).
	prepared *prepared
}

// userCodes of the answers this file gives (beyond the contract's table, so listed in docs/security.md).
const (
	codeQueryTooComplex  = "query-too-complex"
	codeTimeout          = "timeout"
	codeResponseTooLarge = "response-too-large"
)

// execute runs a decoded request within the limits and returns the status and body to send.
// Every answer is JSON; a request that runs out of time is answered at the deadline, and what is
// still running sees its context cancelled, so resolvers stop at their next storage or hash call.
func (l graphQLLimits) execute(ctx context.Context, schema *graphql.Schema, p graphqlParams, strict bool) (int, []byte) {
	notExecuted := http.StatusOK
	if strict {
		// Not executed at all: a parse, validation or variable error (spec: 400).
		notExecuted = http.StatusBadRequest
	}
	c, badValue, err := l.meter.Measure(p.Query)
	if err != nil {
		// What cannot be weighed is not run: graphql-go does not parse it either (cost.FuzzMeasure).
		return notExecuted, codedErrorBody(fmt.Sprintf("The query could not be read to weigh it (syntax error at %v), so it was not run.", err), codeQueryTooComplex, false)
	}
	if c.Selections > cost.MaxSelections {
		return notExecuted, codedErrorBody(fmt.Sprintf("The query has %d field selections (fragments counted where spread), more than the limit of %d.", c.Selections, cost.MaxSelections), codeQueryTooComplex, false)
	}
	// A document too deep gets the library's depth error instead (its breadth is bounded now).
	if c.Cost > cost.MaxCost && c.Depth <= resolvers.MaxDepth {
		return notExecuted, codedErrorBody(fmt.Sprintf("The query could produce about %d values (a list field's selection counts once per item), more than the limit of %d.", c.Cost, cost.MaxCost), codeQueryTooComplex, false)
	}
	if badValue != nil {
		// graphql-go would panic decoding it (strconv fails where its scanner did not).
		// It is answered as graphql-go answers its other syntax errors.
		body, _ := json.Marshal(&graphql.Response{Errors: []*gqlerrors.QueryError{{
			Message:   "syntax error: " + badValue.Message,
			Locations: []gqlerrors.Location{{Line: badValue.Line, Column: badValue.Column}},
		}}})
		return notExecuted, body
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	// Aliases let one request ask for many password checks: a few, and the rest are refused.
	ctx = auth.NewContextWithCheckBudget(ctx, auth.MaxPasswordChecksPerRequest)
	var resp *graphql.Response
	if doc := l.preparedDoc(schema, p, c); doc != nil {
		var body []byte
		if resp, body = l.refresh(ctx, schema, p, doc); body != nil {
			return http.StatusOK, body
		}
	} else {
		resp = l.exec(ctx, schema, p)
	}
	if resp == nil {
		if ctx.Err() == context.DeadlineExceeded {
			return http.StatusOK, codedErrorBody(fmt.Sprintf("The request ran longer than %v and was stopped.", l.timeout), codeTimeout, true)
		}
		// The client went away: nobody reads the answer.
		return http.StatusOK, codedErrorBody("The request was cancelled.", codeTimeout, true)
	}
	for _, e := range resp.Errors {
		if e.Extensions["userCode"] == auth.EUnavailable {
			// The database is out of reach: the whole answer says so, and the client may retry.
			return http.StatusServiceUnavailable, unavailableBody
		}
	}
	if len(resp.Errors) > MaxErrors {
		resp.Errors = append(resp.Errors[:MaxErrors-1:MaxErrors-1],
			&gqlerrors.QueryError{Message: fmt.Sprintf("%d more errors are not shown.", len(resp.Errors)-MaxErrors+1)})
	}
	for _, e := range resp.Errors {
		e.Message = shortMessage(e.Message)
	}
	body, err := marshalResponse(resp)
	if err != nil {
		return http.StatusOK, codedErrorBody(auth.MsgInternal, auth.EInternal, true)
	}
	if len(body) > MaxResponseBytes {
		return http.StatusOK, codedErrorBody(fmt.Sprintf("The answer is larger than %d MiB; ask for fewer fields.", MaxResponseBytes>>20), codeResponseTooLarge, true)
	}
	status := http.StatusOK
	if resp.Data == nil {
		status = notExecuted
	}
	return status, body
}

// exec runs the document on a worker; resp is nil when ctx ends first.
func (l graphQLLimits) exec(ctx context.Context, schema *graphql.Schema, p graphqlParams) *graphql.Response {
	resp, _ := onWorker(ctx, l.workers, func() (resp *graphql.Response) {
		// graphql-go recovers what panics in a resolver, but not what panics while it parses a
		// description or decodes a variable's default, and a panic here would end the process.
		defer func() {
			if v := recover(); v != nil {
				resp = &graphql.Response{Errors: []*gqlerrors.QueryError{{Message: "syntax error: the query has a description or value that cannot be decoded"}}}
			}
		}()
		return schema.Exec(ctx, p.Query, p.OperationName, p.variables())
	})
	return resp
}

// onWorker runs f on one of ws and returns what it returns; ok is false when ctx ends first (f
// still runs to its end, and what it returns is dropped).
func onWorker[T any](ctx context.Context, ws *workers, f func() T) (v T, ok bool) {
	done := make(chan T, 1)
	ws.run(func() { done <- f() })
	select {
	case v = <-done:
		return v, true
	case <-ctx.Done():
		return v, false
	}
}

// preparedDoc is the kept answer of a RefreshTokens document seen before (prepared.go), or nil.
func (l graphQLLimits) preparedDoc(schema *graphql.Schema, p graphqlParams, c cost.Figures) *preparedDoc {
	if l.prepared == nil || !p.refreshable {
		return nil
	}
	return l.prepared.lookup(schema, p, c)
}

// refresh answers a prepared document: it calls Refresh on a worker and writes the kept answer
// around the new tokens (body), or has graphql-go answer from what Refresh gave (resp). Both are
// nil when ctx ends first; Refresh is not called at all for a request whose ctx has already ended.
func (l graphQLLimits) refresh(ctx context.Context, schema *graphql.Schema, p graphqlParams, doc *preparedDoc) (*graphql.Response, []byte) {
	type outcome struct {
		pair    auth.TokenPair
		err     error
		panicV  any
		skipped bool // ctx had ended: Refresh was not called
	}
	o, ok := onWorker(ctx, l.workers, func() (o outcome) {
		defer func() { o.panicV = recover() }() // graphql-go recovers it below, as from its own resolver
		if ctx.Err() != nil {
			o.skipped = true // graphql-go calls no resolver then either
			return o
		}
		o.pair, o.err = l.prepared.refresh(ctx, p.refresh.token)
		return o
	})
	if !ok || o.skipped {
		return nil, nil
	}
	if o.err == nil && o.panicV == nil {
		if body, ok := doc.answer(o.pair); ok {
			return nil, body
		}
	}
	ctx, _ = resolvers.WithRefreshOutcome(ctx, p.refresh.token, o.pair, o.err, o.panicV)
	return l.exec(ctx, schema, p), nil
}

// RetryAfterSeconds is the Retry-After of a 503 answered while the database is out of reach.
const RetryAfterSeconds = 5

// unavailableBody is the contract's answer when the database cannot be reached.
var unavailableBody = codedErrorBody(auth.MsgUnavailable, auth.EUnavailable, false)

// MaxMessageChars bounds an error message: graphql-go quotes the client's values in its messages
// (a type error once echoed a 450 KB variable as a 4 MB message), so no message may quote more.
const MaxMessageChars = 256

// shortMessage cuts a message to MaxMessageChars characters, saying how much was left out.
func shortMessage(m string) string {
	if utf8.RuneCountInString(m) <= MaxMessageChars {
		return m
	}
	runes := []rune(m)
	return fmt.Sprintf("%s… (%d more characters not shown)", string(runes[:MaxMessageChars]), len(runes)-MaxMessageChars)
}

// codedErrorBody is a GraphQL answer with one error carrying a userCode; withData adds
// "data": null, for a request whose execution had begun.
func codedErrorBody(message, code string, withData bool) []byte {
	body, _ := json.Marshal(errorBody{Errors: []errorEntry{{Message: message, Extensions: &errorExtension{UserCode: code}}}})
	if withData {
		body = append(body[:len(body)-1], `,"data":null}`...)
	}
	return body
}
