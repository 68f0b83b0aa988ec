package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"shopauth/auth"
)

// Metrics counts what an operator watches: the outcomes the service reports, request latency and
// open sessions. It keeps its own registry, so two servers in one process (tests) never share counters.
type Metrics struct {
	registry *prometheus.Registry
	outcomes map[string]*prometheus.CounterVec // by metric name
	latency  *prometheus.HistogramVec
	log      *slog.Logger
}

// outcomeCounters are the counters of the service's events, each with a result label.
var outcomeCounters = map[string]string{
	"shopauth_logins_total":              "Login attempts by result: ok, failed (unknown email or wrong password), throttled.",
	"shopauth_refreshes_total":           "RefreshTokens calls by result: ok (rotated), grace (retry of the just-rotated token), reused (session ended), invalid.",
	"shopauth_recovery_requests_total":   "RequestPasswordRecovery calls by result: accepted (known and unknown emails alike), throttled.",
	"shopauth_recovery_mails_total":      "Recovery mails by result: sent, failed.",
	"shopauth_password_recoveries_total": "RecoverPassword calls by result: ok, invalid (wrong, used or expired hash).",
	"shopauth_registrations_total":       "Registrations refused by result: throttled.",
	"shopauth_password_changes_total":    "ChangePassword calls refused by result: throttled.",
}

// eventCounter says which counter and result label an event of the service counts as.
type eventCounter struct{ metric, result string }

// eventCounters maps every auth.Event to its counter (a test checks that none is missing).
var eventCounters = map[auth.Event]eventCounter{
	auth.EventLoginOK:                 {"shopauth_logins_total", "ok"},
	auth.EventLoginFailed:             {"shopauth_logins_total", "failed"},
	auth.EventLoginThrottled:          {"shopauth_logins_total", "throttled"},
	auth.EventRefreshOK:               {"shopauth_refreshes_total", "ok"},
	auth.EventRefreshGrace:            {"shopauth_refreshes_total", "grace"},
	auth.EventRefreshReused:           {"shopauth_refreshes_total", "reused"},
	auth.EventRefreshInvalid:          {"shopauth_refreshes_total", "invalid"},
	auth.EventRecoveryRequested:       {"shopauth_recovery_requests_total", "accepted"},
	auth.EventRecoveryThrottled:       {"shopauth_recovery_requests_total", "throttled"},
	auth.EventRecoveryMailSent:        {"shopauth_recovery_mails_total", "sent"},
	auth.EventRecoveryMailFailed:      {"shopauth_recovery_mails_total", "failed"},
	auth.EventRecoveryOK:              {"shopauth_password_recoveries_total", "ok"},
	auth.EventRecoveryInvalid:         {"shopauth_password_recoveries_total", "invalid"},
	auth.EventRegisterThrottled:       {"shopauth_registrations_total", "throttled"},
	auth.EventChangePasswordThrottled: {"shopauth_password_changes_total", "throttled"},
}

// NewMetrics builds the registry. openSessions, when set, is asked at each scrape how many sessions
// are open; a failure is reported in the scrape's log, and the other metrics are still served.
func NewMetrics(openSessions func(ctx context.Context) (int, error), log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		outcomes: make(map[string]*prometheus.CounterVec, len(outcomeCounters)),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopauth_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		log: log,
	}
	for name, help := range outcomeCounters {
		m.outcomes[name] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"result"})
		m.registry.MustRegister(m.outcomes[name])
	}
	// Every result is exported from the start, at 0, so rate() works before the first event.
	for _, c := range eventCounters {
		m.outcomes[c.metric].WithLabelValues(c.result)
	}
	m.registry.MustRegister(m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if openSessions != nil {
		m.registry.MustRegister(&sessionsCollector{
			desc:  prometheus.NewDesc("shopauth_open_sessions", "Sessions (logged-in devices) not yet expired.", nil, nil),
			count: openSessions,
		})
	}
	return m
}

// Event counts one outcome; it has the signature of auth.Service.OnEvent.
func (m *Metrics) Event(e auth.Event) {
	if c, ok := eventCounters[e]; ok {
		m.outcomes[c.metric].WithLabelValues(c.result).Inc()
	}
}

// Observe records a finished request; it has the signature of Config.Observe.
func (m *Metrics) Observe(route string, status int, d time.Duration) {
	m.latency.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelError),
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.registry, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: false,
	})
}

// sessionsCollector asks the database at scrape time, so the gauge is never stale and costs
// nothing between scrapes.
type sessionsCollector struct {
	desc  *prometheus.Desc
	count func(ctx context.Context) (int, error)
}

func (c *sessionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *sessionsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, errors.Join(errors.New("count open sessions"), err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
