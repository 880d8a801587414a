package e2e_test

import (
	"net/http"
	"strings"
	"testing"
)

// BenchmarkForgotPasswordHTTP measures POST /v1/password/forgot over
// loopback HTTP for a known and an unknown email, with real mail going to
// an in-process SMTP server. The request path is the same for both (the
// mail worker looks the account up); what differs is the background work
// a known email causes after the answer.
//
//	go test ./internal/e2e -run '^$' -bench ForgotPasswordHTTP -benchtime 3s
func BenchmarkForgotPasswordHTTP(b *testing.B) {
	for _, e := range []struct{ name, email string }{{"known", "known@example.com"}, {"unknown", "nobody@example.com"}} {
		b.Run(e.name, func(b *testing.B) {
			cfg := testConfig()
			cfg.DataDir = b.TempDir()
			srv := startMailSink(b, &cfg)
			s := start(b, cfg, newClock())
			s.register("known@example.com", "correct horse battery")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			body := `{"email":"` + e.email + `"}`
			b.ResetTimer()
			for b.Loop() {
				resp, err := client.Post(s.URL+"/v1/password/forgot", "application/json", strings.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				if r := readResponse(b, resp); r.Status != http.StatusAccepted {
					b.Fatalf("forgot: %d %s", r.Status, r.Body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(srv.Count()), "mails")
		})
	}
}
