package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"shopauth/internal/testkit"
)

// The operator's side of the server: exit codes, environment, shutdown, throttling, metrics, demo.

// runArgs runs the command line as main does and returns the exit status and what it printed.
func runArgs(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestServeCommandLineMistakes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never.db")
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"unknown flag", nil, []string{"--bogus"}, 2, []string{"flag provided but not defined: -bogus", "see shopauth serve --help"}},
		{"unknown flag after serve", nil, []string{"serve", "--bogus"}, 2, []string{"-bogus", "see shopauth serve --help"}},
		{"issuer not a URL", nil, []string{"--issuer", "not-a-url"}, 2,
			[]string{`issuer "not-a-url" must be an absolute http(s) URL`}},
		{"issuer without scheme", nil, []string{"--issuer", "shop.example.com"}, 2, []string{"must be an absolute http(s) URL"}},
		{"issuer from the environment", map[string]string{"SHOPAUTH_ISSUER": "ftp://x"}, nil, 2, []string{`issuer "ftp://x"`}},
		{"bad duration", nil, []string{"--access-ttl", "banana"}, 2, []string{`invalid value "banana" for flag -access-ttl`, "see shopauth serve --help"}},
		{"bad duration from the environment", map[string]string{"SHOPAUTH_ACCESS_TTL": "banana"}, nil, 2,
			[]string{`shopauth serve: invalid value "banana" for SHOPAUTH_ACCESS_TTL (--access-ttl)`, "see shopauth serve --help"}},
		{"bad number from the environment", map[string]string{"SHOPAUTH_LOGIN_FAILURES_PER_EMAIL": "lots"}, nil, 2,
			[]string{`invalid value "lots" for SHOPAUTH_LOGIN_FAILURES_PER_EMAIL (--login-failures-per-email)`}},
		{"bad list from the environment", map[string]string{"SHOPAUTH_TRUSTED_PROXIES": "nonsense"}, nil, 2,
			[]string{`invalid value "nonsense" for SHOPAUTH_TRUSTED_PROXIES (--trusted-proxies)`, "is not a CIDR"}},
		{"negative lifetime", nil, []string{"--access-ttl", "-1s"}, 2, []string{"access token lifetime must be positive"}},
		{"leeway over a minute", nil, []string{"--clock-leeway", "2m"}, 2, []string{"clock leeway"}},
		{"unknown algorithm", nil, []string{"--signing-alg", "HS256"}, 2, []string{`"HS256"`}},
		{"stray argument", nil, []string{"serve", "now"}, 2, []string{`unexpected argument "now"`}},
		{"unknown command", nil, []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`, "see shopauth help"}},
		{"serve help", nil, []string{"serve", "--help"}, 0, []string{"Usage: shopauth [serve]", "SHOPAUTH_ACCESS_TTL", "-refresh-ttl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SHOPAUTH_DB", db) // never touch a shopauth.db in the source tree
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := runArgs(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if code == 2 && strings.Contains(stderr, "Flags:") {
				t.Errorf("a mistake printed the whole usage, burying the message:\n%s", stderr)
			}
			out, name := stderr, "stderr"
			if tt.wantCode == 0 { // asked-for help goes to stdout
				out, name = stdout, "stdout"
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(out, want) {
					t.Errorf("%s lacks %q:\n%s", name, want, out)
				}
			}
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a rejected command line created the database")
	}
}

// serveArgs runs `shopauth` with args until the returned stop is called, and returns its URL.
func serveArgs(t *testing.T, args ...string) (url string, stdout *lockedBuffer, stop func() int) {
	t.Helper()
	return serveArgsLog(t, io.Discard, args...)
}

// serveArgsLog is serveArgs with the server's standard error (its log) going to stderr.
func serveArgsLog(t *testing.T, stderr io.Writer, args ...string) (url string, stdout *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stdout = &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		code := run(ctx, args, strings.NewReader(""), pw, stderr)
		pw.Close()
		done <- code
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			stdout.WriteString(sc.Text() + "\n")
			if u, ok := strings.CutPrefix(sc.Text(), "shopauth listening on "); ok {
				urlc <- strings.Fields(u)[0]
			}
		}
		close(urlc)
	}()
	var code int
	stop = sync.OnceValue(func() int {
		cancel()
		code = <-done
		return code
	})
	t.Cleanup(func() { stop() })
	select {
	case url, ok := <-urlc:
		if !ok {
			t.Fatalf("the server did not start: exit %d", stop())
		}
		return url, stdout, stop
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start in 20 s")
	}
	return "", nil, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("SHOPAUTH_ACCESS_TTL", "30m")
	t.Setenv("SHOPAUTH_REFRESH_TTL", "48h")
	t.Setenv("SHOPAUTH_ISSUER", "https://shop.example.com")
	t.Setenv("SHOPAUTH_MAIL_LOG", "true")
	t.Setenv("SHOPAUTH_ADDR", "127.0.0.1:0")
	t.Setenv("SHOPAUTH_DB", filepath.Join(t.TempDir(), "shop.db"))
	// A flag wins over its variable.
	url, _, stop := serveArgs(t, "--refresh-ttl", "72h")
	pair := register(t, url, "env@example.com", "correct horse")
	_, access := decode(t, pair.AccessToken)
	_, refresh := decode(t, pair.RefreshToken)
	lifetime := func(c map[string]any) int64 {
		exp, _ := c["exp"].(json.Number).Int64()
		iat, _ := c["iat"].(json.Number).Int64()
		return exp - iat
	}
	if got := lifetime(access); got != 1800 {
		t.Errorf("access exp-iat = %d, want 1800 (SHOPAUTH_ACCESS_TTL=30m)", got)
	}
	if got := lifetime(refresh); got != 72*3600 {
		t.Errorf("refresh exp-iat = %d, want %d (--refresh-ttl 72h over SHOPAUTH_REFRESH_TTL=48h)", got, 72*3600)
	}
	if access["iss"] != "https://shop.example.com" {
		t.Errorf("iss = %v, want SHOPAUTH_ISSUER", access["iss"])
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d after the context ended, want 0", code)
	}
}

// TestGracefulShutdown holds requests inside the handler, ends the server's context and checks
// that the listener closes at once, the held requests still get their answer, and the database
// is checkpointed and closed (no WAL left).
func TestGracefulShutdown(t *testing.T) {
	m := newTestMain(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	const held = 3
	started, release := make(chan struct{}, held), make(chan struct{})
	inner := m.Handler
	m.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hold") != "" {
			started <- struct{}{}
			<-release
		}
		inner.ServeHTTP(w, r)
	})
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	url := m.URL()
	register(t, url, "slow@example.com", "correct horse")

	type result struct {
		status int
		body   string
		err    error
	}
	results := make(chan result, held)
	for range held {
		go func() {
			body, _ := json.Marshal(map[string]any{
				"query":     `mutation ($e: String!, $p: Password!) { Login(input: {email: $e, password: $p}) { accessToken refreshToken } }`,
				"variables": map[string]any{"e": "slow@example.com", "p": "correct horse"}})
			req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hold", "1")
			res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			results <- result{status: res.StatusCode, body: string(b)}
		}()
	}
	for range held {
		<-started
	}
	cancel() // what SIGINT/SIGTERM do through signal.NotifyContext

	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", m.Listener.Addr().String(), time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Error("new connections were still accepted 5 s after shutdown began")
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while requests were in flight", err)
	default:
	}

	close(release)
	for range held {
		r := <-results
		if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"accessToken":"ey`) {
			t.Errorf("request in flight at shutdown: %v %d %s", r.err, r.status, r.body)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the requests finished")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if fi, err := os.Stat(m.DBPath + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL still holds %d bytes after Close: not checkpointed", fi.Size())
	}
}

func TestGracefulShutdownIsBounded(t *testing.T) {
	m := newTestMain(t)
	m.ShutdownTimeout = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	stuck, started := make(chan struct{}), make(chan struct{})
	defer close(stuck)
	m.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-stuck
	})
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	go http.Get(m.URL() + "/healthz")
	<-started
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Run returned nil although a request was cut off")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a stuck request held the shutdown past its bound")
	}
}

func TestLoginThrottling(t *testing.T) {
	m := startServer(t, nil)
	url := m.URL()
	for _, e := range []string{"anna@example.com", "bert@example.com", "cyril@example.com"} {
		register(t, url, e, "correct horse")
	}

	// Four failures, then the right password: a successful login is not slowed or refused.
	for range 4 {
		login(t, url, "anna@example.com", "wrong horse").WantError(t, 200, "Log in failed.", "invalid-credentials")
	}
	login(t, url, "anna@example.com", "correct horse").Token(t, "Login")
	// The fifth failure spends the email's budget: the sixth attempt is refused, right password or not.
	login(t, url, "anna@example.com", "wrong horse").WantError(t, 200, "Log in failed.", "invalid-credentials")
	login(t, url, "anna@example.com", "correct horse").WantError(t, 200, "Too many login attempts. Try again later.", "too-many-login-attempts")
	login(t, url, "ANNA@example.com ", "correct horse").WantError(t, 200, "Too many login attempts. Try again later.", "too-many-login-attempts")
	// Another email from the same IP is not locked.
	login(t, url, "bert@example.com", "correct horse").Token(t, "Login")

	// Batched: six aliased Logins in one request count one by one.
	var q strings.Builder
	q.WriteString("mutation {")
	for i := range 6 {
		q.WriteString(" l" + string(rune('0'+i)) + `: Login(input: {email: "cyril@example.com", password: "wrong horse"}) { accessToken }`)
	}
	q.WriteString(" }")
	r := gql(t, url, q.String(), nil, nil)
	codes := map[string]int{}
	for _, e := range r.Errors {
		codes[e.Extensions["userCode"].(string)]++
	}
	if codes["invalid-credentials"] != 5 || codes["too-many-login-attempts"] != 1 {
		t.Errorf("six batched failures: want 5 invalid-credentials and 1 too-many-login-attempts, got %v\n%s", codes, r.Raw)
	}

}

func TestLoginThrottlingPerIP(t *testing.T) {
	m := startServer(t, func(m *Main) { m.Config.LoginFailuresPerIP = 3 })
	url := m.URL()
	register(t, url, "dana@example.com", "correct horse")
	// The IP's budget spans emails, known or not.
	for _, e := range []string{"x@example.com", "y@example.com", "dana@example.com"} {
		login(t, url, e, "wrong horse").WantError(t, 200, "Log in failed.", "invalid-credentials")
	}
	login(t, url, "dana@example.com", "correct horse").WantError(t, 200, "Too many login attempts. Try again later.", "too-many-login-attempts")
}

func TestMetricsEndpoint(t *testing.T) {
	m := startServer(t, func(m *Main) { m.Metrics = true })
	url := m.URL()
	pair := register(t, url, "metrics@example.com", "correct horse")
	login(t, url, "metrics@example.com", "correct horse").Token(t, "Login")
	login(t, url, "metrics@example.com", "wrong horse")
	next := refresh(t, url, pair.RefreshToken).Token(t, "RefreshTokens")
	refresh(t, url, pair.RefreshToken).Token(t, "RefreshTokens") // grace
	refresh(t, url, "not-a-token")
	_ = next

	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`shopauth_logins_total{result="ok"} 1`,
		`shopauth_logins_total{result="failed"} 1`,
		`shopauth_refreshes_total{result="ok"} 1`,
		`shopauth_refreshes_total{result="grace"} 1`,
		`shopauth_refreshes_total{result="invalid"} 1`,
		`shopauth_open_sessions 2`,
		`shopauth_http_request_duration_seconds_count{code="200",route="/graphql"} 6`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	off := startServer(t, nil)
	res, err = http.Get(off.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics without --metrics: %d, want 404", res.StatusCode)
	}
}

func TestDemo(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	demoLine := regexp.MustCompile(`(?m)^demo customer: demo@shopauth\.local (\S+)$`)
	var passwords []string
	for range 2 { // the second start finds the customer and prints the same password
		// A fixed issuer: the default one would name another picked port on each start, which the
		// database refuses as a changed issuer.
		url, out, stop := serveArgs(t, "--demo", "--addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:8000", "--db", dbPath)
		if n := strings.Count(out.String(), "demo customer:"); n != 1 {
			t.Fatalf("%d demo lines, want 1:\n%s", n, out)
		}
		mm := demoLine.FindStringSubmatch(out.String())
		if mm == nil {
			t.Fatalf("no `demo customer: EMAIL PASSWORD` line:\n%s", out)
		}
		if !strings.Contains(out.String(), "GraphiQL: "+url+"/\n") {
			t.Errorf("no GraphiQL URL line:\n%s", out)
		}
		login(t, url, "demo@shopauth.local", mm[1]).Token(t, "Login")
		passwords = append(passwords, mm[1])
		if code := stop(); code != 0 {
			t.Fatalf("exit %d", code)
		}
	}
	if passwords[0] != passwords[1] {
		t.Errorf("the second --demo start printed another password: %q, %q", passwords[0], passwords[1])
	}
}

// TestServeSaysItStopped: the last line a server logs says it stopped, so a log read after a
// restart tells a clean stop from a crash.
func TestServeSaysItStopped(t *testing.T) {
	var logs testkit.LogBuffer
	_, _, stop := serveArgsLog(t, &logs, "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "shop.db"))
	if code := stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, logs.String())
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "level=INFO msg=stopped") {
		t.Errorf("the last log line is %q, want msg=stopped", last)
	}
}
