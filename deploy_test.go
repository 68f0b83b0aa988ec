package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"shopauth/internal/testkit"
	"shopauth/web"
)

// The examples in deploy/ are tested as they are shipped: the unit by systemd-analyze, the
// environment file against the real flags, the nginx site by running Debian's nginx in front of
// the server.

func TestSystemdUnitIsHardened(t *testing.T) {
	unit, err := os.ReadFile("deploy/shopauth.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=shopauth", "StateDirectory=shopauth", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"Restart=on-failure", "EnvironmentFile=/etc/shopauth/shopauth.env", "ExecStart=/usr/local/bin/shopauth serve",
		"CapabilityBoundingSet=\n", "PrivateTmp=yes", "ProtectHome=yes"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("deploy/shopauth.service lacks %q", want)
		}
	}
}

func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: deploy/shopauth.service not verified")
	}
	unit, err := os.ReadFile("deploy/shopauth.service")
	if err != nil {
		t.Fatal(err)
	}
	// verify insists that ExecStart names an executable; the test binary stands in for shopauth.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "shopauth.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/shopauth", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	t.Logf("systemd-analyze verify:\n%s", out)
	// Unknown keys and bad values are only warnings ("…, ignoring"), so any line about the unit fails.
	if err != nil || strings.Contains(string(out), path+":") || strings.Contains(string(out), "shopauth.service:") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

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
	m.CORSOrigins = splitList(cors)
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

// TestNginxForwardsClientAddresses runs deploy/nginx.conf with Debian's nginx in front of the
// server (TLS with a certificate made here, ports substituted) and logs in through it from two
// client addresses (127.0.0.2 and 127.0.0.3, which nginx appends to X-Forwarded-For). The first
// client exhausts its per-email+IP failure budget, whatever X-Forwarded-For it forges; the second
// still logs in to the same account.
func TestNginxForwardsClientAddresses(t *testing.T) {
	requireExternal(t)
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/sbin/nginx"} {
			if _, err := os.Stat(p); err == nil {
				nginx = p
			}
		}
	}
	if nginx == "" {
		t.Fatal("nginx is missing: apt-get install nginx-light (./test.sh does)")
	}

	var logs testkit.LogBuffer
	trusted, _ := web.ParseTrustedProxies("127.0.0.1,::1")
	m := startServer(t, func(m *Main) {
		m.TrustedProxies = trusted
		m.Config.Issuer = "https://auth.shop.cz"
		m.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	register(t, m.URL(), "behind@shop.cz", "correct horse")

	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir, "auth.shop.cz")
	httpsPort, httpPort := freePort(t), freePort(t)
	site, err := os.ReadFile("deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(site)
	for _, sub := range []struct{ old, new string }{
		{"server 127.0.0.1:8000;", "server " + m.Listener.Addr().String() + ";"},
		{"listen 443 ssl http2;", "listen 127.0.0.1:" + httpsPort + " ssl http2;"},
		{"listen 80;", "listen 127.0.0.1:" + httpPort + ";"},
		{"/etc/letsencrypt/live/auth.shop.cz/fullchain.pem", certFile},
		{"/etc/letsencrypt/live/auth.shop.cz/privkey.pem", keyFile},
	} {
		if strings.Count(conf, sub.old) != 1 {
			t.Fatalf("deploy/nginx.conf no longer has %q once: update the test with the example", sub.old)
		}
		conf = strings.Replace(conf, sub.old, sub.new, 1)
	}
	// IPv6 may be missing in a test sandbox; the IPv4 listeners carry the test.
	var kept []string
	for _, line := range strings.Split(conf, "\n") {
		if !strings.Contains(line, "listen [::]:") {
			kept = append(kept, line)
		}
	}
	writeFile(t, filepath.Join(dir, "site.conf"), strings.Join(kept, "\n"))
	writeFile(t, filepath.Join(dir, "nginx.conf"), `daemon off;
master_process off;
pid `+dir+`/nginx.pid;
error_log `+dir+`/error.log warn;
events { worker_connections 64; }
http {
    access_log `+dir+`/access.log;
    client_body_temp_path `+dir+`/body;
    proxy_temp_path `+dir+`/proxy;
    fastcgi_temp_path `+dir+`/fastcgi;
    uwsgi_temp_path `+dir+`/uwsgi;
    scgi_temp_path `+dir+`/scgi;
    include `+dir+`/site.conf;
}
`)
	if out, err := exec.Command(nginx, "-t", "-p", dir, "-e", dir+"/error.log", "-c", dir+"/nginx.conf").CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command(nginx, "-p", dir, "-e", dir+"/error.log", "-c", dir+"/nginx.conf")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if b, _ := os.ReadFile(filepath.Join(dir, "error.log")); len(b) > 0 {
			t.Logf("nginx error.log:\n%s", b)
		}
	})
	waitForPort(t, "127.0.0.1:"+httpsPort)

	// client is a browser at source address ip, for whom auth.shop.cz is the nginx above.
	client := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		return &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "auth.shop.cz"},
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					port := httpsPort
					if strings.HasSuffix(addr, ":80") {
						port = httpPort
					}
					return d.DialContext(ctx, "tcp", "127.0.0.1:"+port)
				},
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	a, b := client("127.0.0.2"), client("127.0.0.3")
	loginVia := func(c *http.Client, password, forged string) (code string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": `mutation ($p: Password!) { Login(input: {email: "behind@shop.cz", password: $p}) { accessToken } }`,
			"variables": map[string]any{"p": password}})
		req, _ := http.NewRequest("POST", "https://auth.shop.cz/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if forged != "" {
			req.Header.Set("X-Forwarded-For", forged)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Data   map[string]*struct{ AccessToken string }
			Errors []struct{ Extensions map[string]any }
		}
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("login through nginx: %d %s", res.StatusCode, raw)
		}
		if len(out.Errors) > 0 {
			return out.Errors[0].Extensions["userCode"].(string)
		}
		if out.Data["Login"] == nil || out.Data["Login"].AccessToken == "" {
			t.Fatalf("login through nginx: %s", raw)
		}
		return "ok"
	}

	// Client A guesses, forging a new X-Forwarded-For each time: nginx appends A's real address,
	// which is the rightmost untrusted one, so the forgery changes nothing.
	for i := range 5 {
		if got := loginVia(a, "wrong horse", "203.0.113."+strconv.Itoa(i+1)); got != "invalid-credentials" {
			t.Fatalf("client A, guess %d: %s", i+1, got)
		}
	}
	if got := loginVia(a, "wrong horse", "203.0.113.99"); got != "too-many-login-attempts" {
		t.Fatalf("client A's sixth guess: %s, want too-many-login-attempts", got)
	}
	// Client B, behind the same proxy, is another client: its logins to the same account pass.
	if got := loginVia(b, "correct horse", ""); got != "ok" {
		t.Fatalf("client B's correct login: %s", got)
	}
	if got := loginVia(b, "wrong horse", ""); got != "invalid-credentials" {
		t.Fatalf("client B's wrong password: %s, want invalid-credentials", got)
	}

	for _, tc := range []struct {
		name, url string
		status    int
		location  string
	}{
		{"metrics are not public", "https://auth.shop.cz/metrics", 404, ""},
		{"the admin console is not public", "https://auth.shop.cz/admin", 404, ""},
		{"nor its API", "https://auth.shop.cz/admin/graphql", 404, ""},
		{"JWKS through the proxy", "https://auth.shop.cz/.well-known/jwks.json", 200, ""},
		{"plain http redirects to https", "http://auth.shop.cz/graphql", 301, "https://auth.shop.cz/graphql"},
	} {
		res, err := b.Get(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
			t.Errorf("%s: %d %q, want %d %q", tc.name, res.StatusCode, res.Header.Get("Location"), tc.status, tc.location)
		}
	}

	out := logs.String()
	for _, want := range []string{`"remote":"127.0.0.2"`, `"remote":"127.0.0.3"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the access log lacks %s", want)
		}
	}
	if strings.Contains(out, "203.0.113.") {
		t.Errorf("a forged X-Forwarded-For address reached the log:\n%s", out)
	}
}

// selfSignedCert writes a certificate for host (and its key) into dir and returns the paths and
// a pool that trusts it.
func selfSignedCert(t *testing.T, dir, host string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	return certFile, keyFile, pool
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a loopback port nothing listens on at the moment.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// waitForPort waits until something accepts connections on addr (nginx starting up).
func waitForPort(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
