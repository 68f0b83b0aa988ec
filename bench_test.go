package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/auth"
	"shopauth/resolvers"
	"shopauth/web"
	"shopauth/web/cost"
)

// Benchmarks of the whole HTTP handler, as production builds it (NewMain + Open), on a temporary
// database. The bound for RefreshTokens is BenchmarkRSA2048Sign/2 (two signatures per refresh):
//
//	go test -run '^$' -bench . -benchmem -cpu 2 .
//
// cmd/loadgen measures the same over real sockets, with the server in its own process.

const benchPassword = "correct horse battery"

func benchMain(b *testing.B, alg string) *Main {
	b.Helper()
	m := newTestMain(b)
	m.Config.SigningAlgorithm = alg
	if err := m.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// gql posts one GraphQL request to h and returns the decoded data, failing on any error.
func benchGQL(tb testing.TB, h http.Handler, token, query string, vars map[string]any) map[string]json.RawMessage {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp struct {
		Data   map[string]json.RawMessage
		Errors []json.RawMessage
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &resp) != nil || len(resp.Errors) > 0 {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return resp.Data
}

type benchPair struct{ AccessToken, RefreshToken string }

func benchTokens(tb testing.TB, data map[string]json.RawMessage, field string) benchPair {
	var p benchPair
	if err := json.Unmarshal(data[field], &p); err != nil || p.RefreshToken == "" {
		tb.Fatalf("%s: %s", field, data[field])
	}
	return p
}

const (
	benchRegisterQuery = `mutation($in: RegistrationDataInput!) { Register(input: $in) { accessToken refreshToken } }`
	benchLoginQuery    = `mutation($in: LoginInput!) { Login(input: $in) { accessToken refreshToken } }`
	benchRefreshQuery  = `mutation($in: RefreshTokenInput!) { RefreshTokens(input: $in) { accessToken refreshToken } }`
	benchCurrentQuery  = `{ currentCustomerUser { uuid firstName lastName email telephone } }`
)

func benchRegister(tb testing.TB, h http.Handler, email string) benchPair {
	return benchTokens(tb, benchGQL(tb, h, "", benchRegisterQuery, map[string]any{"in": map[string]any{
		"firstName": "Jan", "lastName": "Novák", "email": email, "password": benchPassword}}), "Register")
}

// sessions logs in once per parallel goroutine, so each refreshes a chain of its own.
func benchSessions(b *testing.B, h http.Handler, email string) chan benchPair {
	n := runtime.GOMAXPROCS(0)
	c := make(chan benchPair, n)
	for range n {
		c <- benchTokens(b, benchGQL(b, h, "", benchLoginQuery, map[string]any{"in": map[string]any{
			"email": email, "password": benchPassword}}), "Login")
	}
	return c
}

// BenchmarkRefreshTokens is one RefreshTokens through the full HTTP handler, each goroutine
// presenting the refresh token it last received.
func BenchmarkRefreshTokens(b *testing.B) {
	for _, alg := range []string{auth.RS256, auth.ES256, auth.EdDSA} {
		b.Run(alg, func(b *testing.B) {
			m := benchMain(b, alg)
			benchRegister(b, m.Handler, "bench@example.com")
			chains := benchSessions(b, m.Handler, "bench@example.com")
			b.ReportAllocs()
			b.ResetTimer()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				t := <-chains
				for pb.Next() {
					t = benchTokens(b, benchGQL(b, m.Handler, "", benchRefreshQuery, map[string]any{"in": map[string]any{"refreshToken": t.RefreshToken}}), "RefreshTokens")
				}
			})
		})
	}
}

// reportCPU reports the process's CPU time (user and system, every thread) per operation from now
// until the returned function is called: steadier than ns/op on a machine shared with other work.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e3, "cpu-µs/op") }
}

func cpuTime() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkCurrentCustomerUser is one authenticated read: bearer verification, the session read
// and the GraphQL execution.
func BenchmarkCurrentCustomerUser(b *testing.B) {
	m := benchMain(b, auth.RS256)
	t := benchRegister(b, m.Handler, "bench@example.com")
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGQL(b, m.Handler, t.AccessToken, benchCurrentQuery, nil)
		}
	})
}

// BenchmarkLogin is one successful Login: its cost is the argon2id verification.
func BenchmarkLogin(b *testing.B) {
	m := benchMain(b, auth.RS256)
	benchRegister(b, m.Handler, "bench@example.com")
	vars := map[string]any{"in": map[string]any{"email": "bench@example.com", "password": benchPassword}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGQL(b, m.Handler, "", benchLoginQuery, vars)
		}
	})
}

// BenchmarkRSA2048Sign is the bound: the raw signature, on the same machine and in the same run.
func BenchmarkRSA2048Sign(b *testing.B) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("shopauth"))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:]); err != nil {
				panic(fmt.Sprint(err))
			}
		}
	})
}

// BenchmarkCurrentCustomerUserTCP is the same read over a real socket to Main.Run, with the access
// log written to a file as in production: what the load command's server process does.
func BenchmarkCurrentCustomerUserTCP(b *testing.B) {
	m := benchMain(b, auth.RS256)
	logFile, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	t := benchRegister(b, m.Handler, "bench@example.com")
	m.Log = slog.New(slog.NewTextHandler(logFile, nil))
	schema := mustSchema(b, m)
	meter, err := cost.NewMeter(schema, resolvers.ListWeights(m.Service.Config()))
	if err != nil {
		b.Fatal(err)
	}
	m.Handler = web.NewHandler(web.Config{Service: m.Service, Schema: schema, Cost: meter, Logger: m.Log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { b.StopTimer(); cancel(); <-done }() // shutdown is not part of a request
	url := m.URL() + "/graphql"
	body := []byte(`{"query":"` + benchCurrentQuery + `"}`)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+t.AccessToken)
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

func mustSchema(b *testing.B, m *Main) *graphql.Schema {
	s, err := resolvers.NewSchema(schemaSDL, m.Service, m.Log)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
