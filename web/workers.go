package web

import "time"

// workers runs functions on goroutines that stay for the next one a while after finishing.
//
// Each GraphQL execution runs on a goroutine apart from its request's, so that the request can be
// answered at its deadline while the execution still runs (execute). A fresh goroutine starts with
// a small stack, and graphql-go's validation grows it by copying, several times, on every request:
// about 5 % of a refresh's CPU. A worker that stays keeps its grown stack for the next execution.
//
// A function is never queued: it goes to a worker that waits, or to a new one. So a slow
// execution (a password check) never delays another, and after a burst the extra workers leave
// once they have waited idle.
type workers struct {
	jobs chan func()
	idle time.Duration // how long a worker waits for the next function before it leaves
}

func newWorkers() *workers { return &workers{jobs: make(chan func()), idle: 10 * time.Second} }

// run calls f on a worker.
func (ws *workers) run(f func()) {
	select {
	case ws.jobs <- f:
	default:
		go ws.work(f)
	}
}

func (ws *workers) work(f func()) {
	idle := time.NewTimer(ws.idle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(ws.idle)
		select {
		case f = <-ws.jobs:
		case <-idle.C:
			return
		}
	}
}
