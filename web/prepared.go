package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/auth"
	"shopauth/internal/memo"
	"shopauth/resolvers"
	"shopauth/web/cost"
)

// A storefront refreshes with one document, again and again, and graphql-go parses, validates and
// executes it each time: about a tenth of a refresh's CPU, and it keeps no parse to reuse. So the
// first time a RefreshTokens document comes, graphql-go runs it once more with a made-up token
// pair (resolvers.WithRefreshOutcome: nothing reaches the service) and its answer is kept with
// the tokens cut out. The next request with that document, operation name and shape of variables
// calls Refresh itself and writes the kept answer around the new tokens: byte for byte what
// graphql-go writes, since graphql-go wrote it. Whatever that cannot answer (an error, a panic, a
// token with a character JSON escapes) graphql-go answers from the outcome, so every document
// means what graphql-go says it means, and the refresh happens once either way.

// WithPreparedRefresh answers RefreshTokens documents seen before by calling refresh directly. It
// must be the Refresh the schema's resolvers call.
func WithPreparedRefresh(refresh func(ctx context.Context, token string) (auth.TokenPair, error)) GraphQLOption {
	pr := &prepared{refresh: refresh, docs: memo.New[preparedKey, *preparedDoc](preparedDocs)}
	return func(l *graphQLLimits) { l.prepared = pr }
}

// The documents remembered: as many as the cost meter remembers, each key (the document, the
// operation name and the variable's name) of at most its size. Only a small document is learnt:
// the storefront's has 3 field selections, and learning one costs a second run of graphql-go,
// which a client sending a new document each time must not be able to make expensive.
const (
	preparedDocs          = 256
	preparedKeyBytes      = 4 << 10
	preparedMaxSelections = 16
	preparedMaxCost       = 64
)

type prepared struct {
	refresh func(ctx context.Context, token string) (auth.TokenPair, error)

	docs *memo.Memo[preparedKey, *preparedDoc] // nil: graphql-go did not answer it as one plain RefreshTokens
}

type preparedKey struct {
	query, operationName string
	shape                refreshShape
}

// refreshShape is where a request's variables hold the one refresh token they hold: the value of
// the member name, or that member's refreshToken (the whole RefreshTokenInput).
type refreshShape struct {
	name  string
	input bool
}

// refreshVariables are variables of a refresh shape: {"name": "token"} or
// {"name": {"refreshToken": "token"}}, and nothing else.
type refreshVariables struct {
	refreshShape
	token string
}

// readRefreshVariables recognises variables of a refresh shape, as json.Unmarshal into a
// map[string]any reads them. raw must be valid JSON (a member of a request body already checked).
func readRefreshVariables(raw json.RawMessage) (refreshVariables, bool) {
	members, ok := validMembers(raw)
	if !ok || len(members) != 1 {
		return refreshVariables{}, false
	}
	for name, value := range members {
		if token, ok := jsonString(value); ok {
			return refreshVariables{refreshShape{name: name}, token}, true
		}
		input, ok := validMembers(value)
		if !ok || len(input) != 1 {
			return refreshVariables{}, false
		}
		token, ok := jsonString(input["refreshToken"])
		return refreshVariables{refreshShape{name: name, input: true}, token}, ok
	}
	return refreshVariables{}, false
}

// jsonString is the text of a JSON string value, decoded as json.Unmarshal decodes it.
func jsonString(raw json.RawMessage) (string, bool) {
	if s, ok := plainString(raw); ok {
		return s, true
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// decoded is the variables as graphql-go takes them, with token in the shape's place.
func (v refreshVariables) decoded(token string) map[string]any {
	if v.input {
		return map[string]any{v.name: map[string]any{"refreshToken": token}}
	}
	return map[string]any{v.name: token}
}

// preparedDoc is graphql-go's answer to a document, cut at its tokens: text[0], a token, text[1],
// …; access[i] says whether the i-th token is the access token.
type preparedDoc struct {
	text   []string
	access []bool
}

// lookup returns the document's kept answer, learning it the first time. c is the document's
// weight (cost.Meter).
func (pr *prepared) lookup(schema *graphql.Schema, p graphqlParams, c cost.Figures) *preparedDoc {
	if len(p.Query)+len(p.OperationName)+len(p.refresh.name) > preparedKeyBytes ||
		c.Selections > preparedMaxSelections || c.Cost > preparedMaxCost || !strings.Contains(p.Query, "RefreshTokens") {
		return nil
	}
	key := preparedKey{p.Query, p.OperationName, p.refresh.refreshShape}
	return pr.docs.Get(key, func() *preparedDoc { return learn(schema, p) })
}

// learn has graphql-go answer the document with made-up tokens, and keeps the answer if the
// document asked for one RefreshTokens with the variables' token, for nothing else, and was
// answered without an error.
func learn(schema *graphql.Schema, p graphqlParams) *preparedDoc {
	token, access, refresh := madeUpToken(), madeUpToken(), madeUpToken()
	ctx, outcome := resolvers.WithRefreshOutcome(context.Background(), token, auth.TokenPair{AccessToken: access, RefreshToken: refresh}, nil, nil)
	resp := func() (resp *graphql.Response) {
		defer func() {
			if recover() != nil {
				resp = nil // a value graphql-go panics decoding: the usual path answers it
			}
		}()
		return schema.Exec(ctx, p.Query, p.OperationName, p.refresh.decoded(token))
	}()
	if resp == nil || !outcome.Confirmed() || len(resp.Errors) > 0 || resp.Extensions != nil || len(resp.Data) == 0 {
		return nil
	}
	body, err := marshalResponse(resp)
	if err != nil {
		return nil
	}
	doc := &preparedDoc{}
	rest := string(body)
	for {
		a, r := strings.Index(rest, access), strings.Index(rest, refresh)
		if a < 0 && r < 0 {
			break
		}
		isAccess, at, n := a >= 0 && (r < 0 || a < r), r, len(refresh)
		if isAccess {
			at, n = a, len(access)
		}
		doc.text = append(doc.text, rest[:at])
		doc.access = append(doc.access, isAccess)
		rest = rest[at+n:]
	}
	doc.text = append(doc.text, rest)
	return doc
}

// madeUpToken is 128 random bits, written as no document or answer could hold them by chance.
func madeUpToken() string {
	return "shopauth-prepared-" + rand.Text()
}

// answer writes the kept answer around pair's tokens; ok is false when a token holds a
// character that JSON escapes, or the answer would be too large: graphql-go answers those.
func (d *preparedDoc) answer(pair auth.TokenPair) (body []byte, ok bool) {
	if !plainToken(pair.AccessToken) || !plainToken(pair.RefreshToken) {
		return nil, false
	}
	n := 0
	for i, t := range d.text {
		n += len(t)
		if i < len(d.access) {
			n += len(d.token(i, pair))
		}
	}
	if n > MaxResponseBytes {
		return nil, false
	}
	body = make([]byte, 0, n)
	for i, t := range d.text {
		body = append(body, t...)
		if i < len(d.access) {
			body = append(body, d.token(i, pair)...)
		}
	}
	return body, true
}

func (d *preparedDoc) token(i int, pair auth.TokenPair) string {
	if d.access[i] {
		return pair.AccessToken
	}
	return pair.RefreshToken
}

// plainToken reports whether s is written in JSON as it is (a JWT is: base64url and dots).
func plainToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return true
}

var tokenByte = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=") {
		t[c] = true
	}
	return t
}()
