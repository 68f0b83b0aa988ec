package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"shopauth/auth"
	"shopauth/db/postgres"
	"shopauth/db/schema"
	"shopauth/db/storetest"
	"shopauth/internal/pgtest"
)

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	d, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestConformance runs the store conformance suite against PostgreSQL.
func TestConformance(t *testing.T) {
	pgtest.AdminURL(t)
	storetest.Run(t, func(t *testing.T) auth.Store { return open(t, pgtest.NewDatabase(t)) })
}

// TestDB runs the conformance cases of db.Open's store and abilities on PostgreSQL databases.
func TestDB(t *testing.T) {
	pgtest.AdminURL(t)
	storetest.RunDB(t, func(t *testing.T) string { return pgtest.NewDatabase(t) })
}

// TestMigrationsRaceAndRefuseNewer: processes starting at once on an empty database migrate it
// once between them; a database migrated by a newer binary is refused with a clear message.
func TestMigrationsRaceAndRefuseNewer(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := postgres.Open(context.Background(), url)
			if err == nil {
				d.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var applied, latest int
	if err := c.QueryRow(ctx, "SELECT COUNT(*), MAX(version) FROM shopauth_schema").Scan(&applied, &latest); err != nil {
		t.Fatal(err)
	}
	if applied != latest {
		t.Errorf("schema rows = %d for version %d: a migration ran twice or was skipped", applied, latest)
	}
	if _, err := c.Exec(ctx, "INSERT INTO shopauth_schema (version) VALUES ($1)", latest+1); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, url)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("Open of a newer database: err = %v, want a refusal naming the version", err)
	}
}

func TestIsURL(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://u@h/db":    true,
		"postgresql://h/db":    true,
		"shopauth.db":          false,
		"/var/lib/x.db":        false,
		"./postgres://x":       false,
		"file:shopauth.db":     false,
		"POSTGRES://u@h/db":    false,
		"postgres:shopauth.db": false,
	} {
		if got := postgres.IsURL(in); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestThrottleConformance runs the throttle conformance cases against the shared throttle, with
// two stores on one database standing for two processes.
func TestThrottleConformance(t *testing.T) {
	pgtest.AdminURL(t)
	storetest.RunThrottle(t, func(t *testing.T) auth.Throttle { return open(t, pgtest.NewDatabase(t)).Throttle() })
}

// TestThrottleSharedAcrossProcesses: failures counted through one process's throttle spend the
// budget in another's, and parallel guesses split over both never get more checks than the budget.
func TestThrottleSharedAcrossProcesses(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := open(t, url).Throttle(), open(t, url).Throttle()
	now := time.Now()
	l := auth.Limit{Key: "login\x00shared@x.cz\x00127.0.0.1", Max: 3}
	for i, th := range []auth.Throttle{a, b, a} {
		end, err := th.Begin(context.Background(), now, l)
		if err != nil {
			t.Fatalf("failure %d refused: %v", i+1, err)
		}
		end(true)
	}
	for name, th := range map[string]auth.Throttle{"A": a, "B": b} {
		if _, err := th.Begin(context.Background(), now, l); !errors.Is(err, auth.ErrThrottled) {
			t.Errorf("after three failures over two processes, %s: err = %v, want ErrThrottled", name, err)
		}
	}

	guess := auth.Limit{Key: "login\x00guess@x.cz\x00127.0.0.1", Max: 4}
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		th := a
		if i%2 == 1 {
			th = b
		}
		wg.Go(func() {
			end, err := th.Begin(context.Background(), now, guess)
			if err != nil {
				return
			}
			admitted.Add(1)
			end(true)
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 4 {
		t.Errorf("30 parallel wrong guesses over two processes got %d checks, want the budget, 4", n)
	}
}

// TestOpenModes: a command (schema.Current) sets up an empty database but refuses an older one and
// leaves it as it was; AsIs reads the version without migrating; Migrate says what it applied.
func TestOpenModes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	d, err := postgres.OpenMode(ctx, url, schema.AsIs)
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := schema.StatusOf(d.Migrations(), v)
	d.Close()
	if err != nil || st.Current != 0 || st.Latest == 0 || len(st.Pending) != st.Latest {
		t.Fatalf("status of an empty database: %+v, %v", st, err)
	}
	d, err = postgres.OpenMode(ctx, url, schema.Current) // an empty database: set up
	if err != nil {
		t.Fatal(err)
	}
	if from, to := d.Migrated(); from != 0 || to != st.Latest {
		t.Errorf("Migrated = %d, %d; want 0, %d", from, to, st.Latest)
	}
	d.Close()

	// Pretend the last migration is still to come.
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "DELETE FROM shopauth_schema WHERE version = $1", st.Latest); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.OpenMode(ctx, url, schema.Current)
	var outdated *schema.Outdated
	if !errors.As(err, &outdated) || outdated.Current != st.Latest-1 || outdated.Latest != st.Latest {
		t.Fatalf("Current mode on an older database: %v, want *schema.Outdated", err)
	}
	d, err = postgres.OpenMode(ctx, url, schema.AsIs)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, err := d.SchemaVersion(ctx); err != nil || v != st.Latest-1 {
		t.Errorf("after the refusal the version is %d (%v), want %d unchanged", v, err, st.Latest-1)
	}
}

// TestFirstKeysOnceAcrossProcesses: processes starting at once on an empty database make one first
// signing key and one first refresh key between them, and all sign with those; two rotations at
// once (`keys rotate` in two processes) then leave one next key.
func TestFirstKeysOnceAcrossProcesses(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	const n = 8
	svcs := make([]*auth.Service, n)
	var wg sync.WaitGroup
	for i := range n {
		d := open(t, url)
		wg.Go(func() {
			svc, err := auth.New(ctx, d, auth.DefaultConfig(), nil)
			if err != nil {
				t.Errorf("auth.New %d: %v", i, err)
			}
			svcs[i] = svc
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	count := func(pending bool, at time.Time) (signing, refresh int) {
		if err := svcs[0].ReloadKeys(ctx); err != nil {
			t.Fatal(err)
		}
		for _, k := range svcs[0].Keys() {
			if k.CreatedAt.After(at) != pending {
				continue
			}
			if k.Refresh {
				refresh++
			} else {
				signing++
			}
		}
		return signing, refresh
	}
	start := time.Now()
	if signing, refresh := count(false, start); signing != 1 || refresh != 1 {
		t.Fatalf("%d processes starting at once made %d signing keys and %d refresh keys, want 1 and 1", n, signing, refresh)
	}
	for i := range n {
		wg.Go(func() {
			if _, err := svcs[i].RotateKey(ctx, auth.EdDSA, auth.SignAfterPublishing); err != nil {
				t.Errorf("RotateKey %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if signing, refresh := count(true, start); signing != 1 || refresh != 1 {
		t.Fatalf("%d rotations at once left %d next signing keys and %d next refresh keys, want 1 and 1", n, signing, refresh)
	}
}
