package e2e_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authd/authd/config"
)

// BenchmarkRefreshEndToEnd measures POST /v1/token (refresh_token grant)
// over loopback HTTP on Postgres + Redis: each parallel worker follows its
// own rotation chain, as a mobile client does.
//
//	go test ./internal/e2e -run '^$' -bench RefreshEndToEnd -benchtime 5s
func BenchmarkRefreshEndToEnd(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			cfg := testConfig()
			cfg.LogLevel = "error"
			be.configure(b, &cfg)
			s := start(b, cfg, newClock())
			s.register("bench@example.com", "correct horse battery")
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				n.Add(1)
				tk := s.login("bench@example.com", "correct horse battery")
				refresh := tk.RefreshToken
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
				for pb.Next() {
					form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
					resp, err := client.Post(s.URL+"/v1/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
					if err != nil {
						b.Error(err)
						return
					}
					r := readResponse(b, resp)
					if r.Status != http.StatusOK {
						b.Errorf("refresh: %d %s", r.Status, r.Body)
						return
					}
					refresh = decodeTokens(b, r).RefreshToken
				}
			})
			b.ReportMetric(float64(n.Load()), "chains")
		})
	}
}

// BenchmarkVerifyEndpoint measures GET /v1/verify over loopback HTTP with
// the Redis revocation check, at 32 concurrent connections.
//
//	go test ./internal/e2e -run '^$' -bench VerifyEndpoint -benchtime 5s
func BenchmarkVerifyEndpoint(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			cfg := testConfig()
			be.configure(b, &cfg)
			benchmarkVerifyEndpoint(b, cfg)
		})
	}
}

// benchmarkVerifyEndpoint runs GET /v1/verify with one token from 32
// goroutines over keep-alive connections against an authd on cfg.
func benchmarkVerifyEndpoint(b *testing.B, cfg config.Config) {
	s := start(b, cfg, newClock())
	tk := s.signedUp("verify@example.com")
	transport := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	client := &http.Client{Transport: transport}
	b.SetParallelism(16) // 2 CPUs x 16 = 32 goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", s.URL+"/v1/verify", nil)
			req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			if r := readResponse(b, resp); r.Status != http.StatusOK {
				b.Errorf("verify: %d %s", r.Status, r.Body)
				return
			}
		}
	})
}
