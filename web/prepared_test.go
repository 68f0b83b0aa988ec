package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/resolvers"
	"shopauth/web/cost"
)

// scriptedService answers Refresh with its outcome and counts the calls (any other method the
// resolvers call panics, and graphql-go answers that as an internal error, on both paths alike).
type scriptedService struct {
	resolvers.Service
	outcome func(ctx context.Context, token string) (auth.TokenPair, error)

	mu                     sync.Mutex
	refreshes, inGraphQLGo int
	logouts, customerAsked int
}

func (s *scriptedService) Refresh(ctx context.Context, token string) (auth.TokenPair, error) {
	s.mu.Lock()
	s.refreshes++
	if calledByGraphQLGo() {
		s.inGraphQLGo++
	}
	s.mu.Unlock()
	return s.outcome(ctx, token)
}

func (s *scriptedService) Logout(context.Context, *auth.Principal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logouts++
	return nil
}

func (s *scriptedService) CurrentCustomer(*auth.Principal) (auth.Customer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.customerAsked++
	return auth.Customer{}, &auth.Error{Code: auth.EInvalidToken, Message: auth.MsgInvalidToken}
}

func (s *scriptedService) counts() [4]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return [4]int{s.refreshes, s.inGraphQLGo, s.logouts, s.customerAsked}
}

// calledByGraphQLGo reports whether graphql-go's executor is on the caller's stack.
func calledByGraphQLGo() bool {
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "github.com/graph-gophers/graphql-go/internal/exec") {
			return true
		}
		if !more {
			return false
		}
	}
}

// refreshOutcomes are what a Refresh can give; each is answered by both paths alike.
var refreshOutcomes = map[string]func(ctx context.Context, token string) (auth.TokenPair, error){
	"new pair": func(_ context.Context, token string) (auth.TokenPair, error) {
		return auth.TokenPair{AccessToken: "eyJhbGciOiJFZERTQSJ9.a-" + token, RefreshToken: "eyJ.r_" + token}, nil
	},
	"token JSON escapes": func(context.Context, string) (auth.TokenPair, error) {
		return auth.TokenPair{AccessToken: "a<b>&\"c\u2028", RefreshToken: "é"}, nil
	},
	"invalid token": func(context.Context, string) (auth.TokenPair, error) {
		return auth.TokenPair{}, &auth.Error{Code: auth.EInvalidToken, Message: auth.MsgInvalidToken}
	},
	"database out of reach": func(context.Context, string) (auth.TokenPair, error) {
		return auth.TokenPair{}, fmt.Errorf("auth.Refresh: %w", auth.Unavailable(errors.New("dial tcp: refused")))
	},
	"internal": func(context.Context, string) (auth.TokenPair, error) {
		return auth.TokenPair{}, errors.New("disk on fire")
	},
	"panic": func(context.Context, string) (auth.TokenPair, error) {
		panic("refresh panicked")
	},
}

// preparedDocuments are RefreshTokens documents as storefronts send them, and documents that
// only look like them; prepared says whether the second request with it skips graphql-go.
var preparedDocuments = []struct {
	name, query, operationName, variables string
	prepared                              bool
}{
	{"whole input", `mutation($in: RefreshTokenInput!) { RefreshTokens(input: $in) { accessToken refreshToken } }`, "", `{"in":{"refreshToken":"t1"}}`, true},
	{"token variable", `mutation ($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken refreshToken } }`, "", `{"t":"t2"}`, true},
	{"named, as Shopsys's storefront", "mutation RefreshTokens($refreshToken: String!) {\n  RefreshTokens(input: { refreshToken: $refreshToken }) {\n    accessToken\n    refreshToken\n  }\n}\n", "RefreshTokens", `{"refreshToken":"t3"}`, true},
	{"a nullable variable where String! goes", `mutation($t: String) { RefreshTokens(input: {refreshToken: $t}) { refreshToken } }`, "", `{"t":"t4"}`, false},
	{"aliases and __typename", `mutation($t: String!) { x: RefreshTokens(input: {refreshToken: $t}) { __typename b: refreshToken a: accessToken a2: accessToken } }`, "", `{"t":"t5"}`, true},
	{"a fragment", `mutation($t: String!) { RefreshTokens(input: {refreshToken: $t}) { ...T } } fragment T on Token { accessToken }`, "", `{"t":"t6"}`, true},
	{"escaped token", `mutation($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken refreshToken } }`, "", `{"t":"t\u0037"}`, true},
	{"two operations, one chosen", `mutation A($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } } mutation B { Logout }`, "A", `{"t":"t8"}`, true},
	{"the other operation chosen", `mutation A($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } } mutation B($t: String!) { Logout }`, "B", `{"t":"t9"}`, false},
	{"an operation name that is not there", `mutation A($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } }`, "B", `{"t":"t10"}`, false},
	{"two refreshes", `mutation($t: String!) { a: RefreshTokens(input: {refreshToken: $t}) { accessToken } b: RefreshTokens(input: {refreshToken: $t}) { accessToken } }`, "", `{"t":"t11"}`, false},
	{"a literal beside", `mutation($t: String!) { a: RefreshTokens(input: {refreshToken: "lit"}) { accessToken } b: RefreshTokens(input: {refreshToken: $t}) { accessToken } }`, "", `{"t":"t12"}`, false},
	{"a logout beside", `mutation($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } Logout }`, "", `{"t":"t13"}`, false},
	{"a literal token", `mutation($t: String!) { RefreshTokens(input: {refreshToken: "lit"}) { accessToken } }`, "", `{"t":"t14"}`, false},
	{"a query mentioning RefreshTokens", `query($t: String!) { currentCustomerUser { email } } # RefreshTokens`, "", `{"t":"t15"}`, false},
	{"the token where no string goes", `mutation($t: Int!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } }`, "", `{"t":"t16"}`, false},
	{"an unknown field", `mutation($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken nope } }`, "", `{"t":"t17"}`, false},
	{"a variable more", `mutation($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } }`, "", `{"t":"t18","u":1}`, false},
	{"an input member more", `mutation($in: RefreshTokenInput!) { RefreshTokens(input: $in) { accessToken } }`, "", `{"in":{"refreshToken":"t19","x":1}}`, false},
	{"a number for the token", `mutation($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } }`, "", `{"t":20}`, false},
	{"a default that skips", `mutation($t: String!, $s: Boolean = true) { RefreshTokens(input: {refreshToken: $t}) { accessToken @skip(if: $s) refreshToken } }`, "", `{"t":"t21"}`, true},
	{"a subscription", `subscription($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } }`, "", `{"t":"t22"}`, false},
	{"a syntax error", `mutation($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken }`, "", `{"t":"t23"}`, false},
}

// newPreparedPair is the GraphQL handler with and without prepared documents, over one schema
// whose resolvers call svc.
func newPreparedPair(t *testing.T, svc *scriptedService, timeout time.Duration) (plain, prepared http.Handler) {
	plain, prepared, _ = newPreparedPairAndCache(t, svc, timeout)
	return plain, prepared
}

// newPreparedPairAndCache is newPreparedPair, and the prepared handler's remembered documents.
func newPreparedPairAndCache(t *testing.T, svc *scriptedService, timeout time.Duration) (plain, prepared http.Handler, cache *prepared) {
	t.Helper()
	sdl, err := os.ReadFile("../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := resolvers.NewSchema(string(sdl), svc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	meter, err := cost.NewMeter(schema, resolvers.ListWeights(auth.DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	opt := WithPreparedRefresh(svc.Refresh)
	var l graphQLLimits
	opt(&l)
	return GraphQLHandler(schema, meter, WithRequestTimeout(timeout)),
		GraphQLHandler(schema, meter, WithRequestTimeout(timeout), opt), l.prepared
}

// learnt counts the documents cache remembers, kept or not.
func (pr *prepared) learnt() int { return pr.docs.Len() }

type answer struct {
	status                  int
	contentType, retryAfter string
	body                    string
}

func ask(h http.Handler, method, query, operationName, variables, accept string) answer {
	q, _ := json.Marshal(query)
	op, _ := json.Marshal(operationName)
	body := fmt.Sprintf(`{"query":%s,"operationName":%s,"variables":%s}`, q, op, variables)
	r := httptest.NewRequest(method, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return answer{w.Code, w.Header().Get("Content-Type"), w.Header().Get("Retry-After"), w.Body.String()}
}

func TestPreparedRefreshAnswersAsGraphQLGo(t *testing.T) {
	for outcomeName, outcome := range refreshOutcomes {
		for _, doc := range preparedDocuments {
			for _, accept := range []string{"", mediaGraphQLResponse} {
				t.Run(outcomeName+"/"+doc.name+"/"+accept, func(t *testing.T) {
					svc := &scriptedService{outcome: outcome}
					plain, prepared := newPreparedPair(t, svc, RequestTimeout)
					for i := range 3 {
						c0 := svc.counts()
						want := ask(plain, http.MethodPost, doc.query, doc.operationName, doc.variables, accept)
						c1 := svc.counts()
						got := ask(prepared, http.MethodPost, doc.query, doc.operationName, doc.variables, accept)
						c2 := svc.counts()
						if got != want {
							t.Fatalf("request %d:\n prepared   %+v\n graphql-go %+v", i+1, got, want)
						}
						// The same calls of the service (refreshes, logouts, customer reads), once each.
						if p, q := [3]int{c1[0] - c0[0], c1[2] - c0[2], c1[3] - c0[3]}, [3]int{c2[0] - c1[0], c2[2] - c1[2], c2[3] - c1[3]}; p != q {
							t.Fatalf("request %d: graphql-go called %v, the prepared handler %v", i+1, p, q)
						}
						if slow := c1[0] - c0[0] - (c1[1] - c0[1]); slow != 0 {
							t.Fatalf("request %d: the plain handler refreshed outside graphql-go", i+1)
						}
						fast, wantFast := c2[0]-c1[0]-(c2[1]-c1[1]), 0
						if doc.prepared {
							wantFast = 1
						}
						if fast != wantFast {
							t.Fatalf("request %d: %d refreshes outside graphql-go, want %d", i+1, fast, wantFast)
						}
					}
				})
			}
		}
	}
}

func TestPreparedRefreshAnsweredAtTheDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	svc := &scriptedService{outcome: func(context.Context, string) (auth.TokenPair, error) {
		<-release // a refresh that outlives its request
		return auth.TokenPair{AccessToken: "a", RefreshToken: "r"}, nil
	}}
	plain, prepared := newPreparedPair(t, svc, 50*time.Millisecond)
	doc := preparedDocuments[0]
	for i := range 2 {
		want := ask(plain, http.MethodPost, doc.query, doc.operationName, doc.variables, "")
		got := ask(prepared, http.MethodPost, doc.query, doc.operationName, doc.variables, "")
		if got != want || !strings.Contains(got.body, `"userCode":"timeout"`) {
			t.Fatalf("request %d:\n prepared   %+v\n graphql-go %+v", i+1, got, want)
		}
	}
}

func TestPreparedRefreshNeverByGet(t *testing.T) {
	svc := &scriptedService{outcome: refreshOutcomes["new pair"]}
	_, prepared := newPreparedPair(t, svc, RequestTimeout)
	doc := preparedDocuments[0]
	ask(prepared, http.MethodPost, doc.query, "", doc.variables, "") // learnt
	q := url.Values{"query": {doc.query}, "variables": {doc.variables}}
	r := httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil)
	w := httptest.NewRecorder()
	prepared.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed || svc.counts()[0] != 1 {
		t.Fatalf("GET of a prepared mutation: %d %s, %d refreshes", w.Code, w.Body, svc.counts()[0])
	}
}

// FuzzPreparedRefresh checks that, for any document and variables, the prepared handler answers
// what graphql-go answers and makes the same calls of the service.
func FuzzPreparedRefresh(f *testing.F) {
	for _, doc := range preparedDocuments {
		f.Add(doc.query, doc.operationName, doc.variables, uint8(0))
	}
	names := slices.Sorted(maps.Keys(refreshOutcomes))
	f.Fuzz(func(t *testing.T, query, operationName, variables string, outcome uint8) {
		if !json.Valid([]byte(variables)) {
			return
		}
		svc := &scriptedService{outcome: refreshOutcomes[names[int(outcome)%len(names)]]}
		plain, prepared := newPreparedPair(t, svc, RequestTimeout)
		for i := range 2 {
			c0 := svc.counts()
			want := ask(plain, http.MethodPost, query, operationName, variables, "")
			c1 := svc.counts()
			got := ask(prepared, http.MethodPost, query, operationName, variables, "")
			c2 := svc.counts()
			if got != want {
				t.Fatalf("request %d:\n prepared   %+v\n graphql-go %+v", i+1, got, want)
			}
			if p, q := [3]int{c1[0] - c0[0], c1[2] - c0[2], c1[3] - c0[3]}, [3]int{c2[0] - c1[0], c2[2] - c1[2], c2[3] - c1[3]}; p != q {
				t.Fatalf("request %d: graphql-go called %v, the prepared handler %v", i+1, p, q)
			}
		}
	})
}

// What a client may make the prepared handler remember or learn is bounded: a large operation
// name or variable name is not kept (each could be a megabyte), and a document is learnt only when
// it is small (a second run of graphql-go for every new document must stay cheap).
func TestPreparedLearnsOnlySmallThings(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	aliases := ""
	for i := range preparedMaxSelections {
		aliases += fmt.Sprintf(" a%d: accessToken", i)
	}
	storefront := preparedDocuments[1].query
	for _, tc := range []struct {
		name, query, operationName, variables string
		kept                                  bool
	}{
		{"the storefront's document", storefront, "", `{"t":"t1"}`, true},
		{"a large operation name", storefront, big, `{"t":"t2"}`, false},
		{"a large variable name", strings.ReplaceAll(storefront, "$t", "$"+big), "", `{"` + big + `":"t3"}`, false},
		{"too many selections", `mutation($t: String!) { RefreshTokens(input: {refreshToken: $t}) {` + aliases + ` } }`, "", `{"t":"t4"}`, false},
		{"introspection behind a comment", `query($t: String!) { __type(name: $t) { name } a: __schema { types { name fields { name args { name } } } } } # RefreshTokens`, "", `{"t":"t5"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &scriptedService{outcome: refreshOutcomes["new pair"]}
			plain, prepared, cache := newPreparedPairAndCache(t, svc, RequestTimeout)
			for i := range 2 {
				want := ask(plain, http.MethodPost, tc.query, tc.operationName, tc.variables, "")
				if got := ask(prepared, http.MethodPost, tc.query, tc.operationName, tc.variables, ""); got != want {
					t.Fatalf("request %d:\n prepared   %+v\n graphql-go %+v", i+1, got, want)
				}
			}
			if n, want := cache.learnt(), map[bool]int{true: 1, false: 0}[tc.kept]; n != want {
				t.Fatalf("%d documents remembered, want %d", n, want)
			}
		})
	}
}

// A request whose context has ended before it runs makes no Refresh, as graphql-go calls no
// resolver then.
func TestPreparedRefreshNotCalledOnceCancelled(t *testing.T) {
	svc := &scriptedService{outcome: refreshOutcomes["new pair"]}
	plain, prepared := newPreparedPair(t, svc, RequestTimeout)
	doc := preparedDocuments[0]
	ask(prepared, http.MethodPost, doc.query, "", doc.variables, "") // learnt
	before := svc.counts()[0]
	var answers []answer
	for _, h := range []http.Handler{plain, prepared} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		body, _ := json.Marshal(map[string]any{"query": doc.query, "variables": json.RawMessage(doc.variables)})
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		answers = append(answers, answer{w.Code, w.Header().Get("Content-Type"), w.Header().Get("Retry-After"), w.Body.String()})
	}
	if answers[0] != answers[1] || !strings.Contains(answers[1].body, "cancelled") {
		t.Fatalf("prepared %+v, graphql-go %+v", answers[1], answers[0])
	}
	if n := svc.counts()[0] - before; n != 0 {
		t.Fatalf("%d refreshes for cancelled requests", n)
	}
}
