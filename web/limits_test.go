package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// get sends a GraphQL document over GET.
func (s *testServer) get(query string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {query}}.Encode(), nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

// unicodeAliasAttack is one alias é and fragments that make 2 million introspection values from
// 3 KB. Before the weighing read Unicode names, it ran for seconds
// (7.2 s, 1.9 s of CPU on the test machine) and was then refused as too large an answer.
func unicodeAliasAttack() string {
	var b strings.Builder
	b.WriteString("{ é: __typename __schema { types {")
	for i := range 40 {
		fmt.Fprintf(&b, " a%d: fields { ...B }", i)
	}
	b.WriteString(" } } } fragment B on __Field {")
	for j := range 240 {
		fmt.Fprintf(&b, " b%d: name", j)
	}
	return b.String() + " }"
}

// TestCostLimitsReadEveryName: whatever graphql-go reads, the weighing reads:
// Unicode names, Go comments, spread dots apart; what it cannot read is refused, not run.
func TestCostLimitsReadEveryName(t *testing.T) {
	s := newServer(t)
	over := "{ é: __typename" + repeatAliases(601, "__typename") + " }"
	for _, tc := range []struct {
		name, query string
		get         bool
		status      int
		want        []string
	}{
		{"the Unicode alias attack", unicodeAliasAttack(), false, 200, []string{`"userCode":"query-too-complex"`, "9643 field selections"}},
		{"the same over GET", unicodeAliasAttack(), true, 200, []string{`"userCode":"query-too-complex"`}},
		{"601 selections after a Unicode alias", over, false, 200, []string{`"userCode":"query-too-complex"`, "602 field selections"}},
		{"a Unicode fragment name", "{ __schema { types { ...Č } } } fragment Č on __Type {" + repeatAliases(300, "fields { name }") + " }",
			false, 200, []string{`"userCode":"query-too-complex"`}},
		{"aliases behind a Go comment", "{ __typename /* } */" + repeatAliases(601, "__typename") + " }", false, 200, []string{`"userCode":"query-too-complex"`, "602 field selections"}},
		{"a spread written with spaces", "{ __schema { types { . . . on __Type {" + repeatAliases(300, "fields { name }") + " } } } }",
			false, 200, []string{`"userCode":"query-too-complex"`}},
		{"what cannot be read is refused, not run", "{ __typename % }", false, 200, []string{`"userCode":"query-too-complex"`, "line 1, column 14", `unexpected \"%\"`}},
		{"a Unicode alias within the limits runs", "{ é: __typename 名前: __typename }", false, 200, []string{`{"data":{"é":"Query","名前":"Query"}}`}},
		{"a description graphql-go cannot decode (it used to end the process)", `"\U00110000" query { __typename }`, false, 200,
			[]string{`"message":"syntax error: the value`, `"locations":[{"line":1,"column":1}]`}},
		{"a value graphql-go cannot decode is not an internal error", `mutation { Login(input: {email: "\U00110000", password: "x"}) { accessToken } }`, false, 200,
			[]string{`"message":"syntax error: the value`}},
		{"a variable default graphql-go cannot decode (it used to end the process)", `mutation ($e: String = "\uDE00") { Login(input: {email: $e, password: "x"}) { accessToken } }`, false, 200,
			[]string{`"message":"syntax error: the value`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w *httptest.ResponseRecorder
			if tc.get {
				w = s.get(tc.query)
			} else {
				w = s.post(tc.query)
			}
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			for _, want := range tc.want {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("answer lacks %s: %.500s", want, w.Body)
				}
			}
			if strings.Contains(w.Body.String(), "Internal error.") {
				t.Errorf("internal error: %s", w.Body)
			}
		})
	}
}

// TestNoStore: every GraphQL answer says Cache-Control: no-store: tokens,
// customer data, errors, 401s and 4xx, over GET and POST.
func TestNoStore(t *testing.T) {
	s := newServer(t)
	send := func(method, target, contentType, body string, headers ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		return w
	}
	register := `{"query":"mutation { Register(input: {firstName: \"Jan\", lastName: \"Novák\", email: \"nostore@shop.cz\", password: \"` + password + `\"}) { accessToken refreshToken } }"}`
	for _, tc := range []struct {
		name        string
		send        func() *httptest.ResponseRecorder
		status      int
		contentType string
	}{
		{"a token answer", func() *httptest.ResponseRecorder { return send("POST", "/graphql", "application/json", register) }, 200, "application/json"},
		{"a query over GET", func() *httptest.ResponseRecorder { return send("GET", "/graphql?query=%7B__typename%7D", "", "") }, 200, "application/json"},
		{"a resolver error", func() *httptest.ResponseRecorder { return s.post(whoAmI) }, 200, "application/json"},
		{"a validation error over GET, graphql-response+json", func() *httptest.ResponseRecorder {
			return send("GET", "/graphql?query=%7Bnope%7D", "", "", "Accept", "application/graphql-response+json")
		}, 400, "application/graphql-response+json"},
		{"a 401", func() *httptest.ResponseRecorder { return s.post(whoAmI, bearer("not.a.token")...) }, 401, "application/json"},
		{"bad JSON", func() *httptest.ResponseRecorder { return send("POST", "/graphql", "application/json", "{") }, 400, "application/json"},
		{"a wrong content type", func() *httptest.ResponseRecorder { return send("POST", "/graphql", "text/plain", "{}") }, 415, "application/json"},
		{"a mutation over GET", func() *httptest.ResponseRecorder {
			return send("GET", "/graphql?query=mutation%7BLogout%7D", "", "")
		}, 405, "application/json"},
		{"an unacceptable Accept", func() *httptest.ResponseRecorder {
			return send("POST", "/graphql", "application/json", `{"query":"{__typename}"}`, "Accept", "text/csv")
		}, 406, "application/json"},
		{"a query too complex", func() *httptest.ResponseRecorder { return s.post(unicodeAliasAttack()) }, 200, "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.send()
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, tc.contentType) {
				t.Errorf("Content-Type = %q, want %s", got, tc.contentType)
			}
		})
	}
}

// TestErrorMessagesQuoteLittle: a message quotes at most 256 characters of what
// the client sent: a type error once echoed a 450 KB variable as a 4 MB message.
func TestErrorMessagesQuoteLittle(t *testing.T) {
	s := newServer(t)
	big := strings.Repeat("x", 450<<10)
	login := `mutation ($i: LoginInput!) { Login(input: $i) { accessToken } }`
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"a list where a string belongs", login, map[string]any{"i": map[string]any{"email": []any{big}, "password": "x"}}},
		{"a string where an input object belongs", login, map[string]any{"i": big}},
		{"an object where a string belongs", `mutation ($e: String!) { Login(input: {email: $e, password: "x"}) { accessToken } }`, map[string]any{"e": map[string]any{"a": big}}},
		{"a long unknown field name", "{ " + strings.Repeat("y", 15<<10) + " }", nil},
		{"a syntax error at a long string", `{ __typename(x: "` + strings.Repeat("z", 15<<10) + `") % }`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.postVars(tc.query, tc.vars)
			var resp struct {
				Errors []struct{ Message string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || len(resp.Errors) == 0 {
				t.Fatalf("%d: not a GraphQL error: %.300s", w.Code, w.Body)
			}
			for _, e := range resp.Errors {
				if n := strings.Count(e.Message, "x") + strings.Count(e.Message, "y") + strings.Count(e.Message, "z"); n > 256 {
					t.Errorf("the message quotes %d characters of input: %.300s…", n, e.Message)
				}
				if n := utf8.RuneCountInString(e.Message); n > 256+len("… (1000000 more characters not shown)") {
					t.Errorf("the message has %d characters", n)
				}
			}
			if w.Body.Len() > 2048 {
				t.Errorf("the answer has %d bytes", w.Body.Len())
			}
		})
	}
}
