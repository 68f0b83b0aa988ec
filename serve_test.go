package main

import (
	"bufio"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"shopauth/cli"
	"strings"
	"testing"

	"shopauth/internal/testkit"
	"shopauth/web"
)

// The production edge from the operator's side: refusals at start, the metrics listener, the
// start-up summary.

func TestServeRefusesEdgeMistakes(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in stderr
	}{
		{"bad CIDR", nil, []string{"--trusted-proxies", "10.0.0.0/8,10.0.0.0/33"}, `"10.0.0.0/33"`},
		{"host name as proxy", nil, []string{"--trusted-proxies", "nginx"}, `"nginx"`},
		{"bad CIDR from the environment", map[string]string{"SHOPAUTH_TRUSTED_PROXIES": "1.2.3"}, nil, `"1.2.3"`},
		{"CORS origin with trailing slash", nil, []string{"--cors-origins", "https://shop.cz/"}, `"https://shop.cz/"`},
		{"CORS origin with path", nil, []string{"--cors-origins", "https://shop.cz,https://shop.cz/app"}, `"https://shop.cz/app"`},
		{"CORS origin without scheme", nil, []string{"--cors-origins", "shop.cz"}, `"shop.cz" has no scheme`},
		{"CORS origin with default port", nil, []string{"--cors-origins", "https://shop.cz:443"}, `"https://shop.cz:443"`},
		{"wildcard IPv4 addr without issuer", nil, []string{"--addr", "0.0.0.0:0"}, "--addr 0.0.0.0:0"},
		{"wildcard IPv6 addr without issuer", nil, []string{"--addr", "[::]:0"}, "--addr [::]:0"},
		{"empty host without issuer", nil, []string{"--addr", ":0"}, "--addr :0"},
		{"metrics address without port", nil, []string{"--metrics-addr", "127.0.0.1"}, `"127.0.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "never.db")
			t.Setenv("SHOPAUTH_DB", db)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, stderr := runArgs(t, "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %s:\n%s", tt.want, stderr)
			}
			if _, err := os.Stat(db); err == nil {
				t.Error("a refused command line created the database")
			}
		})
	}
}

func TestWildcardAddrWithIssuerStarts(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8000", "[::]:8000", ":8000"} {
		m := NewMain()
		m.Addr = addr
		if err := m.checkEdge(true); err != nil {
			t.Errorf("%s with --issuer: %v", addr, err)
		}
		if err := m.checkEdge(false); err == nil {
			t.Errorf("%s without --issuer was accepted", addr)
		}
	}
	m := NewMain()
	m.Addr = "127.0.0.1:8000"
	if err := m.checkEdge(false); err != nil {
		t.Errorf("loopback without --issuer: %v", err)
	}
}

func TestMetricsOnlyOnTheMetricsListener(t *testing.T) {
	m := startServer(t, func(m *Main) { m.MetricsAddr = "127.0.0.1:0" })
	register(t, m.URL(), "metrics-addr@shop.cz", "correct horse")
	metricsURL := "http://" + m.MetricsListener.Addr().String()
	tests := []struct {
		name, url string
		status    int
		want      string
	}{
		{"metrics listener serves /metrics", metricsURL + "/metrics", 200, "shopauth_logins_total"},
		{"public listener has no /metrics", m.URL() + "/metrics", 404, ""},
		{"metrics listener serves nothing else", metricsURL + "/graphql", 404, ""},
		{"public listener still serves the API", m.URL() + "/healthz", 200, `"ok"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := http.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Errorf("GET %s = %d, want %d with %q:\n%.300s", tt.url, res.StatusCode, tt.status, tt.want, body)
			}
		})
	}
}

func TestStartupSummary(t *testing.T) {
	var logs testkit.LogBuffer
	trusted, _ := web.ParseTrustedProxies("127.0.0.1,10.0.0.0/8")
	m := startServer(t, func(m *Main) {
		m.Log = slog.New(slog.NewTextHandler(&logs, nil))
		m.CORSOrigins = []string{"https://shop.cz", "https://www.shop.cz"}
		m.TrustedProxies = trusted
		m.Config.Issuer = "https://auth.shop.cz"
	})
	var kid string
	for _, k := range m.Service.Keys() {
		if k.Signing && !k.Refresh {
			kid = k.ID
		}
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "msg=serving") {
			line = l
		}
	}
	for _, want := range []string{"addr=" + m.Listener.Addr().String(), "issuer=https://auth.shop.cz", "db=" + m.DBPath,
		"kid=" + kid, "alg=RS256", "cors_origins=https://shop.cz,https://www.shop.cz", "trusted_proxies=127.0.0.1/32,10.0.0.0/8",
		"webauthn_rp_id=auth.shop.cz", "webauthn_origins=https://auth.shop.cz"} {
		if !strings.Contains(line, want) {
			t.Errorf("summary lacks %s: %q\nlog:\n%s", want, line, logs.String())
		}
	}
}

// A database remembers the issuer it was served under: starting it under another one is refused
// (exit 2, naming both) unless --issuer-changed is given, for that one start, which warns.
func TestChangedIssuerIsRefusedUnlessSaid(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	steps := []struct {
		issuer  string
		changed bool   // --issuer-changed
		want    string // "ok", "warn" (started, warning naming both), "refused", "needless" (a warning to remove the flag)
	}{
		{"https://auth.shop.cz", false, "ok"},       // first start: remembered
		{"https://auth.shop.cz", false, "ok"},       // unchanged
		{"http://127.0.0.1:8000", false, "refused"}, // a forgotten --issuer
		{"https://auth.shop.cz", false, "ok"},       // the refusal stored nothing
		{"http://127.0.0.1:8000", true, "warn"},     // changed on purpose
		{"http://127.0.0.1:8000", false, "ok"},      // and remembered: no flag needed any more
		{"http://127.0.0.1:8000", true, "needless"}, // the flag left in place is pointed out
		{"https://auth.shop.cz", false, "refused"},  // and back is refused again
	}
	remembered := ""
	for i, st := range steps {
		args := []string{"--addr", "127.0.0.1:0", "--db", dbPath, "--issuer", st.issuer, "--mail-log"}
		if st.changed {
			args = append(args, "--issuer-changed")
		}
		var logs testkit.LogBuffer
		if st.want == "refused" {
			code, _, stderr := runArgs(t, "", args...)
			want := "shopauth serve: this database was served under the issuer " + remembered + ", not " + st.issuer
			if code != 2 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "--issuer-changed") {
				t.Fatalf("start %d under %s: exit %d, want 2 and %q:\n%s", i+1, st.issuer, code, want, stderr)
			}
			continue
		}
		_, _, stop := serveArgsLog(t, &logs, args...)
		if code := stop(); code != 0 {
			t.Fatalf("start %d under %s: exit %d\n%s", i+1, st.issuer, code, logs.String())
		}
		out := logs.String()
		warned := strings.Contains(out, "level=WARN") && strings.Contains(out, "issuer changed")
		needless := strings.Contains(out, "level=WARN") && strings.Contains(out, "--issuer-changed is given but")
		if warned != (st.want == "warn") || needless != (st.want == "needless") {
			t.Fatalf("start %d under %s: warned %v, needless %v; want %s; log:\n%s", i+1, st.issuer, warned, needless, st.want, out)
		}
		if warned {
			for _, want := range []string{"previous=" + remembered, "issuer=" + st.issuer, "stop working"} {
				if !strings.Contains(out, want) {
					t.Errorf("start %d: warning lacks %q:\n%s", i+1, want, out)
				}
			}
		}
		remembered = st.issuer
	}
}

// TestEnvironmentFileNamesRealFlags: every SHOPAUTH_ variable of deploy/shopauth.env names a serve
// flag and holds a value it takes; as shipped, the settings start (mail, GraphiQL off).
func TestEnvironmentFileNamesRealFlags(t *testing.T) {
	f, err := os.Open("deploy/shopauth.env")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := NewMain()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.String("db", "", "")
	var issuer, cors string
	m.registerServeFlags(fs, &issuer, &cors)
	// shipped is the server as the file starts it: its uncommented lines only.
	shipped, shippedFlags := NewMain(), flag.NewFlagSet("serve", flag.ContinueOnError)
	shippedFlags.String("db", "", "")
	var shippedIssuer, shippedCORS string
	shipped.registerServeFlags(shippedFlags, &shippedIssuer, &shippedCORS)
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line, commented := strings.CutPrefix(strings.TrimSpace(sc.Text()), "#")
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "SHOPAUTH_") {
			continue
		}
		n++
		flagName := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "SHOPAUTH_")), "_", "-")
		if fs.Lookup(flagName) == nil {
			t.Errorf("%s names no flag (--%s)", name, flagName)
			continue
		}
		if err := fs.Set(flagName, value); err != nil {
			t.Errorf("%s=%s: %v", name, value, err)
		}
		if !commented {
			shippedFlags.Set(flagName, value)
		}
	}
	if n < 5 {
		t.Fatalf("only %d SHOPAUTH_ variables found", n)
	}
	m.CORSOrigins = cli.SplitList(cors)
	if err := m.checkEdge(issuer != ""); err != nil {
		t.Errorf("the example settings are refused: %v", err)
	}
	shipped.Config.Issuer = shippedIssuer
	if err := shipped.checkMail(); err != nil {
		t.Errorf("the shipped mail settings are refused: %v", err)
	}
	if shipped.GraphiQL {
		t.Error("deploy/shopauth.env leaves the GraphiQL page on (SHOPAUTH_GRAPHIQL=false)")
	}
}
