package deploy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
)

// The examples in deploy/ are tested as they are shipped: the units by systemd-analyze, the nginx
// site by running Debian's nginx in front of the server, the backup unit's commands and the
// install steps of docs/deploy.md run. (The environment file is checked against serve's flags in
// the root package's serve_test.go.)

func TestSystemdUnitIsHardened(t *testing.T) {
	for file, wants := range map[string][]string{
		"shopauth.service": {"User=shopauth", "StateDirectory=shopauth", "ProtectSystem=strict", "NoNewPrivileges=yes",
			"Restart=on-failure", "EnvironmentFile=/etc/shopauth/shopauth.env", "ExecStart=/usr/local/bin/shopauth serve",
			"CapabilityBoundingSet=\n", "PrivateTmp=yes", "ProtectHome=yes", "Requires=shopauth.socket\n", "After=shopauth.socket\n",
			"After=postgresql.service\n"},
		// The socket listens where the proxy forwards to (deploy/nginx.conf, 127.0.0.1:8000).
		"shopauth.socket": {"ListenStream=127.0.0.1:8000\n", "WantedBy=sockets.target"},
		"shopauth-backup.service": {"User=shopauth", "StateDirectory=shopauth shopauth-backup\n", "StateDirectoryMode=0700",
			"ProtectSystem=strict", "NoNewPrivileges=yes", "EnvironmentFile=/etc/shopauth/shopauth.env", "Type=oneshot", "UMask=0077"},
		"shopauth-backup.timer": {"OnCalendar=daily", "Persistent=true", "WantedBy=timers.target"},
	} {
		unit, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !strings.Contains(string(unit), want) {
				t.Errorf("%s lacks %q", file, want)
			}
		}
	}
}

// TestSystemdUnitsVerify runs systemd-analyze verify on every unit in deploy/ together (the service
// requires the socket; the backup service is the timer's).
func TestSystemdUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the units in deploy/ not verified")
	}
	// verify insists that ExecStart names an executable; the test binary stands in for shopauth.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, name := range deployUnits(t) {
		unit, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/shopauth", self)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	t.Logf("systemd-analyze verify %v:\n%s", deployUnits(t), out)
	// Unknown keys and bad values are only warnings ("…, ignoring"), so any line about a unit fails.
	if err != nil || strings.Contains(string(out), dir) || strings.Contains(string(out), "shopauth") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// deployUnits names the systemd units in deploy/.
func deployUnits(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, pattern := range []string{"*.service", "*.socket", "*.timer"} {
		found, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			names = append(names, filepath.Base(f))
		}
	}
	for _, want := range []string{"shopauth.service", "shopauth.socket", "shopauth-backup.service", "shopauth-backup.timer"} {
		if !slices.Contains(names, want) {
			t.Fatalf("deploy/ lacks %s (it has %v)", want, names)
		}
	}
	return names
}

// TestNginxForwardsClientAddresses runs deploy/nginx.conf with Debian's nginx in front of the
// server (TLS with a certificate made here, ports substituted) and logs in through it from two
// client addresses (127.0.0.2 and 127.0.0.3, which nginx appends to X-Forwarded-For). The first
// client exhausts its per-email+IP failure budget, whatever X-Forwarded-For it forges; the second
// still logs in to the same account.
func TestNginxForwardsClientAddresses(t *testing.T) {
	servetest.RequireExternal(t)
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

	srv := servetest.Start(t, servetest.Binary(t), filepath.Join(t.TempDir(), "shop.db"),
		"--trusted-proxies", "127.0.0.1,::1", "--issuer", "https://auth.shop.cz", "--mail-log")
	testkit.Register(t, srv.URL, "behind@shop.cz", "correct horse")

	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir, "auth.shop.cz")
	httpsPort, httpPort := servetest.FreePort(t), servetest.FreePort(t)
	site, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(site)
	for _, sub := range []struct{ old, new string }{
		{"server 127.0.0.1:8000;", "server " + strings.TrimPrefix(srv.URL, "http://") + ";"},
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

	log, _ := os.ReadFile(srv.LogPath)
	out := string(log)
	for _, want := range []string{"remote=127.0.0.2", "remote=127.0.0.3"} {
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

// unitValue returns the value of key= in a unit file (the first one).
func unitValue(t *testing.T, file, key string) string {
	t.Helper()
	unit, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	t.Fatalf("%s has no %s=", file, key)
	return ""
}

// TestBackupUnitWritesABackup runs deploy/shopauth-backup.service's ExecStart and ExecStartPost as
// systemd would (its $$ and %% unescaped), with the backup folder and the database moved into a
// temporary folder: it writes a private, dated backup of the database, and the clean-up deletes only
// copies older than 14 days.
func TestBackupUnitWritesABackup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	dir := t.TempDir()
	bin := servetest.Binary(t)
	backups := filepath.Join(dir, "backups")
	if err := os.Mkdir(backups, 0o700); err != nil { // StateDirectory= makes it
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "shop.db")
	add := exec.Command(bin, "customers", "add", "--db", dbPath, "--email", "kept@shop.cz", "--first-name", "Kept", "--last-name", "Customer")
	add.Stdin = strings.NewReader("correct horse\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("customers add: %v\n%s", err, out)
	}
	old := filepath.Join(backups, "shopauth-2020-01-01-000000.db")
	writeFile(t, old, "an old backup")
	month := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(old, month, month); err != nil {
		t.Fatal(err)
	}
	systemd := strings.NewReplacer("$$", "$", "%%", "%", "/usr/local/bin/shopauth", bin, "/var/lib/shopauth-backup", backups)
	for _, key := range []string{"ExecStart", "ExecStartPost"} {
		line := unitValue(t, "shopauth-backup.service", key)
		if !strings.Contains(line, "/var/lib/shopauth-backup") {
			t.Fatalf("%s does not use the unit's StateDirectory /var/lib/shopauth-backup: %s", key, line)
		}
		args := strings.Fields(systemd.Replace(line))
		if args[0] == "/bin/sh" { // /bin/sh -c '…': one argument after -c
			script := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(systemd.Replace(line), "-c ", 2)[1], "'"), "'")
			args = []string{"/bin/sh", "-c", script}
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "SHOPAUTH_DB="+dbPath) // from /etc/shopauth/shopauth.env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", key, err, out)
		}
	}
	entries, err := os.ReadDir(backups)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !regexp.MustCompile(`^shopauth-\d{4}-\d\d-\d\d-\d{6}\.db$`).MatchString(entries[0].Name()) {
		t.Fatalf("the backup folder holds %v, want one dated backup (and the month-old one deleted)", entries)
	}
	backup := filepath.Join(backups, entries[0].Name())
	if fi, _ := os.Stat(backup); fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup has mode %v, want 0600", fi.Mode().Perm())
	}
	if out, err := exec.Command(bin, "customers", "list", "--db", backup).CombinedOutput(); err != nil || !strings.Contains(string(out), "kept@shop.cz") {
		t.Errorf("the backup does not hold the customer: %v\n%s", err, out)
	}
}

// installSteps returns the deploy guide's install sequence (the indented block after **Install.**).
func installSteps(t *testing.T) []string {
	t.Helper()
	guide, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(guide), "**Install.**")
	if !ok {
		t.Fatal("docs/deploy.md has no **Install.** paragraph")
	}
	var steps []string
	for _, line := range strings.Split(after, "\n")[1:] {
		if step, ok := strings.CutPrefix(line, "    "); ok {
			steps = append(steps, step)
		} else if len(steps) > 0 {
			break
		}
	}
	if len(steps) < 5 {
		t.Fatalf("the install block has %d lines", len(steps))
	}
	return steps
}

// TestInstallStepsWorkTogether checks docs/deploy.md's install sequence as far as a test machine
// allows: the user exists before files are given its group, /etc/shopauth and the env file are
// readable by the service user's group (they were root's alone: the templates were refused and
// the service restarted in a loop), every unit in deploy/ is installed and the right ones started.
// The folder and file steps run for real under a temporary root, with this user's group standing in
// for shopauth, and the modes they leave are checked.
func TestInstallStepsWorkTogether(t *testing.T) {
	steps := installSteps(t)
	index := func(prefix string) int {
		for i, s := range steps {
			if strings.HasPrefix(s, prefix) {
				return i
			}
		}
		t.Fatalf("the install steps lack %q:\n%s", prefix, strings.Join(steps, "\n"))
		return -1
	}
	user := index("useradd --system")
	units := index("install -m 0644 deploy/shopauth.socket")
	enable := index("systemctl enable --now")
	if index("systemctl daemon-reload") < units || enable < units || index("install -m 0755 shopauth /usr/local/bin/shopauth") > enable {
		t.Errorf("the steps are out of order:\n%s", strings.Join(steps, "\n"))
	}
	for _, name := range deployUnits(t) {
		if !strings.Contains(steps[units], "deploy/"+name) {
			t.Errorf("the install steps do not install deploy/%s", name)
		}
	}
	for _, name := range []string{"shopauth.socket", "shopauth.service", "shopauth-backup.timer"} {
		if !slices.Contains(strings.Fields(steps[enable]), name) {
			t.Errorf("%q does not enable %s", steps[enable], name)
		}
	}

	root := t.TempDir()
	gid := strconv.Itoa(os.Getgid())
	var ran int
	for i, step := range steps {
		if !strings.Contains(step, "/etc/shopauth") || !strings.HasPrefix(step, "install ") {
			continue
		}
		if !strings.Contains(step, "-g shopauth") {
			t.Errorf("%q does not give the file to the group shopauth: the service could not read it", step)
		}
		if i < user {
			t.Errorf("%q comes before the shopauth user (and group) is made", step)
		}
		args := strings.Fields(strings.NewReplacer("/etc/", root+"/etc/", "-o root", "-o "+strconv.Itoa(os.Getuid()),
			"-g shopauth", "-g "+gid).Replace(step))
		install := exec.Command(args[0], args[1:]...)
		install.Dir = ".." // the steps name the files as the repository has them (deploy/shopauth.env)
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", step, err, out)
		}
		ran++
	}
	if ran < 2 {
		t.Fatalf("only %d install steps touch /etc/shopauth", ran)
	}
	for path, want := range map[string]os.FileMode{
		"etc/shopauth":              os.ModeDir | 0o750, // the group may enter and list
		"etc/shopauth/shopauth.env": 0o640,              // the group may read; others nothing (the SMTP password)
	} {
		fi, err := os.Stat(filepath.Join(root, path))
		if err != nil {
			t.Fatalf("the install steps did not make /%s: %v", path, err)
		}
		if fi.Mode() != want || strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Gid)) != gid {
			t.Errorf("/%s: mode %v group %d, want %v and the shopauth group", path, fi.Mode(), fi.Sys().(*syscall.Stat_t).Gid, want)
		}
	}
}

func TestMain(m *testing.M) { servetest.Main(m) }
