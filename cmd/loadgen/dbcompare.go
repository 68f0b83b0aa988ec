package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The -db comparison: the same refresh, authenticated read and login phases (first algorithm)
// against shopauth on SQLite, on PostgreSQL with one server process, and on PostgreSQL with two
// server processes sharing the database (each client alternating between them, as behind a
// round-robin proxy), in one run on one machine.
//
//	go run ./cmd/loadgen -db sqlite,postgres,postgres2 -pg-url postgres://postgres@127.0.0.1:5432/postgres

// dbTarget is one store set-up of the comparison.
type dbTarget struct {
	name      string // sqlite, postgres, postgres2
	processes int
}

func parseDBTargets(s string) ([]dbTarget, error) {
	var out []dbTarget
	for _, name := range strings.Split(s, ",") {
		switch name = strings.TrimSpace(name); name {
		case "sqlite", "postgres":
			out = append(out, dbTarget{name, 1})
		case "postgres2":
			out = append(out, dbTarget{name, 2})
		default:
			return nil, fmt.Errorf("-db: unknown store %q (want sqlite, postgres or postgres2)", name)
		}
	}
	return out, nil
}

// runDBComparison runs the phases once per target and prints one table and the PostgreSQL/SQLite ratios.
func runDBComparison(o options, targets []dbTarget, pgURL string) error {
	dir, err := os.MkdirTemp("", "shopauth-loadgen-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("working directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if o.bin == "" {
		o.bin = filepath.Join(dir, "shopauth")
		if err := buildServer(o.bin); err != nil {
			return err
		}
	}
	var cleanups []func()
	defer func() {
		for _, drop := range cleanups {
			drop()
		}
	}()
	fmt.Printf("machine: %d CPUs, load average %s; signing %s; %d clients, %v per phase\n",
		runtime.NumCPU(), loadAverage(), o.algs[0], o.clients, o.duration)
	var results []result
	var prunes []pruneResult
	for _, tg := range targets {
		// newDB is an empty database of the target's kind.
		newDB := func(name string) (string, error) {
			if tg.name == "sqlite" {
				return filepath.Join(dir, name+".db"), nil
			}
			if pgURL == "" {
				return "", fmt.Errorf("-db %s needs -pg-url (or SHOPAUTH_TEST_POSTGRES)", tg.name)
			}
			created, drop, err := createDatabase(pgURL)
			if err != nil {
				return "", err
			}
			cleanups = append(cleanups, drop)
			return created, nil
		}
		dbArg, err := newDB("compare")
		if err != nil {
			return err
		}
		if tg.name == "postgres" {
			printPostgresSettings(dbArg)
		}
		rs, err := runTarget(o, dir, tg, dbArg, "")
		results = append(results, rs...)
		if err == nil && o.prefillCustomers > 0 && tg.processes == 1 {
			// The refresh again, on a database prefilled with customers and sessions.
			var big string
			if big, err = newDB("compare-prefilled"); err == nil {
				t0 := time.Now()
				if err = prefill(big, o.prefillCustomers, o.prefillSessions, 0); err == nil {
					fmt.Printf("%s: prefilled %d customers and %d sessions in %v\n", tg.name, o.prefillCustomers, o.prefillSessions, time.Since(t0).Round(time.Millisecond))
					refreshOnly := o
					refreshOnly.phases = map[string]bool{"refresh": true}
					rs, err = runTarget(refreshOnly, dir, tg, big, fmt.Sprintf(", %dk customers/%dk sessions", o.prefillCustomers/1000, o.prefillSessions/1000))
					results = append(results, rs...)
				}
			}
		}
		if err == nil && o.prune > 0 && tg.processes == 1 {
			var target string
			if target, err = newDB("compare-prune"); err == nil {
				var r pruneResult
				r, err = runPrune(&o, dir, fmt.Sprintf("%s, %s", o.algs[0], tg.name), target,
					func() (*server, error) { return startServe(&o, dir, tg.name+"-prune", target, o.algs[0]) })
				prunes = append(prunes, r)
			}
		}
		if err != nil {
			printResults(results)
			return err
		}
	}
	printResults(results)
	fmt.Println()
	summarizeDB(results)
	for _, r := range prunes {
		printPrune(r)
	}
	fmt.Printf("\nload average at the end: %s\n", loadAverage())
	return nil
}

// runTarget registers the clients, then starts the target's server processes afresh and drives
// refresh, read and login through them.
func runTarget(o options, dir string, tg dbTarget, dbArg, suffix string) ([]result, error) {
	start := func(i int) (*server, error) {
		// The login phase is many right answers from one address: no throttle stands in its way
		// (only failures count); registration is limited per address, and startServe lifts that.
		return startServe(&o, dir, fmt.Sprintf("%s-%d", tg.name, i), dbArg, o.algs[0])
	}
	s, err := start(0)
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(o.clients)
	clients, err := registerClients(hc, s.url, o.clients)
	s.stop()
	if err != nil {
		return nil, err
	}
	servers := make([]*server, tg.processes)
	for i := range servers {
		if servers[i], err = start(i); err != nil {
			return nil, err
		}
		defer servers[i].stop()
	}
	hc.CloseIdleConnections()
	label := fmt.Sprintf("%s, %d process", tg.name, tg.processes)
	if tg.processes > 1 {
		label += "es"
	}
	label += suffix
	// Each request goes to the next process in turn, per client (a round-robin proxy).
	var turn atomic.Uint64
	pick := func() string { return servers[turn.Add(1)%uint64(len(servers))].url }
	pid := servers[0].pid()
	var out []result
	if o.phases["refresh"] {
		out = append(out, drive("RefreshTokens", label, pid, clients, o.duration, refreshStepVia(hc, pick)))
	}
	if o.phases["read"] {
		read := body(currentQuery, nil)
		out = append(out, drive("currentCustomerUser", label, pid, clients, o.duration, func(c *client) error {
			_, err := post(hc, pick(), c.access, read, "currentCustomerUser")
			return err
		}))
	}
	if o.phases["login"] {
		out = append(out, drive("Login", label, pid, clients, o.duration, func(c *client) error {
			raw, err := post(hc, pick(), "", body(loginQuery, map[string]any{"in": map[string]any{"email": c.email, "password": password}}), "Login")
			if err == nil {
				_, _, err = decodeTokens(raw)
			}
			return err
		}))
	}
	return out, nil
}

// createDatabase makes an empty database on the cluster at admin and returns its URL and a
// function that drops it.
func createDatabase(admin string) (string, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("-pg-url: %w", err)
	}
	defer c.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "shopauth_loadgen_" + hex.EncodeToString(b)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	}
	return u.String(), drop, nil
}

// printPostgresSettings prints the server settings that decide what a commit costs.
func printPostgresSettings(dbURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	var version, fsync, syncCommit string
	c.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')`).
		Scan(&version, &fsync, &syncCommit)
	fmt.Printf("PostgreSQL %s on the same machine: fsync=%s synchronous_commit=%s\n", version, fsync, syncCommit)
}

func summarizeDB(rs []result) {
	find := func(name, target string) *result {
		for i := range rs {
			if rs[i].name == name && strings.HasPrefix(rs[i].alg, target+",") {
				return &rs[i]
			}
		}
		return nil
	}
	for _, phase := range []string{"RefreshTokens", "currentCustomerUser", "Login"} {
		base := find(phase, "sqlite")
		for _, tg := range []string{"postgres", "postgres2"} {
			r := find(phase, tg)
			if base == nil || r == nil {
				continue
			}
			line := fmt.Sprintf("%s on %s: %.0f/s = %.2f × SQLite's %.0f/s", phase, r.alg, r.rate(), r.rate()/base.rate(), base.rate())
			if phase == "RefreshTokens" && tg == "postgres" {
				line += fmt.Sprintf("; target ≥ 0.50 with 0 errors: %s", verdict(r.rate() >= 0.5*base.rate() && r.errors == 0))
			}
			fmt.Println(line)
		}
	}
	for _, tg := range []string{"sqlite", "postgres"} {
		var small, big *result
		for i := range rs {
			switch {
			case rs[i].name != "RefreshTokens":
			case rs[i].alg == tg+", 1 process":
				small = &rs[i]
			case strings.HasPrefix(rs[i].alg, tg+", 1 process, "):
				big = &rs[i]
			}
		}
		if small != nil && big != nil {
			ratio := big.rate() / small.rate()
			fmt.Printf("RefreshTokens on %s: %.0f/s = %.2f × the empty database's %.0f/s; target ≥ 0.80: %s\n",
				big.alg, big.rate(), ratio, small.rate(), verdict(ratio >= 0.8 && big.errors == 0))
		}
	}
	errs := 0
	for _, r := range rs {
		errs += r.errors
	}
	fmt.Printf("errors in all phases: %d (must be 0): %s\n", errs, verdict(errs == 0))
}
