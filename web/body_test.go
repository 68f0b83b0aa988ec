package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDecodePost: what a POST body must be, and the answer to each way it is not.
func TestDecodePost(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int    // 0: decoded
		msg        string // the error's message
		query      string // the decoded query
		vars       int    // how many variables were decoded
	}{
		{"query and variables", `{"query":"{ a }","variables":{"in":{"x":1}},"operationName":null,"extensions":{}}`, 0, "", "{ a }", 1},
		{"null variables", `{"query":"{ a }","variables":null}`, 0, "", "{ a }", 0},
		{"unknown member ignored", `{"query":"{ a }","Query":7}`, 0, "", "{ a }", 0},
		{"the last of two", `{"query":"{ a }","query":"{ b }"}`, 0, "", "{ b }", 0},
		{"trailing space", "{\"query\":\"{ a }\"} \n", 0, "", "{ a }", 0},
		{"array", `[{"query":"{ a }"}]`, http.StatusBadRequest, "The request body must be a JSON object.", "", 0},
		{"null", `null`, http.StatusBadRequest, "The request body must be a JSON object.", "", 0},
		{"two objects", `{"query":"{ a }"} {}`, http.StatusBadRequest, "The request body must be a JSON object.", "", 0},
		{"a brace too many", `{"query":"{ a }"}}`, http.StatusBadRequest, "The request body must be a JSON object.", "", 0},
		{"cut short", `{"query":"{ a }"`, http.StatusBadRequest, "The request body must be a JSON object.", "", 0},
		{"no query", `{"variables":{}}`, http.StatusBadRequest, "The query parameter must be a string.", "", 0},
		{"query null", `{"query":null}`, http.StatusBadRequest, "The query parameter must be a string.", "", 0},
		{"query a number", `{"query":7}`, http.StatusBadRequest, "The query parameter must be a string.", "", 0},
		{"operationName a number", `{"query":"{ a }","operationName":1}`, http.StatusBadRequest, "The operationName parameter must be a string or null.", "", 0},
		{"variables an array", `{"query":"{ a }","variables":[]}`, http.StatusBadRequest, "The variables parameter must be an object or null.", "", 0},
		{"extensions a string", `{"query":"{ a }","extensions":"x"}`, http.StatusBadRequest, "The extensions parameter must be an object or null.", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			p, status, msg := decodePost(httptest.NewRecorder(), r)
			if status != tc.status || msg != tc.msg {
				t.Fatalf("status %d %q, want %d %q", status, msg, tc.status, tc.msg)
			}
			if status == 0 && (p.Query != tc.query || len(p.Variables) != tc.vars) {
				t.Errorf("decoded query %q and %d variables, want %q and %d", p.Query, len(p.Variables), tc.query, tc.vars)
			}
		})
	}
}

// TestDecodePostBodyLength: a body read by its declared length, or by reading to its end.
func TestDecodePostBodyLength(t *testing.T) {
	body := `{"query":"{ a }"}`
	for _, tc := range []struct {
		name     string
		declared int64
		status   int
		msg      string
	}{
		{"declared", int64(len(body)), 0, ""},
		{"not declared", -1, 0, ""},
		{"declared longer than sent", int64(len(body)) + 5, http.StatusBadRequest, "The request body could not be read."},
		{"declared over the limit", MaxBodyBytes + 1, http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := body
			if tc.declared > MaxBodyBytes {
				sent = strings.Repeat(" ", MaxBodyBytes+1)
			}
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(sent))
			r.Header.Set("Content-Type", "application/json")
			r.ContentLength = tc.declared
			p, status, msg := decodePost(httptest.NewRecorder(), r)
			if status != tc.status || msg != tc.msg || (status == 0 && p.Query != "{ a }") {
				t.Fatalf("status %d %q, query %q; want %d %q", status, msg, p.Query, tc.status, tc.msg)
			}
		})
	}
}

// BenchmarkDecodePost is a RefreshTokens request's body.
func BenchmarkDecodePost(b *testing.B) {
	body := `{"query":"mutation RefreshTokens($in: RefreshTokenInput!) { RefreshTokens(input: $in) { accessToken refreshToken } }","variables":{"in":{"refreshToken":"` + strings.Repeat("eyJhbGciOiJIUzI1NiJ9", 20) + `"}}}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if _, status, msg := decodePost(httptest.NewRecorder(), r); status != 0 {
			b.Fatal(msg)
		}
	}
}
