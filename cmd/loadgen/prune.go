package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The prune phase (-prune N): the server's database holds N sessions that expired a day ago, and
// the refresh load runs from the server's start until its first prune (one minute after it starts,
// then every minute) has deleted them, and two seconds more. The refreshes that started while the
// prune ran are compared with those before it: the prune deletes in batches, each its own write
// transaction, so a refresh should wait at most one batch.

// pruneTick is when the server's first prune starts after it is up (its ticker's period).
const pruneTick = time.Minute

// pruneTimeout bounds the whole phase.
const pruneTimeout = 20 * time.Minute

// pruneResult is what the prune phase measured.
type pruneResult struct {
	label              string
	pruned             int           // sessions the server said it deleted
	took               time.Duration // from the tick to the log line
	before, during     latencies
	errors, requests   int
	firstError         string
	cpuPerRequest      time.Duration
	peakRSS            int64
	noPruneWithinLimit bool
}

type latencies struct {
	n             int
	p50, p99, max time.Duration
}

func summarizeLatencies(l []time.Duration) latencies {
	if len(l) == 0 {
		return latencies{}
	}
	slices.Sort(l)
	return latencies{n: len(l), p50: l[len(l)*50/100], p99: l[len(l)*99/100], max: l[len(l)-1]}
}

var prunedLine = regexp.MustCompile(`msg="pruned expired sessions" count=(\d+)`)

// drivePrune runs the refresh step per client from the server's start (up, when /healthz first
// answered) until the server has logged its prune and two seconds have passed.
func drivePrune(label string, s *server, logPath string, up time.Time, clients []*client, step func(c *client) error) pruneResult {
	r := pruneResult{label: label}
	resetPeakRSS(s.pid())
	cpu0 := cpuTime(s.pid())
	stop := make(chan struct{})
	var pruneEnd time.Time
	go func() {
		defer close(stop)
		deadline := up.Add(pruneTimeout)
		for time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			b, _ := os.ReadFile(logPath)
			if m := prunedLine.FindSubmatch(b); m != nil {
				pruneEnd = time.Now()
				r.pruned, _ = strconv.Atoi(string(m[1]))
				time.Sleep(2 * time.Second)
				return
			}
			if bytes.Contains(b, []byte(`msg=prune `)) { // the prune failed: its error is in the log
				return
			}
		}
		r.noPruneWithinLimit = true
	}()
	type sample struct {
		at  time.Time
		lat time.Duration
	}
	var mu sync.Mutex
	var all []sample
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			var mine []sample
			for {
				select {
				case <-stop:
					mu.Lock()
					all = append(all, mine...)
					mu.Unlock()
					return
				default:
				}
				t0 := time.Now()
				err := step(c)
				mine = append(mine, sample{t0, time.Since(t0)})
				if err != nil {
					mu.Lock()
					if r.errors == 0 {
						r.firstError = err.Error()
					}
					r.errors++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	r.requests = len(all)
	r.peakRSS = peakRSS(s.pid())
	if len(all) > 0 {
		r.cpuPerRequest = (cpuTime(s.pid()) - cpu0) / time.Duration(len(all))
	}
	if pruneEnd.IsZero() {
		return r
	}
	// The ticker starts a little before /healthz answers: the prune began at most a minute after up.
	pruneStart := up.Add(pruneTick - time.Second)
	r.took = pruneEnd.Sub(up.Add(pruneTick))
	var before, during []time.Duration
	for _, x := range all {
		switch {
		case x.at.Before(up.Add(2 * time.Second)): // warming up
		case x.at.Before(pruneStart):
			before = append(before, x.lat)
		case x.at.Before(pruneEnd):
			during = append(during, x.lat)
		}
	}
	r.before, r.during = summarizeLatencies(before), summarizeLatencies(during)
	return r
}

// runPrune prefills target with live customers and sessions and n expired sessions, registers
// the clients on one server process, and measures refresh through a fresh one while it prunes.
func runPrune(o *options, dir, label, target string, start func() (*server, error)) (pruneResult, error) {
	customers, live := max(o.prefillCustomers, 1000), o.prefillSessions
	t0 := time.Now()
	if err := prefill(target, customers, live, o.prune); err != nil {
		return pruneResult{}, fmt.Errorf("prefill: %w", err)
	}
	fmt.Printf("%s: prefilled %d customers, %d live and %d expired sessions in %v\n", label, customers, live, o.prune, time.Since(t0).Round(time.Millisecond))
	s, err := start()
	if err != nil {
		return pruneResult{}, err
	}
	hc := newHTTPClient(o.clients)
	clients, err := registerClients(hc, s.url, o.clients)
	s.stop()
	if err != nil {
		return pruneResult{}, err
	}
	if s, err = start(); err != nil {
		return pruneResult{}, err
	}
	up := time.Now()
	defer s.stop()
	hc.CloseIdleConnections()
	logPath := filepath.Join(dir, filepath.Base(s.logName))
	fmt.Printf("%s: server pid %d; refreshing until its first prune (%v after start) has ended\n", label, s.pid(), pruneTick)
	return drivePrune(label, s, logPath, up, clients, refreshStep(hc, s.url)), nil
}

func printPrune(r pruneResult) {
	ms := func(d time.Duration) string { return round(d) }
	switch {
	case r.noPruneWithinLimit:
		fmt.Printf("prune %s: no prune logged within %v\n", r.label, pruneTimeout)
		return
	case r.pruned == 0:
		fmt.Printf("prune %s: the prune failed or deleted nothing (see the server log); %d requests, %d errors\n", r.label, r.requests, r.errors)
		return
	}
	fmt.Printf("prune %s: %d expired sessions deleted in about %v while refreshing (%d requests, %d errors, server CPU %s per request, peak RSS %.1f MiB)\n",
		r.label, r.pruned, r.took.Round(100*time.Millisecond), r.requests, r.errors, ms(r.cpuPerRequest), float64(r.peakRSS)/(1<<20))
	fmt.Printf("    refresh before the prune: %d requests, p50 %s, p99 %s, max %s\n", r.before.n, ms(r.before.p50), ms(r.before.p99), ms(r.before.max))
	fmt.Printf("    refresh during the prune: %d requests, p50 %s, p99 %s, max %s\n", r.during.n, ms(r.during.p50), ms(r.during.p99), ms(r.during.max))
	stall := r.during.p99 - r.before.p99
	fmt.Printf("    p99 stall (during − before): %s; target ≤ 50 ms: %s\n", ms(stall), verdict(stall <= 50*time.Millisecond && r.errors == 0))
	if r.firstError != "" {
		fmt.Printf("    first error: %s\n", r.firstError)
	}
}
