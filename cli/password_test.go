package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"shopauth/internal/testkit"
)

// endless is a standard input that never ends (a 200 MB file piped in by mistake), counting what
// is read of it.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.read += len(p)
	return len(p), nil
}

// TestPasswordFromStandardInputIsBounded: a password is one line; set-password refuses a longer
// first line after reading at most a few KiB, instead of the whole input.
func TestPasswordFromStandardInputIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	testkit.SeedCustomer(t, runArgs, path, "anna@shop.cz")
	for _, cmd := range [][]string{{"customers", "set-password", "anna@shop.cz"},
		{"customers", "add", "--email", "bert@shop.cz", "--first-name", "B", "--last-name", "C"}} {
		in := &endless{}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append(cmd, "--db", path), in, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "the first line is longer than 4096 bytes") {
			t.Errorf("%s: exit %d\n%s", cmd[1], code, stderr.String())
		}
		if in.read > 2*maxPasswordInput {
			t.Errorf("%s read %d bytes of standard input before refusing, want at most %d", cmd[1], in.read, 2*maxPasswordInput)
		}
	}
	_, svc := openTestService(t, path)
	if _, err := svc.Login(t.Context(), "anna@shop.cz", "correct horse"); err != nil {
		t.Errorf("anna's password changed: %v", err)
	}
	// The longest password accepted is maxPasswordInput bytes, on a line of its own.
	long := strings.Repeat("p", maxPasswordInput)
	if code, _, stderr := runArgs(t, long+"\n", "customers", "set-password", "anna@shop.cz", "--db", path); code != 0 {
		t.Fatalf("a %d-byte password: exit %d\n%s", len(long), code, stderr)
	}
	if _, err := svc.Login(t.Context(), "anna@shop.cz", long); err != nil {
		t.Errorf("the %d-byte password does not log in: %v", len(long), err)
	}
}

// openPTY opens a pseudo-terminal: the test types into and reads the screen from ptmx, the command
// under test reads from and writes to pts.
func openPTY(t *testing.T) (ptmx, pts *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptmx, pts
}

func watch(r io.Reader) *screen {
	s := &screen{}
	s.cond = sync.NewCond(&s.mu)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := r.Read(buf)
			s.mu.Lock()
			s.b.Write(buf[:n])
			s.done = err != nil
			s.cond.Broadcast()
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

// screen collects what the terminal shows and lets the test wait for a text to appear.
type screen struct {
	mu   sync.Mutex
	cond *sync.Cond
	b    bytes.Buffer
	done bool
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the screen shows text count times; false if the terminal closed first.
func (s *screen) waitFor(text string, count int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for strings.Count(s.b.String(), text) < count {
		if s.done {
			return false
		}
		s.cond.Wait()
	}
	return true
}

// TestPasswordOnATerminal: on a terminal set-password asks twice, and what is typed is not shown;
// two different answers change nothing.
func TestPasswordOnATerminal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	testkit.SeedCustomer(t, runArgs, path, "anna@shop.cz")
	for _, tt := range []struct {
		name          string
		first, second string
		wantCode      int
		wantPassword  string
	}{
		{"typed twice", "typed secret 1", "typed secret 1", 0, "typed secret 1"},
		{"the two differ", "typed secret 2", "typed secret 3", 1, "typed secret 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ptmx, pts := openPTY(t)
			defer ptmx.Close()
			shown := watch(ptmx)
			var stdout bytes.Buffer
			exit := make(chan int, 1)
			go func() {
				exit <- run(context.Background(), []string{"customers", "set-password", "anna@shop.cz", "--db", path}, pts, &stdout, pts)
			}()
			for i, typed := range []string{tt.first, tt.second} {
				prompt := []string{"New password for anna@shop.cz: ", "Repeat it: "}[i]
				if !shown.waitFor(prompt, 1) {
					t.Fatalf("no prompt %q; the terminal shows:\n%s", prompt, shown)
				}
				waitForNoEcho(t, pts)
				if _, err := ptmx.WriteString(typed + "\r"); err != nil {
					t.Fatal(err)
				}
			}
			code := <-exit
			pts.Close()
			shown.waitFor("\x00never shown", 1) // until the terminal closes: all it showed is read
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; the terminal shows:\n%s", code, tt.wantCode, shown)
			}
			if strings.Contains(shown.String(), "typed secret") {
				t.Errorf("the password was shown as it was typed:\n%s", shown)
			}
			if tt.wantCode == 1 && !strings.Contains(shown.String(), "the two passwords differ; nothing changed") {
				t.Errorf("the terminal does not say the two differ:\n%s", shown)
			}
			_, svc := openTestService(t, path)
			if _, err := svc.Login(t.Context(), "anna@shop.cz", tt.wantPassword); err != nil {
				t.Errorf("anna's password is not %q: %v", tt.wantPassword, err)
			}
		})
	}
}

// waitForNoEcho waits until the command has turned the terminal's echo off, so that what the test
// types next is not echoed merely because it came first.
func waitForNoEcho(t *testing.T, pts *os.File) {
	t.Helper()
	for {
		tio, err := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		syscall.Nanosleep(&syscall.Timespec{Nsec: 1e6}, nil)
	}
}
