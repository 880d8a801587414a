package e2e_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsAndRequestIDs scrapes the separate metrics listener after real
// traffic, and checks request ids are honoured or generated.
func TestMetricsAndRequestIDs(t *testing.T) {
	cfg := testConfig()
	cfg.DataDir = t.TempDir()
	cfg.MetricsAddr = freeAddr(t)
	s := start(t, cfg, newClock())
	tk := s.signedUp("mona@example.com")
	s.get("/.well-known/jwks.json", "")
	s.get("/v1/me", tk.AccessToken)
	s.postJSON("/v1/login", map[string]string{"email": "mona@example.com", "password": "wrong horse battery"})

	resp, err := http.Get("http://" + cfg.MetricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`authd_http_requests_total{method="POST",route="/v1/login",status="200"} 1`,
		`authd_http_requests_total{method="POST",route="/v1/login",status="401"} 1`,
		`authd_http_requests_total{method="GET",route="/v1/me",status="200"} 1`,
		`authd_http_request_duration_seconds_bucket{method="POST",route="/v1/register",le=`,
		`authd_jwks_served_total 1`,
		`authd_events_total{outcome="success",type="login"} 1`,
		`authd_events_total{outcome="failure",type="login"} 1`,
		`authd_events_total{outcome="success",type="register"} 1`,
		`authd_signing_keys_published 1`,
		`authd_signing_key_age_seconds `,
		`authd_bcrypt_in_flight `,
		`authd_bcrypt_rejected_total `,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(body), tk.AccessToken[:20]) || strings.Contains(string(body), "mona@example.com") {
		t.Fatal("metrics leak a token or an email")
	}
	// The API port does not serve metrics.
	if r := s.get("/metrics", ""); r.Status != http.StatusNotFound {
		t.Fatalf("/metrics on the API port: %d", r.Status)
	}

	r := s.do("GET", "/healthz", "", "", map[string]string{"X-Request-Id": "abc-123_x.y"})
	if r.Header.Get("X-Request-Id") != "abc-123_x.y" {
		t.Fatalf("request id not honoured: %q", r.Header.Get("X-Request-Id"))
	}
	r = s.do("GET", "/healthz", "", "", map[string]string{"X-Request-Id": "evil\"id with spaces"})
	if got := r.Header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, "\" ") {
		t.Fatalf("unsafe request id echoed: %q", got)
	}
}

// scrape reads the server's metrics through its handler (no listener).
func scrape(t *testing.T, s *server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.App.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
