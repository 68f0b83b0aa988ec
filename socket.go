package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// Socket activation: systemd (deploy/shopauth.socket) holds the listening socket and passes it to
// each shopauth serve it starts, so during a restart or an upgrade connections wait in the
// socket's queue instead of being refused. The protocol is sd_listen_fds(3): LISTEN_PID names the
// process the sockets are for, LISTEN_FDS how many there are, from file descriptor 3 on.

// listenFDsStart is the first passed file descriptor (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// passedSockets says how many sockets the environment passes to the process pid: 0 when none are
// passed, or they are meant for another process (a parent that did not clear the variables).
func passedSockets(getenv func(string) string, pid int) (int, error) {
	fds := getenv("LISTEN_FDS")
	if fds == "" || getenv("LISTEN_PID") != strconv.Itoa(pid) {
		return 0, nil
	}
	n, err := strconv.Atoi(fds)
	switch {
	case err != nil || n < 0:
		return 0, fmt.Errorf("LISTEN_FDS=%q is not a number of sockets", fds)
	case n > 1:
		return 0, fmt.Errorf("systemd passed %d sockets (LISTEN_FDS=%d); shopauth serve takes one: give shopauth.socket one ListenStream=", n, n)
	}
	return n, nil
}

// systemdListener returns the listening socket systemd passed to this process, or nil when it
// passed none. The variables are cleared, so that no child process takes them for its own.
func systemdListener() (net.Listener, error) {
	n, err := passedSockets(os.Getenv, os.Getpid())
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
	if err != nil || n == 0 {
		return nil, err
	}
	f := os.NewFile(listenFDsStart, "systemd socket")
	if f == nil {
		return nil, errors.New("LISTEN_FDS=1 but file descriptor 3 is not open")
	}
	defer f.Close() // FileListener made its own copy
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("the socket systemd passed (file descriptor 3) is not a listening TCP socket: %w", err)
	}
	return ln, nil
}

// closeOnce is a listener whose Close may be called twice (by Run, then by http.Server.Shutdown)
// and closes once.
type closeOnce struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *closeOnce) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// acceptedConns tracks, through the server's ConnState hook, the connections that are waiting for
// their first request (http.StateNew) or are answering one (http.StateActive).
type acceptedConns struct {
	mu   sync.Mutex
	busy map[net.Conn]bool
}

func newAcceptedConns() *acceptedConns { return &acceptedConns{busy: map[net.Conn]bool{}} }

func (a *acceptedConns) track(c net.Conn, state http.ConnState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if state == http.StateNew || state == http.StateActive {
		a.busy[c] = true
	} else {
		delete(a.busy, c)
	}
}

// waitAnswered waits until no accepted connection waits for or answers a request, or until ctx
// is done. A connection that never sends one is closed by the server's ReadHeaderTimeout.
func (a *acceptedConns) waitAnswered(ctx context.Context) {
	for {
		a.mu.Lock()
		n := len(a.busy)
		a.mu.Unlock()
		if n == 0 || ctx.Err() != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
