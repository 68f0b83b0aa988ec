package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	bin := buildBinary(t)
	dbPath := filepath.Join(dir, "shop.db")
	const clients, rounds = 20, 3

	srv := startBinary(t, bin, dbPath)
	tokens := make([]string, clients)
	for i := range clients {
		tokens[i] = register(t, srv.url, fmt.Sprintf("kill%02d@example.com", i), "correct horse").RefreshToken
	}
	var wg sync.WaitGroup

	verified, graced, refreshed := 0, 0, 0
	for round := 1; round <= rounds; round++ {
		// Load: every client refreshes its chain as fast as the server answers.
		var answered [clients]int
		var failures []string
		var mu sync.Mutex
		stop := make(chan struct{})
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 20 * time.Second}
		for i := range clients {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					next, err := refreshOnce(client, srv.url, tokens[i])
					var answer *gqlAnswerError
					switch {
					case errors.As(err, &answer):
						mu.Lock()
						failures = append(failures, fmt.Sprintf("client %d: %v", i, err))
						mu.Unlock()
						return
					case err != nil:
						return // the server is gone; the reply, if any, was lost
					}
					tokens[i] = next // received: this is now the token the client holds
					answered[i]++
				}
			})
		}
		time.Sleep(time.Second + rand.N(time.Second))
		srv.kill9(t)
		close(stop)
		wg.Wait()
		for _, f := range failures {
			t.Errorf("round %d: the server answered a refresh with an error before the kill: %s", round, f)
		}
		total := 0
		for _, n := range answered {
			total += n
		}
		refreshed += total

		srv = startBinary(t, bin, dbPath)
		for i := range clients {
			next, err := refreshOnce(http.DefaultClient, srv.url, tokens[i])
			if err != nil {
				t.Errorf("round %d: client %d's last received refresh token no longer refreshes: %v", round, i, err)
				continue
			}
			after, err := refreshOnce(http.DefaultClient, srv.url, next)
			if err != nil {
				t.Errorf("round %d: client %d: the token the restarted server answered with does not refresh: %v", round, i, err)
				continue
			}
			tokens[i] = after
			verified++
		}
		grace := srv.metric(t, `shopauth_refreshes_total{result="grace"}`)
		graced += grace
		t.Logf("round %d: %d refreshes answered before SIGKILL; after restart %d/%d last received tokens refreshed (%d through the grace interval: their rotation had committed but the reply was lost)",
			round, total, clients, clients, grace)
	}
	t.Logf("kill -9 durability: %d rounds, %d refreshes answered under load, %d last-received tokens verified after restart (%d via grace)",
		rounds, refreshed, verified, graced)

	// SIGTERM: a clean exit that checkpoints and closes the database.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.wait(15 * time.Second); err != nil {
		t.Errorf("after SIGTERM: %v\n%s", err, srv.log())
	}
	if fi, err := os.Stat(dbPath + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL holds %d bytes after SIGTERM: not checkpointed", fi.Size())
	}
}

// binaryServer is a running shopauth process.
type binaryServer struct {
	cmd     *exec.Cmd
	url     string
	logPath string
	exited  chan struct{} // closed when the process has ended
	err     error         // how it ended
}

var listeningLine = regexp.MustCompile(`shopauth listening on (http://\S+)`)

// startBinary runs `shopauth serve` on a free port and dbPath, with extra flags after the usual
// ones (a flag given again wins: --addr, --issuer).
func startBinary(t *testing.T, bin, dbPath string, extra ...string) *binaryServer {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--db", dbPath, "--metrics"}, extra...)...)
	cmd.Env = append(os.Environ(), "SHOPAUTH_ISSUER=http://127.0.0.1:8000")
	return startCommand(t, cmd)
}

// startCommand starts a prepared shopauth serve command and waits until it listens.
func startCommand(t *testing.T, cmd *exec.Cmd) *binaryServer {
	t.Helper()
	logFile, err := os.CreateTemp(t.TempDir(), "server-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &binaryServer{cmd: cmd, logPath: logFile.Name(), exited: make(chan struct{})}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
	})
	select {
	case s.url = <-urlc:
		return s
	case <-s.exited:
		t.Fatalf("the server exited at start: %v\n%s", s.err, s.log())
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not start in 20 s\n%s", s.log())
	}
	return nil
}

func (s *binaryServer) log() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (s *binaryServer) kill9(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(10 * time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("after SIGKILL the process ended with %v", err)
	}
}

func (s *binaryServer) wait(d time.Duration) error {
	select {
	case <-s.exited:
		return s.err
	case <-time.After(d):
		return errors.New("the process did not exit")
	}
}

// metric reads one sample of /metrics as an integer.
func (s *binaryServer) metric(t *testing.T, name string) int {
	t.Helper()
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// gqlAnswerError is a refresh the server answered, with an error: never a lost reply.
type gqlAnswerError struct {
	status int
	body   string
}

func (e *gqlAnswerError) Error() string { return fmt.Sprintf("answered %d %s", e.status, e.body) }

// refreshOnce presents a refresh token and returns the new one. A transport error (the server
// died) is returned as it is; an answer without a token as *gqlAnswerError.
func refreshOnce(client *http.Client, url, token string) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation ($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken refreshToken } }`,
		"variables": map[string]any{"t": token}})
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err // cut off mid-body: the reply was lost
	}
	var r struct {
		Data struct {
			RefreshTokens struct{ RefreshToken string }
		}
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &r) != nil || r.Data.RefreshTokens.RefreshToken == "" {
		return "", &gqlAnswerError{res.StatusCode, string(raw)}
	}
	return r.Data.RefreshTokens.RefreshToken, nil
}
