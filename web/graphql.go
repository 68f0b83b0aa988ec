package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/resolvers"
	"shopauth/web/cost"
)

// Limits of the GraphQL endpoint.
const (
	MaxBodyBytes   = 1 << 20
	RequestTimeout = 10 * time.Second
)

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// queryTooLong answers a document longer than the schema accepts.
var queryTooLong = fmt.Sprintf("The query is longer than %d KiB.", resolvers.MaxQueryLength>>10)

// graphqlParams is a GraphQL-over-HTTP request.
type graphqlParams struct {
	Query         string
	OperationName string
	Variables     map[string]any
	// refresh holds the variables instead, when they are a refresh token's alone (POST only).
	refresh     refreshVariables
	refreshable bool
}

// variables are the request's variables as graphql-go takes them.
func (p graphqlParams) variables() map[string]any {
	if p.refreshable {
		return p.refresh.decoded(p.refresh.token)
	}
	return p.Variables
}

// GraphQLHandler serves GraphQL over HTTP (POST with a JSON body, GET for queries), following
// the GraphQL-over-HTTP spec: media type negotiation, and 400 for a request that could not be
// executed when the client asked for application/graphql-response+json. meter weighs each
// document before it runs (cost.NewMeter of the same schema); a schema without one is a
// programming error, refused here at once.
func GraphQLHandler(schema *graphql.Schema, meter *cost.Meter, opts ...GraphQLOption) http.Handler {
	if schema != nil && meter == nil {
		panic("web: a GraphQL schema needs its cost.Meter")
	}
	lim := graphQLLimits{timeout: RequestTimeout, meter: meter, workers: newWorkers()}
	for _, o := range opts {
		o(&lim)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An answer may carry tokens or a customer's data: no cache, shared or private, keeps it.
		w.Header().Set("Cache-Control", "no-store")
		media, ok := negotiate(r.Header.Values("Accept"))
		if !ok {
			writeError(w, http.StatusNotAcceptable, "Accept must allow application/json or application/graphql-response+json.", "")
			return
		}
		var p graphqlParams
		var status int
		var msg string
		switch r.Method {
		case http.MethodPost:
			p, status, msg = decodePost(w, r)
		case http.MethodGet, http.MethodHead:
			p, status, msg = decodeGet(r)
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, "Use POST (or GET for queries).", "")
			return
		}
		if status != 0 {
			writeError(w, status, msg, "")
			return
		}
		ctx, refused := r.Context(), func() bool { return false }
		if r.Method != http.MethodPost {
			ctx, refused = resolvers.QueriesOnly(ctx)
		}
		status, body := lim.execute(ctx, schema, p, media == mediaGraphQLResponse)
		if refused() {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "Only queries may be sent with GET; send a mutation with POST.", "")
			return
		}
		w.Header().Set("Content-Type", media+"; charset=utf-8")
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
		}
		w.WriteHeader(status)
		w.Write(body)
	})
}

// negotiate picks the response media type from Accept: graphql-response+json when asked for,
// application/json for application/json, */*, application/* or no Accept at all.
func negotiate(accepts []string) (string, bool) {
	if len(accepts) == 0 {
		return mediaJSON, true
	}
	json := false
	for _, header := range accepts {
		for _, part := range strings.Split(header, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
				continue
			}
			if q, ok := params["q"]; ok && (q == "0" || q == "0.0" || q == "0.00" || q == "0.000") {
				continue
			}
			switch mt {
			case mediaGraphQLResponse:
				return mediaGraphQLResponse, true
			case mediaJSON, "*/*", "application/*":
				json = true
			}
		}
	}
	return mediaJSON, json
}

func decodePost(w http.ResponseWriter, r *http.Request) (graphqlParams, int, string) {
	var p graphqlParams
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return p, http.StatusUnsupportedMediaType, "Content-Type must be application/json."
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != mediaJSON {
		return p, http.StatusUnsupportedMediaType, "Content-Type must be application/json."
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return p, http.StatusUnsupportedMediaType, "Only the utf-8 charset is supported."
	}
	body, err := readBody(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return p, http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB."
		}
		return p, http.StatusBadRequest, "The request body could not be read."
	}
	raw, ok := objectMembers(body)
	if !ok {
		if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
			return p, http.StatusBadRequest, "The request body must be a JSON object."
		}
	}
	return decodeParams(func(name string) (json.RawMessage, bool) { v, ok := raw[name]; return v, ok }, true)
}

// readBody reads a body of at most MaxBodyBytes. One whose length is declared is read into a
// buffer of that length at once (io.ReadAll starts at 512 bytes and grows, copying); the server
// ends the body at its declared length, and one cut short is an error either way.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= MaxBodyBytes {
		body := make([]byte, n)
		_, err := io.ReadFull(r.Body, body)
		return body, err
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
}

func decodeGet(r *http.Request) (graphqlParams, int, string) {
	q := r.URL.Query()
	return decodeParams(func(name string) (json.RawMessage, bool) {
		if !q.Has(name) {
			return nil, false
		}
		v := q.Get(name)
		if name == "query" || name == "operationName" {
			b, _ := json.Marshal(v)
			return b, true
		}
		return json.RawMessage(v), true
	}, false)
}

// decodeParams checks each parameter's JSON type: query a string, operationName a string or
// null, variables and extensions objects or null. Variables that hold a refresh token alone are
// kept as such when prepared (a POST): they may not need decoding at all.
func decodeParams(get func(string) (json.RawMessage, bool), prepared bool) (graphqlParams, int, string) {
	var p graphqlParams
	raw, ok := get("query")
	if !ok {
		return p, http.StatusBadRequest, "The query parameter must be a string."
	}
	if p.Query, ok = plainString(raw); !ok && (json.Unmarshal(raw, &p.Query) != nil || isNull(raw)) {
		return p, http.StatusBadRequest, "The query parameter must be a string."
	}
	if len(p.Query) > resolvers.MaxQueryLength {
		return p, http.StatusBadRequest, queryTooLong
	}
	if raw, ok := get("operationName"); ok && !isNull(raw) {
		if json.Unmarshal(raw, &p.OperationName) != nil {
			return p, http.StatusBadRequest, "The operationName parameter must be a string or null."
		}
	}
	if raw, ok := get("variables"); ok && !isNull(raw) {
		if prepared {
			p.refresh, p.refreshable = readRefreshVariables(raw)
		}
		if !p.refreshable && (json.Unmarshal(raw, &p.Variables) != nil || p.Variables == nil) {
			return p, http.StatusBadRequest, "The variables parameter must be an object or null."
		}
	}
	if raw, ok := get("extensions"); ok && !isNull(raw) {
		var ext map[string]any
		if json.Unmarshal(raw, &ext) != nil || ext == nil {
			return p, http.StatusBadRequest, "The extensions parameter must be an object or null."
		}
	}
	return p, 0, ""
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
