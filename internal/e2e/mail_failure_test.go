package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/internal/mail/mailtest"
)

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A mail server that is down or stalls never slows a request; the failure
// is counted once the retries are spent.
func TestMailFailureDoesNotBlockRequests(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns AUTHD_SMTP_URL
	}{
		{"down", func(t *testing.T) string {
			srv := mailtest.Start(t, mailtest.Options{})
			url := srv.URL()
			return url[:len(url)-len(srv.Addr)] + freeAddr(t)
		}},
		{"slow", func(t *testing.T) string {
			srv := mailtest.Start(t, mailtest.Options{})
			srv.SetDelay(30 * time.Second)
			return srv.URL()
		}},
		{"refusing", func(t *testing.T) string {
			srv := mailtest.Start(t, mailtest.Options{})
			srv.FailNext(100, 451)
			return srv.URL()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.DataDir = t.TempDir()
			cfg.SMTPURL = tt.setup(t)
			cfg.MailFrom = "no-reply@example.com"
			s := startWith(t, cfg, newClock(), app.WithMailQueue(
				mail.WithAttempts(2),
				mail.WithAttemptTimeout(2*time.Second),
				mail.WithBackoff(func(int) time.Duration { return 10 * time.Millisecond })))

			// Sending in the request would cost two 2s attempts against the
			// stalled server; the request only queues. Registration is
			// compared with a login, which spends the same bcrypt time
			// (seconds under -race on a busy machine) and sends no mail.
			begin := time.Now()
			s.register("vera@example.com", pw).want(t, http.StatusCreated)
			register := time.Since(begin)
			begin = time.Now()
			s.login("vera@example.com", pw)
			if login := time.Since(begin); register > login+2*time.Second {
				t.Fatalf("register took %s (a login %s) with the mail server %s", register, login, tt.name)
			}
			begin = time.Now()
			s.postJSON("/v1/password/forgot", map[string]string{"email": "vera@example.com"}).want(t, http.StatusAccepted)
			if d := time.Since(begin); d > time.Second {
				t.Fatalf("forgot took %s with the mail server %s", d, tt.name)
			}
			waitFor(t, "two failed mails", func() bool { return s.App.Mail().Stats().Failed == 2 })
			if st := s.App.Mail().Stats(); st.Sent != 0 || st.Retries != 2 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}
