package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
)

// TestStopSignalsShutDownCleanly: SIGINT, SIGTERM and SIGHUP (a closed terminal, or an operator
// expecting a reload) each stop the real binary the same way: it says so, finishes, checkpoints
// and exits 0, and what it had answered is there after a restart. Without SIGHUP among the
// handled signals the process would die at once with "signal: hangup".
func TestStopSignalsShutDownCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary")
	}
	bin := servetest.Binary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "shop.db")
			srv := servetest.Start(t, bin, dbPath)
			pair := testkit.Register(t, srv.URL, fmt.Sprintf("signal%d@example.com", int(sig)), "correct horse")
			if err := srv.Cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := srv.Wait(15 * time.Second); err != nil {
				t.Fatalf("after %v: %v\n%s", sig, err, srv.Log())
			}
			if !strings.Contains(srv.Log(), "shutting down") {
				t.Errorf("after %v the log does not say it is shutting down:\n%s", sig, srv.Log())
			}
			if fi, err := os.Stat(dbPath + "-wal"); err == nil && fi.Size() > 0 {
				t.Errorf("the WAL holds %d bytes after %v: not checkpointed", fi.Size(), sig)
			}
			srv = servetest.Start(t, bin, dbPath)
			if _, err := servetest.RefreshOnce(http.DefaultClient, srv.URL, pair.RefreshToken); err != nil {
				t.Errorf("after %v and a restart the registration's refresh token does not refresh: %v", sig, err)
			}
		})
	}
}
