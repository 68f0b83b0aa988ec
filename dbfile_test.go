package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shopauth/internal/testkit"
)

// TestDatabaseFileDeletedStopsServing: the SQLite file deleted under a running
// server turns /healthz to 503 at once and stops the server with a clear log line, instead of
// answering writes that are lost at the next start; a start on a missing file says loudly that it
// made a new database.
func TestDatabaseFileDeletedStopsServing(t *testing.T) {
	logs := &testkit.LogBuffer{}
	m := NewMain()
	m.Addr = "127.0.0.1:0"
	m.DBPath = filepath.Join(t.TempDir(), "shop.db")
	m.Log = slog.New(slog.NewTextHandler(logs, nil))
	m.Stdout = logs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.Contains(logs.String(), `level=WARN msg="created a new database"`) {
		t.Errorf("no loud line about the new database in:\n%s", logs)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	health := func() int {
		resp, err := http.Get(m.URL() + "/healthz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := health(); code != 200 {
		t.Fatalf("healthz before = %d", code)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(m.DBPath + suffix)
	}
	if code := health(); code != 503 {
		t.Errorf("healthz with the file deleted = %d, want 503", code)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is gone") {
			t.Errorf("Run ended with %v, want the file named gone", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the server went on serving a deleted database")
	}
	if !strings.Contains(logs.String(), "STOPPING: the database file was deleted") {
		t.Errorf("no clear log line:\n%s", logs)
	}
}

// TestServeOnABusyAddressCreatesNoDatabase: a serve that cannot listen exits 1 naming the address
// and leaves no database behind; it used to create (and leave open) a new database first, so the
// next start no longer said that it had made one.
func TestServeOnABusyAddressCreatesNoDatabase(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	for _, args := range [][]string{
		{"serve", "--addr", busy.Addr().String(), "--db", dbPath},
		{"serve", "--addr", busy.Addr().String(), "--issuer", "https://auth.shop.cz", "--mail-log", "--db", dbPath},
		{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", busy.Addr().String(), "--db", dbPath},
	} {
		code, _, stderr := runArgs(t, "", args...)
		if code != 1 || !strings.Contains(stderr, busy.Addr().String()) {
			t.Errorf("%v: exit %d, want 1 naming %s:\n%s", args, code, busy.Addr(), stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%v: a serve that could not listen left %v behind", args, entries)
		}
	}
}
