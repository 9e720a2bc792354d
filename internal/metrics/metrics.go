// Package metrics holds G-OC's own Prometheus metrics. One Metrics value is built in main
// and passed down, so tests get a fresh registry and nothing is global.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the goc_* series plus the Go and process collectors.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests        *prometheus.CounterVec
	HTTPRequestDuration *prometheus.HistogramVec
	ObservationsWritten *prometheus.CounterVec
	SubmissionsRejected *prometheus.CounterVec
	StoreErrors         *prometheus.CounterVec
	// RateLimited counts requests refused to protect the server, by limit
	// (writes_per_address, writes_per_token, auth_failures, upload_budget, heavy_reads, exports).
	RateLimited *prometheus.CounterVec
}

// New registers every metric on a fresh registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		HTTPRequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "goc_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		ObservationsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_observations_written_total",
			Help: "Observations stored as new revisions, by source (probe, feed, submission, computed, demo).",
		}, []string{"source"}),
		SubmissionsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_submissions_rejected_total",
			Help: "Submissions refused, by reason (unauthenticated, forbidden, invalid, too_large).",
		}, []string{"reason"}),
		StoreErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_store_errors_total",
			Help: "Store operations that failed, by operation.",
		}, []string{"op"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_rate_limited_total",
			Help: "Requests refused with 429 or 503 to protect the server, by limit (writes_per_address, writes_per_token, auth_failures, upload_budget, heavy_reads, exports).",
		}, []string{"limit"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.HTTPRequests, m.HTTPRequestDuration, m.ObservationsWritten, m.SubmissionsRejected, m.StoreErrors,
		m.RateLimited,
	)
	return m
}

// Handler serves the exposition for /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Instrument counts requests by route pattern (never by raw path, which would let any
// client grow the series without bound) and times them. The method label is the
// pattern's ("GET /x"), or the request's for a pattern without one. The API and the
// pages share it, so both count into the same series the same way.
func (m *Metrics) Instrument(pattern string, h http.Handler) http.Handler {
	method, route, ok := strings.Cut(pattern, " ")
	if !ok {
		method, route = "", pattern
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		// A local copy: the closure is shared by every request of the route.
		m2 := method
		if m2 == "" {
			m2 = r.Method
		}
		m.HTTPRequests.WithLabelValues(route, m2, strconv.Itoa(rec.code)).Inc()
		m.HTTPRequestDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// statusRecorder keeps the status a handler wrote, for the request counter.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the writer's Flush behind the recorder,
// which streamed exports use.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
