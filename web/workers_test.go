package web

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// A function that blocks never delays the next: it gets a worker of its own.
func TestWorkersNeverQueue(t *testing.T) {
	ws := newWorkers()
	release := make(chan struct{})
	defer close(release)
	ws.run(func() { <-release })
	done := make(chan struct{})
	ws.run(func() { close(done) })
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the second function waited for the first, which still blocks")
	}
}

// A worker that finished takes the next function: sequential runs start no goroutine each.
func TestWorkersAreReused(t *testing.T) {
	ws := newWorkers()
	ids := make(chan uint64, 1)
	ws.run(func() { ids <- goroutineID() })
	first := <-ids
	for i := range 20 {
		// The worker signals before it is back waiting: hand it the next function once it is.
		if !handToIdleWorker(ws, func() { ids <- goroutineID() }) {
			t.Fatalf("run %d: no worker came back for the next function", i)
		}
		if id := <-ids; id != first {
			t.Fatalf("run %d: ran on goroutine %d, not the worker %d", i, id, first)
		}
	}
}

func handToIdleWorker(ws *workers, f func()) bool {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); runtime.Gosched() {
		select {
		case ws.jobs <- f:
			return true
		default:
		}
	}
	return false
}

// Idle workers leave.
func TestIdleWorkersLeave(t *testing.T) {
	ws := &workers{jobs: make(chan func()), idle: time.Millisecond}
	ids := make(chan uint64, 1)
	ws.run(func() { ids <- goroutineID() })
	worker := <-ids
	// The worker's own goroutine, not the process's count of goroutines: other tests' goroutines
	// come and go meanwhile.
	for deadline := time.Now().Add(time.Minute); goroutineAlive(worker); {
		if time.Now().After(deadline) {
			t.Fatalf("the worker (goroutine %d) is still there a minute after its function", worker)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case ws.jobs <- func() {}:
		t.Fatal("a worker still took a function after it was idle")
	default:
	}
}

// goroutineAlive reports whether the goroutine numbered id still exists.
func goroutineAlive(id uint64) bool {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Contains(buf[:n], []byte(fmt.Sprintf("goroutine %d [", id)))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineID reads the running goroutine's number from its stack header ("goroutine 7 [running]:").
func goroutineID() uint64 {
	var buf [32]byte
	n := runtime.Stack(buf[:], false)
	var id uint64
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
