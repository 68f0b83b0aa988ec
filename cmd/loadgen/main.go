// Command loadgen measures how many tokens shopauth hands out on this machine. It builds the real
// server binary, starts it on a temporary database, registers customers over GraphQL and drives
// concurrent clients for a fixed time:
//
//   - refresh: each client refreshes its own chain in a loop with the refresh token it last received;
//   - read: each client asks for currentCustomerUser with its access token;
//   - floor: the same requests against a bare net/http handler that answers a constant JSON body
//     (the HTTP floor of this machine, in its own process like the server);
//   - login: each client logs in again and again (the cost is the argon2id hash).
//
// It also measures raw RSA-2048 signatures per second on all cores, in the same run, so that the
// refresh rate can be stated as a ratio of its bound (one RSA signature per refresh: the access
// token's; the refresh token is HS256), and the floor, so that the other rates read as ratios. It prints
// requests/s, p50/p99 latency, errors, the server's CPU per request and its peak RSS (VmHWM, reset
// before each phase through /proc/PID/clear_refs).
//
//	go run ./cmd/loadgen                                     # RS256, ES256, EdDSA; 32 clients, 10 s each
//	go run ./cmd/loadgen -prefill-customers 200000 -prefill-sessions 1000000   # and RS256 again on a big database
//	go run ./cmd/loadgen -prune 1000000                      # and refresh while the server prunes a million sessions (prune.go)
//	go run ./cmd/loadgen -db sqlite,postgres,postgres2 -pg-url postgres://…  # SQLite against PostgreSQL (dbcompare.go),
//	                                                         # with -prefill-… and -prune on each store
//	go run ./cmd/loadgen -pocketbase ~/go/bin/base           # and the same loads on a PocketBase you built (pocketbase.go)
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"shopauth/db"
	"shopauth/db/schema"
)

type options struct {
	bin              string
	clients          int
	duration         time.Duration
	algs             []string
	phases           map[string]bool
	prefillCustomers int
	prefillSessions  int
	prune            int
	keep             bool
	pocketbase       string // a PocketBase binary to run the same loads against (pocketbase.go)

	// sigsAfter is the RSA bound measured again right after the first refresh phase.
	sigsAfter float64
}

func main() {
	var o options
	var algs, phases, floor string
	flag.StringVar(&o.bin, "bin", "", "shopauth binary to run (default: build it from this module with go build)")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each phase drives load")
	flag.StringVar(&algs, "algs", "RS256,ES256,EdDSA", "signing algorithms to measure refresh with (each on a fresh server)")
	flag.StringVar(&phases, "phases", "refresh,read,floor,login", "phases to run; read, floor and login run with the first algorithm only")
	flag.IntVar(&o.prefillCustomers, "prefill-customers", 0, "if set, refresh again with the first algorithm on a database prefilled with this many customers (with -db: on each store)")
	flag.IntVar(&o.prefillSessions, "prefill-sessions", 0, "sessions in that prefilled database (spread over its customers)")
	flag.IntVar(&o.prune, "prune", 0, "if set, refresh again (first algorithm) on a database holding this many expired sessions until the server's first prune (a minute after it starts) has deleted them, comparing the refresh latency during the prune with before it")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (databases, server logs)")
	flag.StringVar(&o.pocketbase, "pocketbase", "", "also run refresh, read and login against this PocketBase `binary` (one you built; see pocketbase.go), for ratios to it")
	flag.StringVar(&floor, "floor-server", "", "internal: serve the constant JSON floor handler on this address")
	cpuProfile := flag.String("cpuprofile", "", "write the load generator's own CPU profile to `file`")
	dbs := flag.String("db", "", "compare stores instead: refresh, read and login on `list` of sqlite, postgres (one server process), postgres2 (two on one database)")
	pgURL := flag.String("pg-url", os.Getenv("SHOPAUTH_TEST_POSTGRES"), "PostgreSQL `URL` of a user who may create databases, for -db postgres (default $SHOPAUTH_TEST_POSTGRES)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if floor != "" {
		serveFloor(floor)
		return
	}
	o.algs = strings.Split(algs, ",")
	o.phases = map[string]bool{}
	for _, p := range strings.Split(phases, ",") {
		o.phases[strings.TrimSpace(p)] = true
	}
	if o.prefillSessions > 0 && o.prefillCustomers == 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -prefill-sessions needs -prefill-customers")
		os.Exit(2)
	}
	if *dbs != "" {
		targets, err := parseDBTargets(*dbs)
		if err == nil {
			err = runDBComparison(o, targets, *pgURL)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(o); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// result is one phase's measurement.
type result struct {
	name, alg     string
	clients       int
	requests      int
	errors        int
	elapsed       time.Duration
	p50, p99      time.Duration
	peakRSS       int64         // bytes, VmHWM of the server during the phase
	cpuPerRequest time.Duration // server user+system CPU per request
	clientCPU     time.Duration // this load generator's CPU per request
	firstError    string
}

func (r result) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func run(o options) error {
	dir, err := os.MkdirTemp("", "shopauth-loadgen-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("working directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if o.bin == "" {
		o.bin = filepath.Join(dir, "shopauth")
		if err := buildServer(o.bin); err != nil {
			return err
		}
	}
	load1 := loadAverage()
	fmt.Printf("machine: %d CPUs, GOMAXPROCS %d, load average %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), load1)

	// The bound is measured twice, just before and just after the first refresh phase, and
	// averaged: other work on the machine comes and goes, and the refresh phase sits between.
	sigsBefore := rsaSignaturesPerSecond(5 * time.Second)
	fmt.Printf("raw RSA-2048 signatures: %.0f/s on %d cores\n", sigsBefore, runtime.NumCPU())

	var results []result
	sigs := sigsBefore
	for i, alg := range o.algs {
		rs, err := runServer(&o, dir, alg, i == 0, false)
		if i == 0 && o.sigsAfter > 0 {
			sigs = (sigsBefore + o.sigsAfter) / 2
			fmt.Printf("raw RSA-2048 signatures right after the %s refresh phase: %.0f/s; mean %.0f/s (the refresh bound: one signature each)\n",
				alg, o.sigsAfter, sigs)
		}
		results = append(results, rs...)
		if err != nil {
			printResults(results)
			return err
		}
	}
	if o.prefillCustomers > 0 {
		// The same refresh load on a big database, to compare with the first run above.
		rs, err := runServer(&o, dir, o.algs[0], false, true)
		results = append(results, rs...)
		if err != nil {
			printResults(results)
			return err
		}
	}
	if o.pocketbase != "" {
		rs, err := runPocketBase(o, dir)
		results = append(results, rs...)
		if err != nil {
			printResults(results)
			return err
		}
	}
	var pruned *pruneResult
	if o.prune > 0 {
		target := filepath.Join(dir, "prune.db")
		label := fmt.Sprintf("%s, SQLite", o.algs[0])
		r, err := runPrune(&o, dir, label, target, func() (*server, error) { return startServe(&o, dir, "prune", target, o.algs[0]) })
		if err != nil {
			printResults(results)
			return err
		}
		pruned = &r
	}
	printResults(results)
	fmt.Println()
	summarize(results, sigs, o)
	if pruned != nil {
		printPrune(*pruned)
	}
	fmt.Printf("\nload average at the end: %s\n", loadAverage())
	return nil
}

// startServe starts shopauth serve on target (a SQLite file or a PostgreSQL URL), logging to
// dir/name.log.
func startServe(o *options, dir, name, target, alg string) (*server, error) {
	// A fixed issuer: the port changes with each start, and iss/aud must not.
	return startProcess(dir, name, o.bin, "--addr", "serve", "--db", target, "--signing-alg", alg,
		"--issuer", "http://127.0.0.1:8000",
		// Every client registers from one address; registration is limited per address.
		"--registrations-per-ip", "100000")
}

// buildServer builds the module's main package (the shopauth server) into path.
func buildServer(path string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	cmd := exec.Command("go", "build", "-o", path, ".")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// rsaSignaturesPerSecond signs with an RSA-2048 key on every core for d.
func rsaSignaturesPerSecond(d time.Duration) float64 {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	digest := sha256.Sum256([]byte("shopauth"))
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	cpu0 := cpuTime(os.Getpid())
	start := time.Now()
	for range runtime.NumCPU() {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:]); err != nil {
					panic(err)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if n.Load() > 0 {
		rsaCPUPerSignature = (cpuTime(os.Getpid()) - cpu0) / time.Duration(n.Load())
	}
	return float64(n.Load()) / time.Since(start).Seconds()
}

// rsaCPUPerSignature is the CPU time of one RSA-2048 signature, as last measured. Unlike the
// signatures per second it does not depend on how much of the machine other processes take, so
// "server CPU per RS256 refresh ÷ this" says how close a refresh is to its one signature even on a
// shared machine.
var rsaCPUPerSignature time.Duration

// server is a running server process (shopauth or the floor handler).
type server struct {
	cmd     *exec.Cmd
	url     string
	logName string
	done    chan struct{}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startProcess runs bin with args plus addrFlag and a free address, logging to dir/name.log, and
// waits until /healthz answers.
func startProcess(dir, name, bin, addrFlag string, args ...string) (*server, error) {
	return startProcessAt(dir, name, bin, "/healthz", addrFlag, args...)
}

// startProcessAt is startProcess for a server whose health check is at health.
func startProcessAt(dir, name, bin, health, addrFlag string, args ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append(args, addrFlag, addr)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://" + addr, logName: logFile.Name(), done: make(chan struct{})}
	go func() { cmd.Wait(); logFile.Close(); close(s.done) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(s.url + health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("%s did not answer %s within 30 s (log: %s)", name, health, logFile.Name())
}

// stop asks the server to shut down (SIGTERM) and kills it if it has not within 15 s.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// resetPeakRSS makes VmHWM start again from the current RSS (Linux clear_refs, value 5).
func resetPeakRSS(pid int) {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

func peakRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the process's user+system CPU so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name, which is in parentheses and may contain spaces.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clkTck
}

// prefill writes customers and sessions straight into the database target names (a SQLite file
// or a PostgreSQL URL), migrating it first, before the server opens it: live sessions, and
// expired ones (expired a day ago, for the prune to delete), spread over the customers, with
// random device ids and secrets. The rows are made by the database itself (INSERT … SELECT over
// a series, 100,000 a statement): a million sessions take seconds, not the minutes of one
// INSERT each. On PostgreSQL it then vacuums, analyzes and checkpoints, as after any import, and
// on either store it waits until the files are written back to disk.
func prefill(target string, customers, sessions, expired int) error {
	ctx := context.Background()
	d, err := db.Open(ctx, target, schema.Migrate)
	if err != nil {
		return err
	}
	d.Close()
	pg := db.IsPostgres(target)
	driver := "sqlite"
	customersSQL := `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
		INSERT INTO customers (uuid, email, first_name, last_name, password_hash, created_at)
		SELECT printf('00000000-0000-4000-8000-%012x', i), 'prefill' || i || '@example.com', 'Jana', 'Nováková', ?, ? FROM n`
	sessionsSQL := `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
		INSERT INTO sessions (device_id, customer_id, secret_hash, created_at, issued_at, expires_at, key_id, signature)
		SELECT lower(hex(randomblob(16))), ? + (i % ?), randomblob(32), ?, ?, ?, 'prefill', 'prefill' FROM n`
	if pg {
		driver = "pgx"
		customersSQL = `INSERT INTO customers (uuid, email, first_name, last_name, password_hash, created_at)
			SELECT '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 'prefill' || i || '@example.com', 'Jana', 'Nováková', $3, $4
			FROM generate_series($1::bigint, $2::bigint - 1) i`
		sessionsSQL = `INSERT INTO sessions (device_id, customer_id, secret_hash, created_at, issued_at, expires_at, key_id, signature)
			SELECT md5(random()::text || i), $3::bigint + (i % $4::bigint), decode(md5(random()::text || i) || md5(i || random()::text), 'hex'), $5, $6, $7, 'prefill', 'prefill'
			FROM generate_series($1::bigint, $2::bigint - 1) i`
	}
	conn, err := sql.Open(driver, target)
	if err != nil {
		return err
	}
	defer conn.Close()
	const chunk = 100_000
	hash := "$argon2id$v=19$m=19456,t=2,p=1$cHJlZmlsbHNhbHQxMjM0$0000000000000000000000000000000000000000000"
	now := time.Now()
	for i := 0; i < customers; i += chunk {
		if _, err := conn.ExecContext(ctx, customersSQL, i, min(i+chunk, customers), hash, now.UnixMilli()); err != nil {
			return fmt.Errorf("customers: %w", err)
		}
	}
	var first int64
	if err := conn.QueryRowContext(ctx, `SELECT min(id) FROM customers`).Scan(&first); err != nil {
		return err
	}
	for _, part := range []struct {
		n                        int
		created, issued, expires time.Time
	}{
		{sessions, now, now, now.Add(14 * 24 * time.Hour)},
		{expired, now.Add(-15 * 24 * time.Hour), now.Add(-15 * 24 * time.Hour), now.Add(-24 * time.Hour)},
	} {
		for i := 0; i < part.n; i += chunk {
			if _, err := conn.ExecContext(ctx, sessionsSQL, i, min(i+chunk, part.n), first, customers,
				part.created.UnixMilli(), part.issued.UnixMilli(), part.expires.UnixMilli()); err != nil {
				return fmt.Errorf("sessions: %w", err)
			}
		}
	}
	if pg {
		// A million rows just written leave PostgreSQL's statistics stale and its autovacuum and
		// checkpoint to come, during whatever runs next. An operator after an import, like the
		// steady state the phase means to measure, has them done: do them now.
		for _, stmt := range []string{`VACUUM (ANALYZE) customers, sessions`, `CHECKPOINT`} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
	}
	// The kernel would write the prefill's hundreds of megabytes back to disk during the phase
	// that follows, and the phase would measure the disk's writeback: it is written back first.
	syscall.Sync()
	return nil
}

// client is one simulated storefront: its customer and the tokens it last received.
type client struct {
	email   string
	access  string
	refresh string
}

const (
	password      = "correct horse battery"
	registerQuery = `mutation($in: RegistrationDataInput!) { Register(input: $in) { accessToken refreshToken } }`
	loginQuery    = `mutation($in: LoginInput!) { Login(input: $in) { accessToken refreshToken } }`
	refreshQuery  = `mutation($in: RefreshTokenInput!) { RefreshTokens(input: $in) { accessToken refreshToken } }`
	currentQuery  = `{ currentCustomerUser { uuid firstName lastName email telephone } }`
)

func newHTTPClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute,
	}}
}

// post sends one GraphQL request and returns the response's data field named field.
func post(hc *http.Client, url, token string, body []byte, field string) (json.RawMessage, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	b, err := send(hc, req)
	if err != nil {
		return nil, err
	}
	// The answer the server gives on success, {"data":{"<field>":…}}, is cut out without a
	// full decode: the client's CPU is taken from the same two cores as the server's.
	prefix := `{"data":{"` + field + `":`
	if bytes.HasPrefix(b, []byte(prefix)) && bytes.HasSuffix(b, []byte("}}")) {
		return b[len(prefix) : len(b)-2], nil
	}
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors json.RawMessage            `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("response: %w: %.200s", err, b)
	}
	if len(out.Errors) > 0 || out.Data[field] == nil {
		return nil, fmt.Errorf("errors: %.300s", b)
	}
	return out.Data[field], nil
}

// send sends req and returns the body of a 200 answer; any other status is an error quoting it.
func send(hc *http.Client, req *http.Request) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	return b, nil
}

func body(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func decodeTokens(raw json.RawMessage) (access, refresh string, err error) {
	// A token is base64url and dots, never escaped: cut both out without a decode, as post cuts
	// the envelope (json.Unmarshal here was 10 µs of the client's CPU per refresh).
	if a, ok := cutString(raw, `"accessToken":"`); ok {
		if r, ok := cutString(raw, `"refreshToken":"`); ok && isTokenText(a) && isTokenText(r) {
			return a, r, nil
		}
	}
	var t struct{ AccessToken, RefreshToken string }
	if err := json.Unmarshal(raw, &t); err != nil || t.AccessToken == "" || t.RefreshToken == "" {
		return "", "", fmt.Errorf("no tokens in %.200s", raw)
	}
	return t.AccessToken, t.RefreshToken, nil
}

// cutString returns the text between key and the next double quote.
func cutString(raw []byte, key string) (string, bool) {
	_, rest, ok := bytes.Cut(raw, []byte(key))
	if !ok {
		return "", false
	}
	v, _, ok := bytes.Cut(rest, []byte(`"`))
	return string(v), ok
}

// isTokenText reports whether s is a non-empty run of base64url characters and dots.
func isTokenText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}

// registerClients registers one customer per client (each costs an argon2id hash).
func registerClients(hc *http.Client, url string, n int) ([]*client, error) {
	return registerEach(n, func(i int) (*client, error) {
		c := &client{email: fmt.Sprintf("load%d-%s@example.com", i, uuid.NewString()[:8])}
		raw, err := post(hc, url, "", body(registerQuery, map[string]any{"in": map[string]any{
			"firstName": "Jan", "lastName": "Novák", "email": c.email, "password": password}}), "Register")
		if err == nil {
			c.access, c.refresh, err = decodeTokens(raw)
		}
		if err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		return c, nil
	})
}

// registerEach makes n clients with register, 8 at a time, and returns the first error.
func registerEach(n int, register func(i int) (*client, error)) ([]*client, error) {
	clients := make([]*client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := register(i)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	close(errs)
	return clients, <-errs
}

// drive runs one step per client in a loop for d and measures it; pid is the server's.
func drive(name, alg string, pid int, clients []*client, d time.Duration, step func(c *client) error) result {
	resetPeakRSS(pid)
	cpu0, self0 := cpuTime(pid), cpuTime(os.Getpid())
	lat := make([][]time.Duration, len(clients))
	errCount := make([]int, len(clients))
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range clients {
		wg.Go(func() {
			l := make([]time.Duration, 0, 4096)
			for {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				err := step(c)
				l = append(l, time.Since(t0))
				if err != nil {
					errCount[i]++
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
			lat[i] = l
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := result{name: name, alg: alg, clients: len(clients), elapsed: elapsed, peakRSS: peakRSS(pid)}
	var all []time.Duration
	for i := range clients {
		all = append(all, lat[i]...)
		r.errors += errCount[i]
	}
	r.requests = len(all)
	slices.Sort(all)
	if len(all) > 0 {
		r.p50 = all[len(all)*50/100]
		r.p99 = all[len(all)*99/100]
		r.cpuPerRequest = (cpuTime(pid) - cpu0) / time.Duration(len(all))
		r.clientCPU = (cpuTime(os.Getpid()) - self0) / time.Duration(len(all))
	}
	if e, ok := firstErr.Load().(string); ok {
		r.firstError = e
	}
	return r
}

// runServer starts shopauth with alg on a fresh database and runs the phases against it.
func runServer(o *options, dir, alg string, first, big bool) ([]result, error) {
	name := "shopauth-" + alg
	label := alg
	if big {
		name += "-prefilled"
	}
	dbPath := filepath.Join(dir, name+".db")
	if big {
		t0 := time.Now()
		if err := prefill(dbPath, o.prefillCustomers, o.prefillSessions, 0); err != nil {
			return nil, fmt.Errorf("prefill: %w", err)
		}
		label = fmt.Sprintf("%s, %dk customers/%dk sessions", alg, o.prefillCustomers/1000, o.prefillSessions/1000)
		fmt.Printf("prefilled %d customers and %d sessions in %v\n", o.prefillCustomers, o.prefillSessions, time.Since(t0).Round(time.Millisecond))
	}
	hc := newHTTPClient(o.clients)
	s, clients, err := startRegistered(func() (*server, error) { return startServe(o, dir, name, dbPath, alg) }, hc,
		func(url string) ([]*client, error) { return registerClients(hc, url, o.clients) })
	if err != nil {
		return nil, err
	}
	defer s.stop()
	fmt.Printf("%s: server pid %d, %d customers registered\n", label, s.pid(), len(clients))
	var out []result
	if o.phases["refresh"] {
		r := drive("RefreshTokens", label, s.pid(), clients, o.duration, refreshStep(hc, s.url))
		out = append(out, r)
		if first {
			o.sigsAfter = rsaSignaturesPerSecond(5 * time.Second)
		}
	}
	if !first {
		return out, nil
	}
	if o.phases["read"] {
		read := body(currentQuery, nil)
		out = append(out, drive("currentCustomerUser", label, s.pid(), clients, o.duration, func(c *client) error {
			_, err := post(hc, s.url, c.access, read, "currentCustomerUser")
			return err
		}))
	}
	if o.phases["floor"] {
		// Right after the reads, while shopauth sits idle, so that both see the same machine.
		r, err := runFloor(*o, dir)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	if o.phases["login"] {
		out = append(out, drive("Login", label, s.pid(), clients, o.duration, func(c *client) error {
			raw, err := post(hc, s.url, "", body(loginQuery, map[string]any{"in": map[string]any{"email": c.email, "password": password}}), "Login")
			if err == nil {
				_, _, err = decodeTokens(raw)
			}
			return err
		}))
	}
	return out, nil
}

// startRegistered starts a server, registers the clients on it, and starts it again for the load:
// registering costs password hashes (argon2id's 19 MiB each), and the Go runtime keeps that memory
// for a while, which would be counted against the load.
func startRegistered(start func() (*server, error), hc *http.Client, register func(url string) ([]*client, error)) (*server, []*client, error) {
	s, err := start()
	if err != nil {
		return nil, nil, err
	}
	clients, err := register(s.url)
	s.stop()
	if err != nil {
		return nil, nil, err
	}
	if s, err = start(); err != nil {
		return nil, nil, err
	}
	hc.CloseIdleConnections()
	return s, clients, nil
}

// refreshStep refreshes the client's chain once through url (a function of nothing: each call the
// next server, for a round-robin over several processes) and keeps the tokens it answers.
func refreshStep(hc *http.Client, url string) func(c *client) error {
	return refreshStepVia(hc, func() string { return url })
}

func refreshStepVia(hc *http.Client, url func() string) func(c *client) error {
	return func(c *client) error {
		// A token is base64url and dots: it needs no JSON escaping.
		req := []byte(`{"query":"` + refreshQuery + `","variables":{"in":{"refreshToken":"` + c.refresh + `"}}}`)
		raw, err := post(hc, url(), "", req, "RefreshTokens")
		if err != nil {
			return err
		}
		c.access, c.refresh, err = decodeTokens(raw)
		return err
	}
}

// floorBody is what a currentCustomerUser answer looks like, as a constant.
var floorBody = []byte(`{"data":{"currentCustomerUser":{"uuid":"6f1f3c36-7d6c-4d53-9f43-6a1b0c9d2e11","firstName":"Jan","lastName":"Novák","email":"load0@example.com","telephone":null}}}`)

// serveFloor is the bare net/http handler: read the request, answer a constant JSON body.
func serveFloor(addr string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte(`{"status":"ok"}`))
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(floorBody)
	})
	if err := http.ListenAndServe(addr, h); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// runFloor drives the same read requests (same body, same bearer header) against the floor handler.
func runFloor(o options, dir string) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	s, err := startProcess(dir, "floor", self, "-floor-server")
	if err != nil {
		return result{}, err
	}
	defer s.stop()
	hc := newHTTPClient(o.clients)
	clients := make([]*client, o.clients)
	for i := range clients {
		clients[i] = &client{access: strings.Repeat("x", 700)} // about an access token's length
	}
	read := body(currentQuery, nil)
	return drive("floor: bare net/http", "-", s.pid(), clients, o.duration, func(c *client) error {
		_, err := post(hc, s.url, c.access, read, "currentCustomerUser")
		return err
	}), nil
}

func printResults(rs []result) {
	fmt.Printf("%-22s %-34s %7s %9s %10s %9s %9s %7s %10s %11s %11s\n",
		"phase", "server", "clients", "requests", "req/s", "p50", "p99", "errors", "peak RSS", "server CPU", "client CPU")
	for _, r := range rs {
		fmt.Printf("%-22s %-34s %7d %9d %10.0f %9s %9s %7d %7.1f MiB %11s %11s\n",
			r.name, r.alg, r.clients, r.requests, r.rate(), round(r.p50), round(r.p99), r.errors,
			float64(r.peakRSS)/(1<<20), round(r.cpuPerRequest), round(r.clientCPU))
		if r.firstError != "" {
			fmt.Printf("    first error: %s\n", r.firstError)
		}
	}
}

func round(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func summarize(rs []result, sigs float64, o options) {
	find := func(name, algPrefix string) *result {
		for i := range rs {
			if rs[i].name == name && strings.HasPrefix(rs[i].alg, algPrefix) {
				return &rs[i]
			}
		}
		return nil
	}
	bound := sigs // one RSA signature per refresh (the access token's)
	if r := find("RefreshTokens", "RS256"); r != nil {
		ratio := r.rate() / bound
		fmt.Printf("refresh RS256: %.0f/s = %.2f × bound (%.0f RSA-2048 signatures/s, one per refresh); target ≥ 0.70: %s\n",
			r.rate(), ratio, sigs, verdict(ratio >= 0.7 && r.errors == 0))
	}
	if r := find("RefreshTokens", "RS256"); r != nil && rsaCPUPerSignature > 0 && r.cpuPerRequest > 0 {
		ratio := float64(rsaCPUPerSignature) / float64(r.cpuPerRequest)
		fmt.Printf("refresh RS256 in CPU time: one RSA-2048 signature %s, the server's CPU per refresh %s = %.2f × the one-signature bound\n",
			round(rsaCPUPerSignature), round(r.cpuPerRequest), ratio)
	}
	var peak int64
	for _, r := range rs {
		if r.name == "RefreshTokens" {
			peak = max(peak, r.peakRSS)
		}
	}
	if peak > 0 {
		fmt.Printf("refresh peak RSS (all algorithms): %.1f MiB; target < 40 MiB: %s\n", float64(peak)/(1<<20), verdict(peak < 40<<20))
	}
	if small, big := find("RefreshTokens", o.algs[0]), find("RefreshTokens", o.algs[0]+", "); small != nil && big != nil && big != small {
		fmt.Printf("refresh %s on %s: %.0f/s = %.2f × the empty database's %.0f/s, peak RSS %.1f MiB\n",
			o.algs[0], strings.TrimPrefix(big.alg, o.algs[0]+", "), big.rate(), big.rate()/small.rate(), small.rate(),
			float64(big.peakRSS)/(1<<20))
	}
	read, floor := find("currentCustomerUser", ""), find("floor: bare net/http", "")
	for _, alg := range []string{"ES256", "EdDSA"} {
		r := find("RefreshTokens", alg)
		switch {
		case r == nil:
		case floor == nil:
			fmt.Printf("refresh %s: %.0f/s (no floor measured)\n", alg, r.rate())
		default:
			ratio := r.rate() / floor.rate()
			fmt.Printf("refresh %s: %.0f/s = %.2f × the net/http floor (%.0f/s); target ≥ 0.30: %s\n",
				alg, r.rate(), ratio, floor.rate(), verdict(ratio >= 0.3 && r.errors == 0))
		}
	}
	if pb := find(pocketBaseRefresh, ""); pb != nil && pb.rate() > 0 {
		for _, alg := range o.algs {
			if r := find("RefreshTokens", alg); r != nil {
				fmt.Printf("refresh %s: %.0f/s = %.2f × PocketBase's auth-refresh (%.0f/s, which rotates and writes nothing)\n",
					alg, r.rate(), r.rate()/pb.rate(), pb.rate())
			}
		}
	}
	for _, pair := range [][3]string{{"currentCustomerUser", pocketBaseRead, "record view"}, {"Login", pocketBaseLogin, "auth-with-password"}} {
		if r, pb := find(pair[0], ""), find(pair[1], ""); r != nil && pb != nil && pb.rate() > 0 {
			fmt.Printf("%s: %.0f/s = %.2f × PocketBase's %s (%.0f/s)\n", pair[0], r.rate(), r.rate()/pb.rate(), pair[2], pb.rate())
		}
	}
	if read != nil && floor != nil {
		ratio := read.rate() / floor.rate()
		fmt.Printf("currentCustomerUser: %.0f/s = %.2f × the net/http floor (%.0f/s), p99 %s at %d clients; target ≥ 0.30: %s\n",
			read.rate(), ratio, floor.rate(), round(read.p99), read.clients, verdict(ratio >= 0.3 && read.errors == 0))
	}
	if r := find("Login", ""); r != nil {
		fmt.Printf("Login: %.1f/s at %d concurrent, peak RSS %.1f MiB (hash slots bound argon2id memory)\n",
			r.rate(), r.clients, float64(r.peakRSS)/(1<<20))
	}
	errs := 0
	for _, r := range rs {
		errs += r.errors
	}
	fmt.Printf("errors in all phases: %d (must be 0): %s\n", errs, verdict(errs == 0))
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
