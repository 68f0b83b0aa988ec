package e2e

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
)

// TestKill9KeepsEveryAnsweredToken runs the real binary under a refresh load, kills it with
// SIGKILL in the middle of it, restarts it on the same database and checks, for every client,
// the last refresh token the server answered it with.
//
// What must hold: a reply is written only after its transaction committed, and a commit in WAL
// mode survives the process (synchronous=NORMAL loses nothing to kill -9, only to a power cut).
// So each client's last received token T was the session's current token when it was answered.
// If the client had sent T again and the kill came after that rotation committed but before the
// reply arrived, T is now the just-rotated token, which the grace interval (10 s) still answers
// with the committed successor. Either way presenting T after the restart must succeed, and the
// token it returns must refresh in turn (the session was not ended as a reuse, nor forked).
func TestKill9KeepsEveryAnsweredToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	dir := t.TempDir()
	bin := servetest.Binary(t)
	dbPath := filepath.Join(dir, "shop.db")
	const clients, rounds = 20, 3

	srv := servetest.Start(t, bin, dbPath)
	tokens := make([]string, clients)
	for i := range clients {
		tokens[i] = testkit.Register(t, srv.URL, fmt.Sprintf("kill%02d@example.com", i), "correct horse").RefreshToken
	}
	verified, graced, refreshed := 0, 0, 0
	for round := 1; round <= rounds; round++ {
		answered, failures := refreshUntilKilled(tokens,
			func(int, int) string { return srv.URL },
			func(string) bool { return true }, // the server is gone; the reply, if any, was lost
			func() { srv.Kill9(t) })
		for _, f := range failures {
			t.Errorf("round %d: the server answered a refresh with an error before the kill: %s", round, f)
		}
		total := 0
		for _, n := range answered {
			total += n
		}
		refreshed += total

		srv = servetest.Start(t, bin, dbPath)
		for i := range clients {
			next, err := servetest.RefreshOnce(http.DefaultClient, srv.URL, tokens[i])
			if err != nil {
				t.Errorf("round %d: client %d's last received refresh token no longer refreshes: %v", round, i, err)
				continue
			}
			after, err := servetest.RefreshOnce(http.DefaultClient, srv.URL, next)
			if err != nil {
				t.Errorf("round %d: client %d: the token the restarted server answered with does not refresh: %v", round, i, err)
				continue
			}
			tokens[i] = after
			verified++
		}
		grace := srv.Metric(t, `shopauth_refreshes_total{result="grace"}`)
		graced += grace
		t.Logf("round %d: %d refreshes answered before SIGKILL; after restart %d/%d last received tokens refreshed (%d through the grace interval: their rotation had committed but the reply was lost)",
			round, total, clients, clients, grace)
	}
	t.Logf("kill -9 durability: %d rounds, %d refreshes answered under load, %d last-received tokens verified after restart (%d via grace)",
		rounds, refreshed, verified, graced)

	// SIGTERM: a clean exit that checkpoints and closes the database.
	if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(15 * time.Second); err != nil {
		t.Errorf("after SIGTERM: %v\n%s", err, srv.Log())
	}
	if fi, err := os.Stat(dbPath + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL holds %d bytes after SIGTERM: not checkpointed", fi.Size())
	}
}

// refreshUntilKilled has every client i refresh its own chain as fast as the servers answer,
// holding in tokens[i] the last token it received, at urlOf(i, refreshes received so far); after
// one to two seconds it calls kill and waits for the clients. It returns each client's refreshes
// received and the failures: every answer with an error, and every transport error at a URL that
// lost does not report as the killed server's (where the reply, if any, was lost).
func refreshUntilKilled(tokens []string, urlOf func(client, answered int) string, lost func(url string) bool, kill func()) (answered []int, failures []string) {
	answered = make([]int, len(tokens))
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(tokens)}, Timeout: 20 * time.Second}
	for i := range tokens {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				url := urlOf(i, answered[i])
				next, err := servetest.RefreshOnce(client, url, tokens[i])
				var answer *servetest.AnswerError
				switch {
				case errors.As(err, &answer):
					fail("client %d: %v", i, err)
					return
				case err != nil && lost(url):
					return
				case err != nil:
					fail("client %d on the survivor: %v", i, err)
					return
				}
				tokens[i] = next // received: this is now the token the client holds
				answered[i]++
			}
		})
	}
	time.Sleep(time.Second + rand.N(time.Second))
	kill()
	close(stop)
	wg.Wait()
	return answered, failures
}
