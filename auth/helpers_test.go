package auth_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/db/sqlite"
	"shopauth/internal/testkit"
)

func init() { auth.NewStoreForTest = openStore }

// openStore opens a SQLite file in t.TempDir(), closed when the test ends: the store every test of
// the package runs on, those of package auth too.
func openStore(t testing.TB) auth.Store {
	t.Helper()
	d, err := sqlite.Open(context.Background(), newDBFile(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// migrated is an empty database, migrated once per test binary. Each test's database starts as a
// copy of it, which opens in a tenth of the time that migrating takes (db/sqlite tests migrating).
var migrated = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "shopauth-auth-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "empty.db")
	d, err := sqlite.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	if err := d.Close(); err != nil { // the last connection to close checkpoints: no WAL left
		return nil, err
	}
	return os.ReadFile(path)
})

// newDBFile writes an empty, migrated database into t.TempDir() and returns its path.
func newDBFile(t testing.TB) string {
	t.Helper()
	empty, err := migrated()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(path, empty, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testEnv is a service over a real SQLite file in t.TempDir(), with a clock the test moves.
type testEnv struct {
	t    testing.TB
	cfg  auth.Config
	path string
	db   *sqlite.DB
	svc  *auth.Service
	clk  *testkit.Clock
}

// newEnv opens a fresh database and service. The clock starts a little after the wall clock (so the
// first key, made at the real time, is older) at a quarter past a second, to exercise truncation.
func newEnv(t testing.TB, configure ...func(*auth.Config)) *testEnv {
	t.Helper()
	cfg := auth.DefaultConfig()
	for _, f := range configure {
		f(&cfg)
	}
	e := &testEnv{t: t, cfg: cfg, path: newDBFile(t),
		clk: testkit.NewClock(time.Now().Add(time.Minute).Truncate(time.Second).Add(250 * time.Millisecond))}
	e.open()
	t.Cleanup(func() { e.db.Close() })
	return e
}

func (e *testEnv) open() {
	e.t.Helper()
	ctx := context.Background()
	d, err := sqlite.Open(ctx, e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	svc, err := auth.New(ctx, d, e.cfg, discardLogger())
	if err != nil {
		d.Close()
		e.t.Fatal(err)
	}
	svc.Now = e.clock
	e.db, e.svc = d, svc
}

// serviceOver is another service over the env's database and clock, built on store: a store
// that wraps e.db to fail a write or let a parallel writer in first.
func (e *testEnv) serviceOver(store auth.Store) *auth.Service {
	e.t.Helper()
	svc, err := auth.New(context.Background(), store, e.cfg, discardLogger())
	if err != nil {
		e.t.Fatal(err)
	}
	svc.Now = e.clock
	return svc
}

// restart closes the database and opens it again with a new service, as a process restart would.
func (e *testEnv) restart() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *testEnv) clock() time.Time        { return e.clk.Now() }
func (e *testEnv) setNow(t time.Time)      { e.clk.Set(t) }
func (e *testEnv) advance(d time.Duration) { e.clk.Advance(d) }

const testPassword = "correct horse battery"

// register creates a customer and returns the first session's tokens (one argon2 hash, ~70 ms).
func (e *testEnv) register(email string) auth.TokenPair {
	e.t.Helper()
	pair, err := e.svc.Register(context.Background(), auth.RegisterInput{
		FirstName: "Jan", LastName: "Novák", Email: email, Password: testPassword})
	if err != nil {
		e.t.Fatalf("register %s: %v", email, err)
	}
	return pair
}

// login starts another session (one argon2 verification).
func (e *testEnv) login(email string) auth.TokenPair {
	e.t.Helper()
	pair, err := e.svc.Login(context.Background(), email, testPassword)
	if err != nil {
		e.t.Fatalf("login %s: %v", email, err)
	}
	return pair
}

func (e *testEnv) mustAuthenticate(access string) *auth.Principal {
	e.t.Helper()
	p, err := e.svc.Authenticate(context.Background(), access)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return p
}

func (e *testEnv) mustRefresh(refresh string) auth.TokenPair {
	e.t.Helper()
	pair, err := e.svc.Refresh(context.Background(), refresh)
	if err != nil {
		e.t.Fatalf("Refresh: %v", err)
	}
	return pair
}

func (e *testEnv) customer(email string) auth.Customer {
	e.t.Helper()
	c, err := e.db.CustomerByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatalf("customer %s: %v", email, err)
	}
	return c
}

// sessions returns the customer's stored sessions, expired ones included.
func (e *testEnv) sessions(email string) []auth.Session {
	e.t.Helper()
	list, err := e.db.Sessions(context.Background(), e.customer(email).ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

// exec runs SQL on a connection of its own, for what the service offers no way to do (delete a customer).
func (e *testEnv) exec(query string, args ...any) {
	e.t.Helper()
	c, err := sql.Open("sqlite", "file:"+e.path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Exec(query, args...); err != nil {
		e.t.Fatal(err)
	}
}

// wantInvalidToken fails unless err is exactly the contract's invalid-token error.
func wantInvalidToken(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted; want invalid-token")
	}
	if code, msg := auth.ErrorCode(err), auth.ErrorMessage(err); code != auth.EInvalidToken || msg != auth.MsgInvalidToken {
		t.Fatalf("got %q / %q (%v); want %q / %q", code, msg, err, auth.EInvalidToken, auth.MsgInvalidToken)
	}
}

// reason is the logged cause of an error, for asserting which check refused a token.
func reason(err error) string {
	var e *auth.Error
	if errors.As(err, &e) && e.Err != nil {
		return e.Err.Error()
	}
	return ""
}

// jwtParts decodes a compact JWS's header and payload into maps, numbers as json.Number.
func jwtParts(t testing.TB, tok string) (header, claims map[string]any) {
	t.Helper()
	return testkit.DecodeJWT(t, tok)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// signRS256 builds a compact JWS of header and claims, signed with RSA PKCS#1 v1.5 over SHA-256.
func signRS256(key *rsa.PrivateKey, header, claims any) string {
	input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:])
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

// signHS256 builds a compact JWS MACed with secret: the algorithm-confusion attack's shape.
func signHS256(secret []byte, header, claims any) string {
	input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

// unsigned builds header.payload. with an empty signature.
func unsigned(header, claims any) string {
	return b64(mustJSON(header)) + "." + b64(mustJSON(claims)) + "."
}

// clone copies a claim set so a case can change it without touching the others.
func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func with(m map[string]any, kv ...any) map[string]any {
	out := clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func without(m map[string]any, names ...string) map[string]any {
	out := clone(m)
	for _, n := range names {
		delete(out, n)
	}
	return out
}

func rsaKey(t testing.TB, k auth.SigningKey) *rsa.PrivateKey {
	t.Helper()
	r, ok := k.Private.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("signing key is %T, want RSA", k.Private)
	}
	return r
}

func ourHeader(kid string) map[string]any {
	return map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}
}

func unix(t time.Time) int64 { return t.Unix() }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
