package web_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"shopauth/auth"
	"shopauth/resolvers"
	"shopauth/web"
)

// fakeResolverService answers queries with a fixed customer and counts what it is asked:
// reads (queries) and writes (mutations), so a test can see what an operation ran.
type fakeResolverService struct{ reads, writes atomic.Int64 }

var errNoCaller = &auth.Error{Code: auth.EInvalidToken, Message: auth.MsgNotLoggedIn}

func (f *fakeResolverService) CurrentCustomer(*auth.Principal) (auth.Customer, error) {
	f.reads.Add(1)
	return auth.Customer{UUID: "0a3c6b2e-7d1f-4b8e-9c5a-2f6d8e1b4a70", Email: "jan@example.com", FirstName: "Jan", LastName: "Novák"}, nil
}

func (f *fakeResolverService) Sessions(context.Context, *auth.Principal) ([]auth.SessionInfo, error) {
	f.reads.Add(1)
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return []auth.SessionInfo{{DeviceID: "d1", CreatedAt: t, ExpiresAt: t.Add(time.Hour), Current: true}}, nil
}

func (f *fakeResolverService) Passkeys(context.Context, *auth.Principal) ([]auth.PasskeyInfo, error) {
	f.reads.Add(1)
	return []auth.PasskeyInfo{}, nil
}

func (f *fakeResolverService) write() error { f.writes.Add(1); return errNoCaller }

func (f *fakeResolverService) Login(context.Context, string, string) (auth.TokenPair, error) {
	return auth.TokenPair{}, f.write()
}
func (f *fakeResolverService) Logout(context.Context, *auth.Principal) error { return f.write() }
func (f *fakeResolverService) Refresh(context.Context, string) (auth.TokenPair, error) {
	return auth.TokenPair{}, f.write()
}
func (f *fakeResolverService) Register(context.Context, auth.RegisterInput) (auth.TokenPair, error) {
	return auth.TokenPair{}, f.write()
}
func (f *fakeResolverService) ChangePassword(context.Context, *auth.Principal, string, string, string) (auth.Customer, error) {
	return auth.Customer{}, f.write()
}
func (f *fakeResolverService) ChangePersonalData(context.Context, *auth.Principal, auth.PersonalData) (auth.Customer, error) {
	return auth.Customer{}, f.write()
}
func (f *fakeResolverService) RevokeSessions(context.Context, *auth.Principal, auth.SessionScope) (int, error) {
	return 0, f.write()
}
func (f *fakeResolverService) RequestPasswordRecovery(context.Context, string) error {
	return f.write()
}
func (f *fakeResolverService) RecoverPassword(context.Context, string, string, string) (auth.TokenPair, error) {
	return auth.TokenPair{}, f.write()
}
func (f *fakeResolverService) PasskeyRegistrationOptions(context.Context, *auth.Principal) (string, error) {
	return "", f.write()
}
func (f *fakeResolverService) RegisterPasskey(context.Context, *auth.Principal, string, *string) (auth.PasskeyInfo, error) {
	return auth.PasskeyInfo{}, f.write()
}
func (f *fakeResolverService) RemovePasskey(context.Context, *auth.Principal, string) error {
	return f.write()
}
func (f *fakeResolverService) PasskeyLoginOptions(context.Context) (string, error) {
	return "", f.write()
}
func (f *fakeResolverService) LoginWithPasskey(context.Context, string) (auth.TokenPair, error) {
	return auth.TokenPair{}, f.write()
}

func (f *fakeResolverService) SocialTypes() []string { f.reads.Add(1); return nil }
func (f *fakeResolverService) SocialIdentities(context.Context, *auth.Principal) ([]auth.SocialIdentity, error) {
	f.reads.Add(1)
	return nil, nil
}
func (f *fakeResolverService) LoginWithCredential(context.Context, auth.CredentialInput) (auth.LoginResult, error) {
	return auth.LoginResult{}, f.write()
}
func (f *fakeResolverService) LoginWithSocialCode(context.Context, string, string) (auth.LoginResult, error) {
	return auth.LoginResult{}, f.write()
}
func (f *fakeResolverService) SocialLinkURL(context.Context, *auth.Principal, string, *string) (string, error) {
	return "", f.write()
}
func (f *fakeResolverService) UnlinkSocialIdentity(context.Context, *auth.Principal, string) error {
	return f.write()
}
func (f *fakeResolverService) RequestEmailVerification(context.Context, *auth.Principal) error {
	return f.write()
}
func (f *fakeResolverService) VerifyEmail(context.Context, string, string) error { return f.write() }

// newFakeHandler is the HTTP surface over fakes only: no database.
func newFakeHandler(t testing.TB) (http.Handler, *fakeResolverService) {
	t.Helper()
	sdl, err := os.ReadFile("../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc := &fakeResolverService{}
	schema, err := resolvers.NewSchema(string(sdl), svc, log)
	if err != nil {
		t.Fatal(err)
	}
	return web.NewHandler(web.Config{Service: fakeService{}, Schema: schema,
		Cost: mustMeter(t, schema, resolvers.ListWeights(auth.DefaultConfig())), Logger: log}), svc
}

// do sends one GraphQL request by POST or GET and returns the answer and what the service was asked.
func do(h http.Handler, svc *fakeResolverService, method, query, operationName string) (w *httptest.ResponseRecorder, reads, writes int64) {
	svc.reads.Store(0)
	svc.writes.Store(0)
	var r *http.Request
	if method == http.MethodPost {
		body, _ := json.Marshal(map[string]string{"query": query, "operationName": operationName})
		r = httptest.NewRequest(method, "/graphql", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
	} else {
		q := url.Values{"query": {query}}
		if operationName != "" {
			q.Set("operationName", operationName)
		}
		r = httptest.NewRequest(method, "/graphql?"+q.Encode(), nil)
	}
	r.Header.Set("Accept", "application/json")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w, svc.reads.Load(), svc.writes.Load()
}

// GET runs queries only; graphql-go's own parse says which operation a document runs, so comments,
// strings and several operations cannot mislead it.
func TestGETRunsQueriesOnly(t *testing.T) {
	h, svc := newFakeHandler(t)
	for _, tc := range []struct {
		name, query, operationName string
		status                     int
		want                       string
	}{
		{"query", `{ currentCustomerUser { email } }`, "", 200, `"jan@example.com"`},
		{"mutation", `mutation { Logout }`, "", 405, "send a mutation with POST"},
		{"mutation of __typename only", `mutation { __typename }`, "", 405, "send a mutation with POST"},
		{"query chosen by name", `query A { currentCustomerUser { email } } mutation B { Logout }`, "A", 200, `"jan@example.com"`},
		{"mutation chosen by name", `query A { currentCustomerUser { email } } mutation B { Logout }`, "B", 405, "send a mutation with POST"},
		{"mutation behind a comment with a brace", "# {\nmutation { Logout }", "", 405, "send a mutation with POST"},
		{"query with a string that looks like a mutation", `{ currentCustomerUser { email } } # mutation { Logout }`, "", 200, `"jan@example.com"`},
		{"mutation after a block string", `"""x""" mutation { Logout }`, "", 405, "send a mutation with POST"},
		{"two anonymous operations", `{ currentCustomerUser { email } } mutation { Logout }`, "", 200, `"errors"`},
		{"unknown operation name", `mutation B { Logout }`, "C", 200, `"errors"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _, writes := do(h, svc, http.MethodGet, tc.query, tc.operationName)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("GET: %d %s, want %d with %s", w.Code, w.Body, tc.status, tc.want)
			}
			if writes != 0 {
				t.Errorf("GET ran %d mutation resolvers", writes)
			}
			if tc.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
}

// FuzzGETAndPOSTAgree: for any document, GET and POST never disagree about the operation type.
// GET never runs a mutation; it answers 405 whenever POST runs one, and otherwise exactly what
// POST answers.
func FuzzGETAndPOSTAgree(f *testing.F) {
	h, svc := newFakeHandler(f)
	for _, seed := range [][2]string{
		{`{ currentCustomerUser { email } }`, ""},
		{`mutation { Logout }`, ""},
		{`mutation { __typename }`, ""},
		{`query A { customerSessions { deviceId } } mutation B { RevokeSessions(scope: ALL) }`, "A"},
		{`query A { customerSessions { deviceId } } mutation B { RevokeSessions(scope: ALL) }`, "B"},
		{"# {\nmutation { Logout }", ""},
		{`{ currentCustomerUser { email } } # mutation { Logout }`, ""},
		{`"""x""" mutation { Logout }`, ""},
		{`fragment F on Mutation { Logout } mutation { ...F }`, ""},
		{`mutation($e: String!) { RequestPasswordRecovery(email: $e) }`, ""},
		{`subscription { currentCustomerUser { email } }`, ""},
		{`{ a: currentCustomerUser { email } b: customerSessions { current } }`, ""},
		{`{ passkeys { id } } mutation M { PasskeyLoginOptions }`, "M"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, query, operationName string) {
		if !utf8.ValidString(query) || !utf8.ValidString(operationName) {
			return // JSON and URLs would not carry the same bytes
		}
		post, postReads, postWrites := do(h, svc, http.MethodPost, query, operationName)
		get, _, getWrites := do(h, svc, http.MethodGet, query, operationName)
		switch {
		case getWrites != 0:
			t.Fatalf("GET ran %d mutation resolvers: %q", getWrites, query)
		case postWrites != 0 && get.Code != http.StatusMethodNotAllowed:
			t.Fatalf("POST ran a mutation, GET answered %d %s: %q", get.Code, get.Body, query)
		case get.Code == http.StatusMethodNotAllowed:
			if postReads != 0 {
				t.Fatalf("GET refused as a mutation what POST ran as a query: %q", query)
			}
		case get.Code != post.Code || !sameAnswer(t, get.Body.Bytes(), post.Body.Bytes()):
			t.Fatalf("GET %d %s, POST %d %s: %q", get.Code, get.Body, post.Code, post.Body, query)
		}
	})
}

// sameAnswer compares two GraphQL answers: the same data and as many errors (resolvers run in
// parallel, so errors may come in another order).
func sameAnswer(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y struct {
		Data   any
		Errors []any
	}
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x.Data, y.Data) && len(x.Errors) == len(y.Errors)
}
