// Package metrics defines authd's Prometheus metrics on a registry of its
// own (no global state) and serves them. Other packages do not import it:
// they report through small interfaces (an HTTP middleware here, the
// service's event sink, gauge functions), and internal/app connects them.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every authd metric.
type Metrics struct {
	registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	events          *prometheus.CounterVec
	dependencyErrs  *prometheus.CounterVec
	jwksServed      prometheus.Counter
}

// New registers authd's metrics and the Go runtime and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		registry: r,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authd_http_requests_total",
			Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "authd_http_request_duration_seconds",
			Help: "HTTP request latency by route.",
			// From the sub-millisecond verify path to multi-second bcrypt queues.
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authd_events_total",
			Help: "Account and token events by type and outcome (login, refresh, refresh_reuse, logout, revocation, ...).",
		}, []string{"type", "outcome"}),
		dependencyErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authd_dependency_errors_total",
			Help: "Errors talking to a dependency (store, redis, smtp).",
		}, []string{"dependency"}),
		jwksServed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authd_jwks_served_total",
			Help: "JWKS documents served.",
		}),
	}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.events, m.dependencyErrs, m.jwksServed,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveRequest records one HTTP request. Every label must come from a
// bounded set, never from the raw request, or each distinct value a client
// sends would add series: route is a registered route pattern or
// "unmatched", method a standard method or "other" (the HTTP API bounds
// both, in one place, for the access log too), status a status authd wrote.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// Event counts one account or token event.
func (m *Metrics) Event(typ, outcome string) { m.events.WithLabelValues(typ, outcome).Inc() }

// DependencyError counts one failed call to a dependency.
func (m *Metrics) DependencyError(dependency string) {
	m.dependencyErrs.WithLabelValues(dependency).Inc()
}

// JWKSServed counts one JWKS response.
func (m *Metrics) JWKSServed() { m.jwksServed.Inc() }

// GaugeFunc registers a gauge whose value is read at scrape time (bcrypt
// queue depth, key age, mail queue length, ...).
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// CounterFunc registers a counter read at scrape time from a cumulative
// value kept elsewhere (mail failures, rejected admissions, ...).
func (m *Metrics) CounterFunc(name, help string, f func() float64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}
