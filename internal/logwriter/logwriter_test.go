package logwriter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// countingWriter records each Write it gets.
type countingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{} // if set, each Write waits for a value
}

func (b *countingWriter) Write(p []byte) (int, error) {
	if b.gate != nil {
		<-b.gate
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

// Every line logged from many goroutines is written once, whole, in each goroutine's order, and
// Close returns only when all of them are out; a line logged after Close is written at once.
func TestKeepsEveryLine(t *testing.T) {
	out := &countingWriter{}
	w := New(out)
	const goroutines, lines = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(w, "g%d line %d\n", g, i)
			}
		}()
	}
	wg.Wait()
	w.Close()
	fmt.Fprintf(w, "after close\n")
	got := strings.Split(strings.TrimSuffix(out.buf.String(), "\n"), "\n")
	if len(got) != goroutines*lines+1 || got[len(got)-1] != "after close" {
		t.Fatalf("%d lines, the last %q; want %d, the last \"after close\"", len(got), got[len(got)-1], goroutines*lines+1)
	}
	next := make([]int, goroutines)
	for _, l := range got[:len(got)-1] {
		var g, i int
		if _, err := fmt.Sscanf(l, "g%d line %d", &g, &i); err != nil || i != next[g] {
			t.Fatalf("line %q: want g%d's line %d next (%v)", l, g, next[g], err)
		}
		next[g]++
	}
}

// Lines logged while a write is under way go out together in the next write.
func TestGathersLines(t *testing.T) {
	out := &countingWriter{gate: make(chan struct{})}
	w := New(out)
	fmt.Fprintf(w, "first\n") // the writer takes it and waits at the gate
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	close(out.gate)
	w.Close()
	if out.writes > 2 || !strings.HasSuffix(out.buf.String(), "line 99\n") {
		t.Fatalf("%d writes for 101 lines (want at most 2: the first line, then the rest); output ends %q",
			out.writes, out.buf.String()[max(0, out.buf.Len()-20):])
	}
}

// A logger waits while a megabyte is pending behind a stalled output, and nothing is dropped.
func TestBoundsWhatIsPending(t *testing.T) {
	out := &countingWriter{gate: make(chan struct{})}
	w := New(out)
	line := strings.Repeat("x", 1023) + "\n"
	logged := make(chan int)
	go func() {
		n := 0
		for range 3 * maxPendingLog / len(line) {
			w.Write([]byte(line))
			n++
		}
		logged <- n
	}()
	// The writer holds the first line at the gate; the logger fills a megabyte, then waits.
	for {
		w.mu.Lock()
		full := len(w.pending) >= maxPendingLog
		w.mu.Unlock()
		if full {
			break
		}
	}
	w.mu.Lock()
	if len(w.pending) > maxPendingLog+len(line) {
		t.Errorf("%d bytes pending, more than %d", len(w.pending), maxPendingLog+len(line))
	}
	w.mu.Unlock()
	close(out.gate)
	n := <-logged
	w.Close()
	if out.buf.Len() != n*len(line) {
		t.Fatalf("%d bytes written, %d logged", out.buf.Len(), n*len(line))
	}
}
