package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
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
