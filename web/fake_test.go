package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"shopauth/auth"
	"shopauth/web"
)

// fakeService is the domain as the HTTP layer sees it, without a database: "good" is the one
// valid access token, "broken" makes storage fail, "unreachable" finds the database out of reach, and pingErr is what the health check hears.
type fakeService struct {
	pingErr error
}

func (fakeService) Authenticate(_ context.Context, token string) (*auth.Principal, error) {
	switch token {
	case "good":
		return &auth.Principal{Customer: auth.Customer{Email: "jan@example.com"}, DeviceID: "d1"}, nil
	case "broken":
		return nil, &auth.Error{Code: auth.EInternal, Message: auth.MsgInternal, Err: errors.New("disk on fire")}
	case "unreachable":
		return nil, fmt.Errorf("auth.Authenticate: %w", auth.Unavailable(errors.New("dial tcp 127.0.0.1:5432: connection refused")))
	}
	return nil, &auth.Error{Code: auth.EInvalidToken, Message: auth.MsgInvalidToken}
}

func (fakeService) JWKS() auth.JWKS { return auth.JWKS{} }

func (fakeService) Config() auth.Config { return auth.DefaultConfig() }

func (f fakeService) Ping(context.Context) error { return f.pingErr }

var _ web.Service = fakeService{}

// callerEmail answers the email of the caller WithPrincipal put into the context, or "anonymous".
var callerEmail = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if p := auth.PrincipalFromContext(r.Context()); p != nil {
		fmt.Fprint(w, p.Customer.Email)
		return
	}
	fmt.Fprint(w, "anonymous")
})

func TestWithPrincipalOnAFake(t *testing.T) {
	for _, tc := range []struct {
		name, authorization string
		status              int
		body, logged        string
		retryAfter          bool
	}{
		{name: "no token", status: 200, body: "anonymous"},
		{name: "not a bearer header", authorization: "Basic good", status: 200, body: "anonymous"},
		{name: "valid token", authorization: "Bearer good", status: 200, body: "jan@example.com"},
		{name: "invalid token", authorization: "Bearer bad", status: 401,
			body: `{"errors":[{"message":"Token is not valid.","extensions":{"userCode":"invalid-token"}}]}`},
		{name: "storage fails", authorization: "Bearer broken", status: 503,
			body: `{"errors":[{"message":"Internal error.","extensions":{"userCode":"internal"}}]}`, logged: "disk on fire"},
		{name: "the database is out of reach", authorization: "Bearer unreachable", status: 503, retryAfter: true,
			body: `{"errors":[{"message":"The service is temporarily unavailable.","extensions":{"userCode":"unavailable"}}]}`, logged: "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := web.WithPrincipal(fakeService{}, slog.New(slog.NewTextHandler(&logs, nil)), callerEmail)
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			if tc.authorization != "" {
				r.Header.Set("Authorization", tc.authorization)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.body)
			}
			if got := w.Header().Get("Retry-After") != ""; got != tc.retryAfter {
				t.Errorf("Retry-After %q, want one: %v", w.Header().Get("Retry-After"), tc.retryAfter)
			}
			if !strings.Contains(logs.String(), tc.logged) || (tc.logged == "" && logs.Len() > 0) {
				t.Errorf("the configured logger got %q, want %q", logs.String(), tc.logged)
			}
		})
	}
}

func TestHealthOnAFake(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pingErr error
		status  int
		body    string
	}{
		{"storage answers", nil, 200, `{"status":"ok"}`},
		{"storage is gone", errors.New("database is closed"), 503, `{"status":"unavailable"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			web.HealthHandler(fakeService{pingErr: tc.pingErr}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.body)
			}
		})
	}
}
