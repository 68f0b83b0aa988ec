package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/resolvers"
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
}

// GraphQLHandler serves GraphQL over HTTP (POST with a JSON body, GET for queries), following
// the GraphQL-over-HTTP spec: media type negotiation, and 400 for a request that could not be
// executed when the client asked for application/graphql-response+json.
func GraphQLHandler(schema *graphql.Schema, opts ...GraphQLOption) http.Handler {
	lim := graphQLLimits{timeout: RequestTimeout}
	for _, o := range opts {
		o(&lim)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			if status == 0 {
				if op, known := operationType(p.Query, p.OperationName); known && op != "query" {
					w.Header().Set("Allow", "POST")
					writeError(w, http.StatusMethodNotAllowed, "Only queries may be sent with GET; send a "+op+" with POST.", "")
					return
				}
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, "Use POST (or GET for queries).", "")
			return
		}
		if status != 0 {
			writeError(w, status, msg, "")
			return
		}
		status, body := lim.execute(r.Context(), schema, p, media == mediaGraphQLResponse)
		w.Header().Set("Content-Type", media+"; charset=utf-8")
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return p, http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB."
		}
		return p, http.StatusBadRequest, "The request body could not be read."
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil || dec.More() {
		return p, http.StatusBadRequest, "The request body must be a JSON object."
	}
	return decodeParams(func(name string) (json.RawMessage, bool) { v, ok := raw[name]; return v, ok })
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
	})
}

// decodeParams checks each parameter's JSON type: query a string, operationName a string or
// null, variables and extensions objects or null.
func decodeParams(get func(string) (json.RawMessage, bool)) (graphqlParams, int, string) {
	var p graphqlParams
	raw, ok := get("query")
	if !ok || json.Unmarshal(raw, &p.Query) != nil || isNull(raw) {
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
		if json.Unmarshal(raw, &p.Variables) != nil || p.Variables == nil {
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

// operationType finds the type (query, mutation, subscription) of the operation a document would
// run, with a small scanner that skips comments and strings. known is false when the document is
// not well formed enough to tell; execution then reports the real error.
func operationType(doc, operationName string) (op string, known bool) {
	type found struct{ op, name string }
	var ops []found
	depth, parens := 0, 0
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '#':
			for i < len(doc) && doc[i] != '\n' && doc[i] != '\r' {
				i++
			}
		case c == '"':
			if strings.HasPrefix(doc[i:], `"""`) {
				end := strings.Index(doc[i+3:], `"""`)
				if end < 0 {
					return "", false
				}
				i += 3 + end + 3
				continue
			}
			i++
			for i < len(doc) && doc[i] != '"' && doc[i] != '\n' {
				if doc[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case c == '(':
			parens++
			i++
		case c == ')':
			parens--
			i++
		case parens > 0:
			i++
		case c == '{':
			if depth == 0 && (len(ops) == 0 || ops[len(ops)-1].op != "pending") {
				ops = append(ops, found{op: "query"})
			} else if depth == 0 {
				ops[len(ops)-1].op = ops[len(ops)-1].name
			}
			depth++
			i++
		case c == '}':
			depth--
			i++
		case depth == 0 && isNameStart(c):
			j := i
			for j < len(doc) && isNameChar(doc[j]) {
				j++
			}
			word := doc[i:j]
			i = j
			switch word {
			case "query", "mutation", "subscription", "fragment":
				// The operation's type waits in name until its selection set opens.
				ops = append(ops, found{op: "pending", name: word})
				// An operation name may follow.
				k := i
				for k < len(doc) && (doc[k] == ' ' || doc[k] == '\t' || doc[k] == '\n' || doc[k] == '\r' || doc[k] == ',') {
					k++
				}
				m := k
				for m < len(doc) && isNameChar(doc[m]) {
					m++
				}
				if m > k {
					ops[len(ops)-1] = found{op: "pending", name: word + " " + doc[k:m]}
					i = m
				}
			}
		default:
			i++
		}
	}
	var candidates []found
	for _, f := range ops {
		kind, name, _ := strings.Cut(f.op, " ")
		if f.op == "pending" {
			return "", false
		}
		if kind == "fragment" {
			continue
		}
		candidates = append(candidates, found{op: kind, name: name})
	}
	if operationName == "" {
		if len(candidates) == 1 {
			return candidates[0].op, true
		}
		return "", false
	}
	for _, f := range candidates {
		if f.name == operationName {
			return f.op, true
		}
	}
	return "", false
}

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || ('0' <= c && c <= '9') }
