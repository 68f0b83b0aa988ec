package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"shopauth/auth"
	"shopauth/resolvers"
)

// GraphQLOption adjusts GraphQLHandler.
type GraphQLOption func(*graphQLLimits)

// WithRequestTimeout sets how long one request may run (RequestTimeout by default).
func WithRequestTimeout(d time.Duration) GraphQLOption {
	return func(l *graphQLLimits) { l.timeout = d }
}

type graphQLLimits struct {
	timeout time.Duration
}

// userCodes of the answers this file gives (beyond the contract's table, so listed in the README).
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
	if c, ok := measureDocument(p.Query); ok {
		if c.selections > MaxSelections {
			return notExecuted, codedErrorBody(fmt.Sprintf("The query has %d field selections (fragments counted where spread), more than the limit of %d.", c.selections, MaxSelections), codeQueryTooComplex, false)
		}
		// A document too deep gets the library's depth error instead (its breadth is bounded now).
		if c.cost > MaxCost && c.depth <= resolvers.MaxDepth {
			return notExecuted, codedErrorBody(fmt.Sprintf("The query could produce about %d values (a list field's selection counts once per item), more than the limit of %d.", c.cost, MaxCost), codeQueryTooComplex, false)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	// Aliases let one request ask for many password checks: a few, and the rest are refused.
	ctx = auth.NewContextWithCheckBudget(ctx, auth.MaxPasswordChecksPerRequest)
	done := make(chan *graphql.Response, 1)
	go func() { done <- schema.Exec(ctx, p.Query, p.OperationName, p.Variables) }()
	var resp *graphql.Response
	select {
	case resp = <-done:
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return http.StatusOK, codedErrorBody(fmt.Sprintf("The request ran longer than %v and was stopped.", l.timeout), codeTimeout, true)
		}
		// The client went away: nobody reads the answer.
		return http.StatusOK, codedErrorBody("The request was cancelled.", codeTimeout, true)
	}
	if len(resp.Errors) > MaxErrors {
		resp.Errors = append(resp.Errors[:MaxErrors-1:MaxErrors-1],
			&gqlerrors.QueryError{Message: fmt.Sprintf("%d more errors are not shown.", len(resp.Errors)-MaxErrors+1)})
	}
	body, err := json.Marshal(resp)
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

// codedErrorBody is a GraphQL answer with one error carrying a userCode; withData adds
// "data": null, for a request whose execution had begun.
func codedErrorBody(message, code string, withData bool) []byte {
	body, _ := json.Marshal(errorBody{Errors: []errorEntry{{Message: message, Extensions: &errorExtension{UserCode: code}}}})
	if withData {
		body = append(body[:len(body)-1], `,"data":null}`...)
	}
	return body
}
