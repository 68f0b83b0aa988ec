package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzGraphQLRequest sends arbitrary bodies, content types and bearer headers to POST /graphql.
// Nothing a client sends may produce a 5xx or a panic (Recover would answer a panic with 500),
// and every answer is a JSON document.
func FuzzGraphQLRequest(f *testing.F) {
	s := newServer(f)
	for _, body := range []string{
		`{"query":"mutation { RefreshTokens(input: { refreshToken: \"eyJ...\" }) { accessToken refreshToken } }"}`,
		`{"query":"{ currentCustomerUser { uuid email } customerSessions { deviceId current } }"}`,
		`{"query":"mutation { Login(input: {email: \"a@b.cz\", password: \"x\"}) { accessToken } }"}`,
		`{"query":"mutation L($e: String!) { Login(input: {email: $e, password: \"x\"}) { accessToken } }","variables":{"e":"a@b.cz"},"operationName":"L"}`,
		`{"query":"mutation { RevokeSessions(scope: ALL) }"}`,
		`{"query":"{ __schema { types { name } } }"}`,
		`{"query":"{ a: currentCustomerUser { email } b: currentCustomerUser { email } }"}`,
		`{"query":"query { currentCustomerUser { ...F } } fragment F on CurrentCustomerUser { ...F }"}`,
		`{"query":"{","variables":[]}`,
		`{"query":null}`,
		`[]`,
		``,
	} {
		f.Add([]byte(body), "application/json", "")
	}
	f.Add([]byte(`{"query":"{ currentCustomerUser { email } }"}`), "application/json; charset=latin1", "Bearer x.y.z")
	f.Add([]byte(`{"query":"mutation { Logout }"}`), "text/plain", "Bearer ")
	f.Fuzz(func(t *testing.T, body []byte, contentType, authorization string) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
		if contentType != "" {
			r.Header["Content-Type"] = []string{contentType}
		}
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		check(t, s, r)
	})
}

// FuzzGraphQLQuery fuzzes the document and variables of well-formed requests, over POST and GET.
func FuzzGraphQLQuery(f *testing.F) {
	s := newServer(f)
	f.Add(`mutation { RefreshTokens(input: { refreshToken: "eyJ..." }) { accessToken refreshToken } }`, ``)
	f.Add(`mutation R($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken } }`, `{"t":"a.b.c"}`)
	f.Add(`mutation C($i: ChangePasswordInput!) { ChangePassword(input: $i) { email } }`, `{"i":{"email":1}}`)
	f.Add(`mutation { Register(input: {firstName: "", lastName: "", email: "x", password: ""}) { accessToken } }`, ``)
	f.Add(`{ customerSessions { deviceId createdAt lastRefreshedAt expiresAt current } }`, `null`)
	f.Add(`query Q($s: SessionScope!) { currentCustomerUser { email } }`, `{"s":"NONE"}`)
	f.Add(`mutation { RevokeSessions(scope: OTHERS) Logout }`, `{}`)
	f.Add(`{ currentCustomerUser { email } } # "unterminated`, ``)
	f.Add(`"""`, ``)
	f.Fuzz(func(t *testing.T, query, variables string) {
		params := map[string]any{"query": query}
		if json.Valid([]byte(variables)) {
			params["variables"] = json.RawMessage(variables)
		}
		body, err := json.Marshal(params)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		check(t, s, r)

		q := url.Values{"query": {query}}
		if variables != "" {
			q.Set("variables", variables)
		}
		r = httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil)
		r.Header.Set("Accept", "application/graphql-response+json")
		check(t, s, r)
	})
}

func check(t *testing.T, s *testServer, r *http.Request) {
	t.Helper()
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if w.Code >= 500 {
		t.Fatalf("%s %s: status %d: %s", r.Method, r.URL, w.Code, w.Body)
	}
	if !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%s %s: status %d, body is not JSON: %q", r.Method, r.URL, w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "Internal error.") {
		t.Fatalf("%s %s: internal error: %s", r.Method, r.URL, w.Body)
	}
}
