package e2e_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/mail/mailtest"
)

// publicURL is the AUTHD_PUBLIC_URL of the mail tests.
const publicURL = "https://app.example.com"

// withMail points cfg at a fresh in-process SMTP server and returns it.
func withMail(t *testing.T, cfg *config.Config) *mailtest.Server {
	t.Helper()
	return startMailSink(t, cfg)
}

// startMailSink is withMail for tests and benchmarks alike.
func startMailSink(t testing.TB, cfg *config.Config) *mailtest.Server {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	cfg.SMTPURL = srv.URL()
	cfg.MailFrom = "authd <no-reply@example.com>"
	cfg.PublicURL = publicURL
	return srv
}

// startMailing runs authd on backend b with a fresh mail sink: testConfig,
// then b's settings, then edit (nil: none). It returns the server and the
// sink.
func startMailing(t *testing.T, b backend, clk *clock, edit func(*config.Config)) (*server, *mailtest.Server) {
	t.Helper()
	cfg := testConfig()
	b.configure(t, &cfg)
	if edit != nil {
		edit(&cfg)
	}
	mails := withMail(t, &cfg)
	return start(t, cfg, clk), mails
}

// signUp registers email with pw and takes its confirmation mail from
// mails, so that the next mail a test waits for is its own; it returns
// that confirmation.
func (s *server) signUp(mails *mailtest.Server, email string) mailtest.Received {
	s.t.Helper()
	s.register(email, pw).want(s.t, http.StatusCreated)
	return nextMail(s.t, mails, email, "Confirm")
}

// resetToken asks for a password reset of email and returns the token the
// mail to it carries.
func (s *server) resetToken(mails *mailtest.Server, email string) string {
	s.t.Helper()
	s.postJSON("/v1/password/forgot", map[string]string{"email": email}).want(s.t, http.StatusAccepted)
	return tokenFrom(s.t, nextMail(s.t, mails, email, "Reset"), "/reset-password")
}

// nextMail returns the next message the server received and checks its
// recipient and that its subject contains subject.
func nextMail(t testing.TB, srv *mailtest.Server, to, subject string) mailtest.Received {
	t.Helper()
	m := srv.Next(t, 10*time.Second)
	if len(m.To) != 1 || m.To[0] != to || !strings.Contains(m.Subject, subject) {
		t.Fatalf("mail to %v %q, want to %s about %q", m.To, m.Subject, to, subject)
	}
	return m
}

var linkToken = regexp.MustCompile(`(https://\S+)\?token=([A-Za-z0-9_-]+)`)

// tokenFrom follows the link in a mail's text part: it checks the link's
// base and returns the token.
func tokenFrom(t testing.TB, m mailtest.Received, path string) string {
	t.Helper()
	match := linkToken.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no link with a token in:\n%s", m.Text)
	}
	if match[1] != publicURL+path {
		t.Fatalf("link base %q, want %q", match[1], publicURL+path)
	}
	if !strings.Contains(m.HTML, match[2]) {
		t.Fatalf("the HTML part does not carry the same token")
	}
	return match[2]
}

// bearer sends a request with an access token and a JSON body (empty: no
// body).
func (s *server) bearer(method, path, access string, body any) response {
	s.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + access}
	if body == nil {
		return s.do(method, path, "", "", h)
	}
	b, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(method, path, "application/json", string(b), h)
}

// want fails t unless r has status.
func (r response) want(t testing.TB, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

// wantTokenError asserts a one-time token refusal: 400 invalid_token
// without an RFC 6750 challenge.
func (r response) wantTokenError(t testing.TB) {
	t.Helper()
	r.wantError(t, http.StatusBadRequest, "invalid_token")
	if h := r.Header.Get("WWW-Authenticate"); h != "" {
		t.Fatalf("WWW-Authenticate %q on a one-time token error", h)
	}
}

// userID returns the subject of an access token.
func userID(t testing.TB, tk tokens) string {
	t.Helper()
	return claims(t, tk.AccessToken)["sub"].(string)
}
