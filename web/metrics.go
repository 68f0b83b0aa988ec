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
)

// Metrics counts what an operator watches: login and refresh outcomes, request latency and open
// sessions. It keeps its own registry, so two servers in one process (tests) never share counters.
type Metrics struct {
	registry  *prometheus.Registry
	logins    *prometheus.CounterVec
	refreshes *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	log       *slog.Logger
}

type metricEvent struct {
	login  bool // shopauth_logins_total, else shopauth_refreshes_total
	result string
}

// Outcomes the service reports through auth.Service.OnEvent, split into metric and label.
var metricEvents = map[string]metricEvent{
	"login_ok":        {true, "ok"},
	"login_failed":    {true, "failed"},
	"login_throttled": {true, "throttled"},
	"refresh_ok":      {false, "ok"},
	"refresh_grace":   {false, "grace"},
	"refresh_reused":  {false, "reused"},
	"refresh_invalid": {false, "invalid"},
}

// NewMetrics builds the registry. openSessions, when set, is asked at each scrape how many sessions
// are open; a failure is reported in the scrape's log, and the other metrics are still served.
func NewMetrics(openSessions func(ctx context.Context) (int, error), log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopauth_logins_total",
			Help: "Login attempts by result: ok, failed (unknown email or wrong password), throttled.",
		}, []string{"result"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopauth_refreshes_total",
			Help: "RefreshTokens calls by result: ok (rotated), grace (retry of the just-rotated token), reused (session ended), invalid.",
		}, []string{"result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopauth_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		log: log,
	}
	// Every result is exported from the start, at 0, so rate() works before the first event.
	for _, e := range metricEvents {
		m.vec(e.login).WithLabelValues(e.result)
	}
	m.registry.MustRegister(m.logins, m.refreshes, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if openSessions != nil {
		m.registry.MustRegister(&sessionsCollector{
			desc:  prometheus.NewDesc("shopauth_open_sessions", "Sessions (logged-in devices) not yet expired.", nil, nil),
			count: openSessions,
		})
	}
	return m
}

func (m *Metrics) vec(login bool) *prometheus.CounterVec {
	if login {
		return m.logins
	}
	return m.refreshes
}

// Event counts one outcome; it has the signature of auth.Service.OnEvent. Unknown names are ignored.
func (m *Metrics) Event(name string) {
	if e, ok := metricEvents[name]; ok {
		m.vec(e.login).WithLabelValues(e.result).Inc()
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
