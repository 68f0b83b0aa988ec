// Package servetest runs the shopauth binary for the tests that drive it as an operator and a
// browser do (e2e/, deploy/): Main builds it once per test run, Start runs `shopauth serve` and
// waits until it listens, Node runs a script of e2e/ against it.
package servetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
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

// Bin is the shopauth binary Main built for this test run.
var Bin string

// Main builds shopauth once for a package's tests (call it from TestMain), runs them and removes
// the build. Under -short the tests that need the binary skip, and nothing is built.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "shopauth-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if Bin, err = Build(ModuleRoot(), filepath.Join(dir, "shopauth")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// Binary is Bin, or skips the test when it was not built (-short).
func Binary(t testing.TB) string {
	t.Helper()
	if Bin == "" {
		t.Skip("-short: the shopauth binary is not built")
	}
	return Bin
}

// ModuleRoot is the folder of shopauth's go.mod.
var ModuleRoot = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		panic(fmt.Sprintf("go env GOMOD: %v", err))
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
})

// Build builds the shopauth command of the module in src into bin.
func Build(src, bin string) (string, error) {
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", src, err, out)
	}
	return bin, nil
}

// Server is a running `shopauth serve` process.
type Server struct {
	Cmd     *exec.Cmd
	URL     string        // where it listens, from its "shopauth listening on" line
	LogPath string        // its standard error
	exited  chan struct{} // closed when the process has ended
	err     error         // how it ended
}

var listeningLine = regexp.MustCompile(`shopauth listening on (http://\S+)`)

// Start runs `shopauth serve` on a free port and dbPath, with extra flags after the usual ones
// (a flag given again wins: --addr, --issuer).
func Start(t testing.TB, bin, dbPath string, extra ...string) *Server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--db", dbPath, "--metrics"}, extra...)...)
	cmd.Env = append(os.Environ(), "SHOPAUTH_ISSUER=http://127.0.0.1:8000")
	return StartCommand(t, cmd)
}

// StartCommand starts a prepared shopauth serve command and waits until it listens. The test's
// cleanup kills it if it still runs.
func StartCommand(t testing.TB, cmd *exec.Cmd) *Server {
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
	s := &Server{Cmd: cmd, LogPath: logFile.Name(), exited: make(chan struct{})}
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
	case s.URL = <-urlc:
		return s
	case <-s.exited:
		t.Fatalf("the server exited at start: %v\n%s", s.err, s.Log())
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not start in 20 s\n%s", s.Log())
	}
	return nil
}

// Log is the end of the server's log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Kill9 kills the server with SIGKILL and waits until it is gone.
func (s *Server) Kill9(t testing.TB) {
	t.Helper()
	if err := s.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(10 * time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("after SIGKILL the process ended with %v", err)
	}
}

// Wait waits at most d for the process to end, and says how it ended.
func (s *Server) Wait(d time.Duration) error {
	select {
	case <-s.exited:
		return s.err
	case <-time.After(d):
		return errors.New("the process did not exit")
	}
}

// Stop ends the server with SIGTERM and waits for its clean exit.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(20 * time.Second); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, s.Log())
	}
}

// FreePort is a TCP port on 127.0.0.1 that nothing listened on a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// Metric reads one sample of /metrics as an integer.
func (s *Server) Metric(t testing.TB, name string) int {
	t.Helper()
	res, err := http.Get(s.URL + "/metrics")
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

// AnswerError is a refresh the server answered, with an error: never a lost reply.
type AnswerError struct {
	Status int
	Body   string
}

func (e *AnswerError) Error() string { return fmt.Sprintf("answered %d %s", e.Status, e.Body) }

// RefreshOnce presents a refresh token and returns the new one. A transport error (the server
// died) is returned as it is; an answer without a token as *AnswerError.
func RefreshOnce(client *http.Client, url, token string) (string, error) {
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
		return "", &AnswerError{res.StatusCode, string(raw)}
	}
	return r.Data.RefreshTokens.RefreshToken, nil
}
