package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/metrics"
)

func TestMetricsExposition(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("/v1/login", "POST", 200, 300*time.Millisecond)
	m.ObserveRequest("/v1/login", "POST", 401, 250*time.Millisecond)
	m.Event("login", "success")
	m.Event("refresh", "reuse_detected")
	m.DependencyError("redis")
	m.JWKSServed()
	m.GaugeFunc("authd_signing_key_age_seconds", "Age of the signing key.", func() float64 { return 42 })
	m.CounterFunc("authd_mail_failures_total", "Mails that could not be sent.", func() float64 { return 3 })

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`authd_http_requests_total{method="POST",route="/v1/login",status="200"} 1`,
		`authd_http_requests_total{method="POST",route="/v1/login",status="401"} 1`,
		`authd_http_request_duration_seconds_count{method="POST",route="/v1/login"} 2`,
		`authd_events_total{outcome="success",type="login"} 1`,
		`authd_events_total{outcome="reuse_detected",type="refresh"} 1`,
		`authd_dependency_errors_total{dependency="redis"} 1`,
		`authd_jwks_served_total 1`,
		`authd_signing_key_age_seconds 42`,
		`authd_mail_failures_total 3`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
