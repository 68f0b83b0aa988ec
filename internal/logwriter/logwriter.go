// Package logwriter gathers the log lines a server writes together into one write.
package logwriter

import (
	"io"
	"sync"
)

// Writer hands the server's log lines to a goroutine that writes them, so that the lines of
// requests answered together go out in one write, not one write each (the access log's write was
// 3 µs of a refresh's CPU). No line waits for a timer: the goroutine writes whatever is pending as
// soon as its last write returns. Lines keep their order. A logger waits only while a megabyte is
// pending besides the one being written (a stalled stderr), as it waited for its write before. What
// is pending when the process is killed is lost: the lines of the last few microseconds.
type Writer struct {
	out io.Writer

	mu      sync.Mutex
	wake    sync.Cond // lines came, room was made, or Close was called
	pending []byte
	spare   []byte
	closed  bool
	done    chan struct{}
}

const maxPendingLog = 1 << 20

// New starts the goroutine that writes to out; Close stops it.
func New(out io.Writer) *Writer {
	w := &Writer{out: out, done: make(chan struct{})}
	w.wake.L = &w.mu
	go w.run()
	return w
}

func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.pending) >= maxPendingLog && !w.closed {
		w.wake.Wait()
	}
	if w.closed {
		return w.out.Write(p)
	}
	w.pending = append(w.pending, p...)
	w.wake.Broadcast()
	return len(p), nil
}

func (w *Writer) run() {
	defer close(w.done)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for len(w.pending) == 0 && !w.closed {
			w.wake.Wait()
		}
		if len(w.pending) == 0 {
			return // closed, and everything written
		}
		out := w.pending
		w.pending = w.spare[:0]
		w.wake.Broadcast() // room for a logger waiting on a full buffer
		w.mu.Unlock()
		w.out.Write(out) // a log line that cannot be written has nowhere else to go
		w.mu.Lock()
		w.spare = nil
		if cap(out) <= maxPendingLog {
			w.spare = out[:0]
		}
	}
}

// Close writes what is pending and returns; lines logged later are written at once.
func (w *Writer) Close() error {
	w.mu.Lock()
	w.closed = true
	w.wake.Broadcast()
	w.mu.Unlock()
	<-w.done
	return nil
}
