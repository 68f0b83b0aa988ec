// Package pgtest gives tests a PostgreSQL database of their own on the throwaway cluster that
// test.sh and .ci/run start (scripts/pg-test-cluster.sh), found through SHOPAUTH_TEST_POSTGRES.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable with the test cluster's URL (a superuser's).
const EnvURL = "SHOPAUTH_TEST_POSTGRES"

// InCI reports whether the tests run in CI, where the PostgreSQL tests must run rather than skip.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && v != "false"
}

// AdminURL returns the cluster's URL. Without one the test is skipped, saying so, outside CI; in
// CI it fails.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if InCI() {
			t.Fatalf("%s is not set: in CI the PostgreSQL tests must run (./test.sh starts a cluster with scripts/pg-test-cluster.sh)", EnvURL)
		}
		t.Skipf("PostgreSQL test skipped: %s is not set and this is not CI (./test.sh starts a throwaway cluster and sets it)", EnvURL)
	}
	return u
}

// NewDatabase creates an empty database for this test, drops it when the test ends, and returns
// its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "shopauth_test_" + hex.EncodeToString(b)
	execSQL(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { execSQL(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

func execSQL(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test cluster: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Cluster is a PostgreSQL server of the test's own, which the test may stop and start (the shared
// cluster serves other tests at the same time, so an outage test needs its own).
type Cluster struct {
	URL  string
	t    testing.TB
	as   []string // runuser -u postgres -- when running as root: initdb and postgres refuse root
	ctl  string
	data string
	opts string
}

// StartCluster initdbs and starts a cluster in a temporary folder on a free loopback port, and
// stops and deletes it when the test ends. It skips or fails as AdminURL does.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	AdminURL(t)
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)")
	}
	sort.Strings(bins)
	bindir := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "shopauth-pg-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &Cluster{t: t, ctl: filepath.Join(bindir, "pg_ctl"), data: filepath.Join(dir, "data")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.as = []string{"runuser", "-u", "postgres", "--"}
	}
	c.run(filepath.Join(bindir, "initdb"), "-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c.opts = fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", port, dir)
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	c.Start()
	t.Cleanup(func() { c.run(c.ctl, "-D", c.data, "-m", "immediate", "stop") })
	return c
}

func (c *Cluster) run(name string, args ...string) {
	c.t.Helper()
	argv := append(append(append([]string{}, c.as...), name), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	c.run(c.ctl, "-D", c.data, "-l", filepath.Join(filepath.Dir(c.data), "server.log"), "-w", "-t", "60", "-o", c.opts, "start")
}

// Stop stops the server at once (clients' connections are cut, as in a crash).
func (c *Cluster) Stop() {
	c.t.Helper()
	c.run(c.ctl, "-D", c.data, "-m", "immediate", "-w", "stop")
}
