package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
)

func scrape(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Code, rec.Body.String()
}

func TestMetrics(t *testing.T) {
	open := 3
	m := NewMetrics(func(context.Context) (int, error) { return open, nil }, nil)
	for _, e := range []auth.Event{auth.EventLoginOK, auth.EventLoginFailed, auth.EventLoginFailed, auth.EventLoginThrottled,
		auth.EventRefreshOK, auth.EventRefreshOK, auth.EventRefreshOK, auth.EventRefreshGrace, auth.EventRefreshReused, auth.Event(255)} {
		m.Event(e)
	}
	m.Observe("/graphql", 200, 30*time.Millisecond)
	m.Observe("/graphql", 200, 2*time.Second)
	m.Observe("/healthz", 503, time.Millisecond)

	code, body := scrape(t, m.Handler())
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		`shopauth_logins_total{result="ok"} 1`,
		`shopauth_logins_total{result="failed"} 2`,
		`shopauth_logins_total{result="throttled"} 1`,
		`shopauth_refreshes_total{result="ok"} 3`,
		`shopauth_refreshes_total{result="grace"} 1`,
		`shopauth_refreshes_total{result="reused"} 1`,
		`shopauth_refreshes_total{result="invalid"} 0`, // exported before the first event
		`shopauth_http_request_duration_seconds_bucket{code="200",route="/graphql",le="0.05"} 1`,
		`shopauth_http_request_duration_seconds_bucket{code="200",route="/graphql",le="2.5"} 2`,
		`shopauth_http_request_duration_seconds_count{code="503",route="/healthz"} 1`,
		"# TYPE shopauth_open_sessions gauge\nshopauth_open_sessions 3\n",
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	// Two registries never share counters (no global state).
	_, other := scrape(t, NewMetrics(nil, nil).Handler())
	if !strings.Contains(other, `shopauth_logins_total{result="ok"} 0`) || strings.Contains(other, "shopauth_open_sessions") {
		t.Errorf("a second Metrics is not independent:\n%s", other)
	}
}

func TestMetricsSessionCountFailureKeepsTheRest(t *testing.T) {
	m := NewMetrics(func(context.Context) (int, error) { return 0, errors.New("database is closed") },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.Event(auth.EventLoginOK)
	code, body := scrape(t, m.Handler())
	if code != http.StatusOK || !strings.Contains(body, `shopauth_logins_total{result="ok"} 1`) {
		t.Errorf("status %d, body:\n%s", code, body)
	}
	if strings.Contains(body, "shopauth_open_sessions ") {
		t.Error("a failed count must not be exported as a value")
	}
}

func TestMetricsRouteThroughHandler(t *testing.T) {
	m := NewMetrics(nil, nil)
	h := NewHandler(Config{Metrics: m.Handler(), Observe: m.Observe,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, path := range []string{"/nope/1", "/nope/2", "/metrics"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	_, body := scrape(t, h)
	if !strings.Contains(body, `shopauth_http_request_duration_seconds_count{code="404",route="other"} 2`) {
		t.Errorf("unknown paths are not folded into route=other:\n%s", body)
	}
}

// Every event the service reports is counted, each on its own result of one counter.
func TestEveryEventIsCounted(t *testing.T) {
	seen := map[eventCounter]auth.Event{}
	for _, e := range auth.Events() {
		t.Run(e.String(), func(t *testing.T) {
			c, ok := eventCounters[e]
			if !ok {
				t.Fatalf("event %s has no counter in eventCounters", e)
			}
			if other, dup := seen[c]; dup {
				t.Errorf("events %s and %s both count as %s{result=%q}", other, e, c.metric, c.result)
			}
			seen[c] = e
			m := NewMetrics(nil, nil)
			m.Event(e)
			_, body := scrape(t, m.Handler())
			if want := c.metric + `{result="` + c.result + `"} 1` + "\n"; !strings.Contains(body, want) {
				t.Errorf("after one %s event the scrape lacks %q", e, want)
			}
		})
	}
	if len(eventCounters) != len(auth.Events()) {
		t.Errorf("eventCounters has %d entries for %d events", len(eventCounters), len(auth.Events()))
	}
}
