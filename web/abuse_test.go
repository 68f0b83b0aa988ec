package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/web"
)

// repeatAliases writes n aliased copies of field.
func repeatAliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	return b.String()
}

// TestAbuse: attacks on the GraphQL endpoint, each answered small and early.
func TestAbuse(t *testing.T) {
	s := newServer(t)
	introspection, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	pair := s.tokens(`mutation { Register(input: {firstName: "Jan", lastName: "Novák", email: "` + testEmail +
		`", password: "` + password + `"}) { accessToken refreshToken } }`)
	s.run(t, []scenario{
		{name: "GraphiQL's introspection query runs", query: string(introspection), wantStatus: 200,
			want: []string{`"data":{"__schema"`, `"name":"CustomerSession"`}, notWant: []string{`"errors"`}},
		{name: "1,210 conflicting aliases under __schema are refused before validation",
			query: "{ __schema {" + strings.Repeat(" x:description x:__typename", 605) + " } }", wantStatus: 200,
			want: []string{`"userCode":"query-too-complex"`, "more than the limit of 600"}, count: map[string]int{`"message"`: 1}},
		{name: "errors are capped at 100",
			query: "{ __schema {" + strings.Repeat(" x: description x: __typename", 250) + " } }", wantStatus: 200,
			want: []string{"more errors are not shown"}, count: map[string]int{`"message"`: 100}},
		{name: "the error cap under graphql-response+json is a 400",
			query:   "{ __schema {" + strings.Repeat(" x:description x:__typename", 605) + " } }",
			headers: []string{"Accept", "application/graphql-response+json"}, wantStatus: 400, want: []string{`"userCode":"query-too-complex"`}},
		{name: "100 aliased customerSessions of 5 fields each customerSessions are over the cost",
			query: "{" + repeatAliases(100, "customerSessions{...S}") +
				" } fragment S on CustomerSession { deviceId createdAt lastRefreshedAt expiresAt current }",
			headers: bearer(pair.AccessToken), wantStatus: 200, want: []string{`"userCode":"query-too-complex"`, "could produce about"}},
		{name: "100 aliased customerSessions are within it",
			query:   "{" + repeatAliases(100, "customerSessions { deviceId }") + " }",
			headers: bearer(pair.AccessToken), wantStatus: 200, want: []string{`"a99":[{"deviceId"`}},
		{name: "a fragment bomb is counted expanded",
			query: "{ currentCustomerUser { ...F0 } } fragment F20 on CurrentCustomerUser { email }" + func() string {
				var b strings.Builder
				for i := 19; i >= 0; i-- {
					fmt.Fprintf(&b, " fragment F%d on CurrentCustomerUser { ...F%d ... on CurrentCustomerUser { ...F%d } }", i, i+1, i+1)
				}
				return b.String()
			}(), wantStatus: 200, want: []string{`"userCode":"query-too-complex"`}},
		{name: "61 aliased ChangePassword guesses get 5 password checks",
			query:   "mutation {" + repeatAliases(61, `ChangePassword(input: {email: "`+testEmail+`", oldPassword: "guess guess", newPassword: "new password 1"}) { email }`) + " }",
			headers: bearer(pair.AccessToken), wantStatus: 200,
			count: map[string]int{`"userCode":"invalid-account-or-password"`: 5, `"userCode":"too-many-login-attempts"`: 56}},
		{name: "200 aliased Logins get 5 password checks",
			query:      "mutation {" + repeatAliases(200, `Login(input: {email: "a@b.cz", password: "x"}) { accessToken }`) + " }",
			wantStatus: 200, want: []string{"101 more errors are not shown"},
			count: map[string]int{`"userCode":"invalid-credentials"`: 5, `"userCode":"too-many-login-attempts"`: 94}},
		{name: "100 aliased Registers create at most 5 accounts",
			query: "mutation {" + func() string {
				var b strings.Builder
				for i := range 100 {
					fmt.Fprintf(&b, ` r%d:Register(input:{firstName:"A",lastName:"B",email:"r%d@shop.cz",password:"%s"}){accessToken}`, i, i, password)
				}
				return b.String()
			}() + " }", wantStatus: 200, count: map[string]int{`"userCode":"too-many-login-attempts"`: 95}},
	})
	// The guesses did not change the password.
	login(s, password)
	// Five registrations ran, the rest did not.
	for i, want := range map[int]bool{0: true, 4: true, 5: false, 99: false} {
		if _, err := s.db.CustomerByEmail(context.Background(), fmt.Sprintf("r%d@shop.cz", i)); (err == nil) != want {
			t.Errorf("r%d@shop.cz registered: %v, want %v", i, err == nil, want)
		}
	}
}

// TestRequestTimeoutEnforced: a request over its time is answered at the deadline with a JSON
// error, and what still runs sees its context cancelled.
func TestRequestTimeoutEnforced(t *testing.T) {
	stopped := make(chan error, 1)
	schema := graphql.MustParseSchema(`type Query { slow: String! }`, &slowResolver{stopped})
	h := web.GraphQLHandler(schema, mustMeter(t, schema, nil), web.WithRequestTimeout(50*time.Millisecond))
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ slow }"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"userCode":"timeout"`) || !strings.Contains(w.Body.String(), `"data":null`) {
		t.Fatalf("answer %d %s, want 200 with a timeout error", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if err := <-stopped; err != context.DeadlineExceeded {
		t.Errorf("the resolver ended with %v, want its context's deadline", err)
	}
}

type slowResolver struct{ stopped chan error }

// Slow runs until its request's context ends (or a minute, which the test would notice).
func (s *slowResolver) Slow(ctx context.Context) (string, error) {
	select {
	case <-ctx.Done():
		s.stopped <- ctx.Err()
		return "", ctx.Err()
	case <-time.After(time.Minute):
		s.stopped <- nil
		return "done", nil
	}
}

// TestAnswerSizeCapped: an answer over MaxResponseBytes is replaced by a JSON error.
func TestAnswerSizeCapped(t *testing.T) {
	schema := graphql.MustParseSchema(`type Query { big: String! }`, &bigResolver{})
	h := web.GraphQLHandler(schema, mustMeter(t, schema, nil))
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ big }"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || w.Body.Len() > 1000 || !strings.Contains(w.Body.String(), `"userCode":"response-too-large"`) {
		t.Fatalf("answer %d, %d bytes: %.300s", w.Code, w.Body.Len(), w.Body)
	}
}

type bigResolver struct{}

func (*bigResolver) Big() string { return strings.Repeat("x", web.MaxResponseBytes) }
