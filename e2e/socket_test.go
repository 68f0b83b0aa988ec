package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
)

// TestRestartWithASystemdSocketDropsNothing plays systemd: the test holds the listening socket and
// passes it to the real binary as file descriptor 3 (LISTEN_FDS=1, LISTEN_PID its pid), as
// deploy/shopauth.socket does. Clients call the API in a loop, on a new connection each time (as
// nginx does), across a restart: SIGTERM to the running server, and a new one started on the same
// socket once it has exited. A request sent while no server runs waits in the socket's queue and
// is answered by the next one. Not one request may fail.
func TestRestartWithASystemdSocketDropsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary and restarts it")
	}
	dir := t.TempDir()
	bin := servetest.Binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	socket, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer socket.Close()
	url := "http://" + ln.Addr().String()
	dbPath := filepath.Join(dir, "shop.db")
	start := func() *servetest.Server {
		t.Helper()
		// exec keeps the shell's pid, so $$ is the server's own: LISTEN_PID must name it.
		cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" serve --db "$1"`, bin, dbPath)
		cmd.Env = append(os.Environ(), "SHOPAUTH_ISSUER="+url, "SHOPAUTH_ADDR=127.0.0.1:1") // --addr is not used
		cmd.ExtraFiles = []*os.File{socket}
		s := servetest.StartCommand(t, cmd)
		if s.URL != url {
			t.Fatalf("the server listens on %s, not on the passed socket %s", s.URL, url)
		}
		if !strings.Contains(s.Log(), "listening on the socket systemd passed") {
			t.Errorf("the log does not say it took the socket:\n%s", s.Log())
		}
		return s
	}

	first := start()
	access := testkit.Register(t, url, "restart@example.com", "correct horse").AccessToken
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	call := func() error {
		req, _ := http.NewRequest("POST", url+"/graphql", strings.NewReader(`{"query":"{ currentCustomerUser { email } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+access)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 || !strings.Contains(string(body), "restart@example.com") {
			return fmt.Errorf("%d %s %v", res.StatusCode, body, err)
		}
		return nil
	}

	var ok, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	stopLoop := make(chan struct{})
	var wg sync.WaitGroup
	const clients = 4
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoop:
					return
				default:
				}
				if err := call(); err != nil {
					failed.Add(1)
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	waitFor := func(n int64) {
		for ok.Load()+failed.Load() < n {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(40)

	// The restart: SIGTERM, wait for the exit, one request while no server runs, start the next.
	if err := first.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(30 * time.Second); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, first.Log())
	}
	beforeSecond := ok.Load() + failed.Load()
	queued := make(chan error, 1)
	go func() { queued <- call() }()
	second := start()
	if err := <-queued; err != nil {
		t.Errorf("the request sent while no server ran: %v", err)
	}
	waitFor(beforeSecond + 40)
	close(stopLoop)
	wg.Wait()
	second.Stop(t)

	t.Logf("%d requests answered across the restart, %d failed", ok.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d requests failed across the restart, for example: %v", failed.Load(), failures[:min(3, len(failures))])
	}
}
