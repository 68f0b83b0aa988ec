package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// The listeners besides --addr (metrics, the admin console) serve on an http.Server each.

// serveMetrics serves /metrics on the metrics listener until the returned stop is called.
func (m *Main) serveMetrics(metrics http.Handler) (stop func(context.Context) error) {
	if m.MetricsListener == nil {
		return func(context.Context) error { return nil }
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return m.serveOn(m.MetricsListener, mux)
}

// serveOn serves h on a listener of its own (metrics, the admin console) until stop is called.
func (m *Main) serveOn(ln net.Listener, h http.Handler) (stop func(context.Context) error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	return func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if e := <-done; !errors.Is(e, http.ErrServerClosed) {
			err = errors.Join(err, e)
		}
		return err
	}
}
