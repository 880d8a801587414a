package e2e_test

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/authd/authd/config"
)

// TestMetricsAndRequestIDs scrapes the separate metrics listener after real
// traffic, and checks request ids are honoured or generated.
func TestMetricsAndRequestIDs(t *testing.T) {
	s := startEmbedded(t, newClock(), func(cfg *config.Config) { cfg.MetricsAddr = freeAddr(t) })
	tk := s.signedUp("mona@example.com")
	s.get("/.well-known/jwks.json", "")
	s.get("/v1/me", tk.AccessToken)
	s.postJSON("/v1/login", map[string]string{"email": "mona@example.com", "password": "wrong horse battery"})

	resp, err := http.Get("http://" + s.Config.MetricsAddr + "/metrics")
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
		`authd_bcrypt_owner_busy_total 0`,
		`authd_audit_events_dropped_total 0`,
		`authd_audit_events_failed_total 0`,
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
	s.App.Metrics().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// seriesCount is the number of series /metrics exposes: one sample line
// each (a histogram's buckets, sum and count are lines of their own).
func seriesCount(t *testing.T, s *server) int {
	t.Helper()
	n := 0
	for line := range strings.Lines(scrape(t, s)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}

// TestMetricsSeriesBoundedUnderRandomRequests sends 10,000 requests with
// made-up methods (up to 1,000 characters) and paths: once every kind of
// answer has been counted, they add no series and /metrics stays the same
// size, because every label comes from a fixed set.
func TestMetricsSeriesBoundedUnderRandomRequests(t *testing.T) {
	s := start(t, testConfig(), newClock())
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	const pchar = "abcdefghijklmnopqrstuvwxyz0123456789-._~"
	random := func(rng *rand.Rand, alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	standard := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}
	// Each request: a method kind (a standard one or a made-up one) and a
	// path kind (unmatched, under /v1/verify/, a registered path).
	type request struct{ method, path string }
	make1 := func(rng *rand.Rand, methodKind, pathKind int) request {
		m := random(rng, tchar, 1+rng.IntN(1000))
		if methodKind < len(standard) {
			m = standard[methodKind]
		}
		p := "/" + random(rng, pchar, 1+rng.IntN(200))
		switch pathKind {
		case 1:
			p = "/v1/verify/" + random(rng, pchar, 1+rng.IntN(100))
		case 2:
			p = "/v1/login"
		}
		return request{m, p}
	}
	send := func(reqs []request) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, len(reqs))
		next := make(chan request)
		for range 4 {
			wg.Go(func() {
				for r := range next {
					req, err := http.NewRequest(r.method, s.URL+r.path, nil)
					if err != nil {
						errs <- err
						continue
					}
					resp, err := httpClient.Do(req)
					if err != nil {
						errs <- err
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		for _, r := range reqs {
			next <- r
		}
		close(next)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	size := func() int { return len(scrape(t, s)) }

	rng := rand.New(rand.NewPCG(7, 9))
	sizeAtStart, seriesAtStart := size(), seriesCount(t, s)
	var warm []request
	for mk := range len(standard) + 1 {
		for pk := range 3 {
			warm = append(warm, make1(rng, mk, pk))
		}
	}
	send(warm)
	seriesBefore, sizeBefore := seriesCount(t, s), size()

	reqs := make([]request, 10_000)
	for i := range reqs {
		// Mostly made-up methods, the rest standard ones.
		mk := len(standard)
		if rng.IntN(4) == 0 {
			mk = rng.IntN(len(standard))
		}
		reqs[i] = make1(rng, mk, rng.IntN(3))
	}
	send(reqs)
	seriesAfter, sizeAfter := seriesCount(t, s), size()
	t.Logf("series: %d at start, %d after %d warm-up requests, %d after 10,000 more; /metrics: %d, %d, %d bytes",
		seriesAtStart, seriesBefore, len(warm), seriesAfter, sizeAtStart, sizeBefore, sizeAfter)
	if seriesAfter != seriesBefore {
		t.Fatalf("10,000 requests with made-up methods and paths took the series from %d to %d", seriesBefore, seriesAfter)
	}
	// The Go and process collectors' values change length a little; a
	// series per request would add hundreds of bytes each.
	if sizeAfter > sizeBefore+2048 {
		t.Fatalf("/metrics grew from %d to %d bytes", sizeBefore, sizeAfter)
	}
	body := scrape(t, s)
	if !strings.Contains(body, `method="other",route="unmatched",status="404"`) ||
		!strings.Contains(body, `method="other",route="unmatched",status="405"`) {
		t.Fatal("made-up methods are not counted as other")
	}
}
