// Package pgtest gives tests a PostgreSQL database of their own on the throwaway cluster that
// test.sh and .ci/run start (scripts/pg-test-cluster.sh), found through SHOPAUTH_TEST_POSTGRES.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
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
	exec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

func exec(t testing.TB, dsn, sql string) {
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
