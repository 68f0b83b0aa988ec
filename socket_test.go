package main

import (
	"strings"
	"testing"
)

func TestPassedSockets(t *testing.T) {
	const pid = 4242
	for _, tt := range []struct {
		name      string
		env       map[string]string
		want      int
		wantError string
	}{
		{"none", nil, 0, ""},
		{"one for this process", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "4242"}, 1, ""},
		{"one for another process", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "17"}, 0, ""},
		{"no pid", map[string]string{"LISTEN_FDS": "1"}, 0, ""},
		{"two", map[string]string{"LISTEN_FDS": "2", "LISTEN_PID": "4242"}, 0, "systemd passed 2 sockets"},
		{"not a number", map[string]string{"LISTEN_FDS": "x", "LISTEN_PID": "4242"}, 0, `LISTEN_FDS="x" is not a number`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := passedSockets(func(k string) string { return tt.env[k] }, pid)
			if n != tt.want || (err == nil) != (tt.wantError == "") || (err != nil && !strings.Contains(err.Error(), tt.wantError)) {
				t.Errorf("passedSockets = %d, %v; want %d, %q", n, err, tt.want, tt.wantError)
			}
		})
	}
}
