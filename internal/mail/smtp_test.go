package mail_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/internal/mail/mailtest"
)

func testMessage() mail.Message {
	return mail.Message{
		To:      "alice@example.com",
		Subject: "Réinitialisez\r\nBcc: evil@example.com",
		Text:    "Open https://app.example.com/reset-password?token=abc_DEF-123 " + strings.Repeat("long line ", 20),
		HTML:    `<p><a href="https://app.example.com/x?a=1&amp;b=2">link</a></p>`,
	}
}

func newSMTP(t *testing.T, url string, srv *mailtest.Server) *mail.SMTP {
	t.Helper()
	cfg := mail.SMTPConfig{URL: url, From: "authd <no-reply@example.com>", HeloName: "authd.test"}
	if srv.RootCAs != nil {
		cfg.TLSConfig = &tls.Config{RootCAs: srv.RootCAs}
	}
	m, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func send(t *testing.T, m mail.Mailer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Send(ctx, testMessage())
}

func TestSMTPDelivery(t *testing.T) {
	tests := []struct {
		name     string
		opts     mailtest.Options
		query    string
		wantTLS  bool
		wantAuth string
	}{
		{"STARTTLS with auth", mailtest.Options{STARTTLS: true, Username: "u", Password: "p w@d"}, "", true, "u"},
		{"STARTTLS required", mailtest.Options{STARTTLS: true}, "?starttls=required", true, ""},
		{"implicit TLS with auth", mailtest.Options{ImplicitTLS: true, Username: "u", Password: "p"}, "", true, "u"},
		{"no STARTTLS offered, opportunistic", mailtest.Options{}, "", false, ""},
		// PLAIN in clear is allowed to loopback only.
		{"auth in clear to loopback", mailtest.Options{Username: "u", Password: "p", InsecureAuth: true}, "", false, "u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.opts)
			if err := send(t, newSMTP(t, srv.URL()+tt.query, srv)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Next(t, time.Second)
			if got.TLS != tt.wantTLS || got.AuthUser != tt.wantAuth {
				t.Errorf("TLS=%v auth=%q, want %v %q", got.TLS, got.AuthUser, tt.wantTLS, tt.wantAuth)
			}
			if got.From != "no-reply@example.com" || len(got.To) != 1 || got.To[0] != "alice@example.com" {
				t.Errorf("envelope from %q to %v", got.From, got.To)
			}
			checkContent(t, got)
		})
	}
}

// checkContent checks what encode made of testMessage.
func checkContent(t *testing.T, got mailtest.Received) {
	t.Helper()
	want := testMessage()
	if got.Subject != "Réinitialisez Bcc: evil@example.com" {
		t.Errorf("subject %q: a newline in it must not start a header", got.Subject)
	}
	if got.Header.Get("Bcc") != "" {
		t.Errorf("header injection: Bcc %q", got.Header.Get("Bcc"))
	}
	if got.Text != want.Text || got.HTML != want.HTML {
		t.Errorf("bodies changed in transit:\n text %q\n html %q", got.Text, got.HTML)
	}
	for _, h := range []string{"Date", "Message-Id", "From", "To"} {
		if got.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	for line := range strings.SplitSeq(string(got.Raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d bytes: quoted-printable should keep lines short", len(line))
			break
		}
	}
}

func TestSMTPRefusals(t *testing.T) {
	tests := []struct {
		name     string
		opts     mailtest.Options
		url      func(srv *mailtest.Server) string
		trust    bool
		contains string
	}{
		{"STARTTLS required, not offered", mailtest.Options{},
			func(s *mailtest.Server) string { return s.URL() + "?starttls=required" }, true, "STARTTLS"},
		{"untrusted certificate", mailtest.Options{STARTTLS: true},
			func(s *mailtest.Server) string { return s.URL() }, false, "certificate"},
		{"untrusted certificate, implicit TLS", mailtest.Options{ImplicitTLS: true},
			func(s *mailtest.Server) string { return s.URL() }, false, "certificate"},
		{"wrong password", mailtest.Options{STARTTLS: true, Username: "u", Password: "p"},
			func(s *mailtest.Server) string { return strings.Replace(s.URL(), "u:p@", "u:nope@", 1) }, true, "535"},
		{"credentials but no AUTH offered", mailtest.Options{},
			func(s *mailtest.Server) string { return "smtp://u:p@" + s.Addr }, true, "AUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.opts)
			if !tt.trust {
				srv.RootCAs = nil
			}
			err := send(t, newSMTP(t, tt.url(srv), srv))
			if err == nil || !mail.IsPermanent(err) || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("err = %v, want a permanent error mentioning %q", err, tt.contains)
			}
			if srv.Count() != 0 {
				t.Fatal("a message was delivered")
			}
		})
	}
}

func TestSMTPReplyClasses(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	m := newSMTP(t, srv.URL(), srv)
	srv.FailNext(1, 451)
	if err := send(t, m); err == nil || mail.IsPermanent(err) {
		t.Fatalf("451: err = %v, want a temporary error", err)
	}
	srv.FailNext(1, 550)
	if err := send(t, m); err == nil || !mail.IsPermanent(err) {
		t.Fatalf("550: err = %v, want a permanent error", err)
	}
	if err := send(t, m); err != nil {
		t.Fatalf("after the refusals: %v", err)
	}
}

func TestSMTPServerDown(t *testing.T) {
	down := newSMTP(t, "smtp://"+closedAddr(t), &mailtest.Server{})
	if err := send(t, down); err == nil || mail.IsPermanent(err) {
		t.Fatalf("connection refused: err = %v, want a temporary error", err)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A stalled server costs the context's time, no more.
func TestSMTPHonoursContext(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.SetDelay(5 * time.Second)
	m := newSMTP(t, srv.URL(), srv)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := m.Send(ctx, testMessage())
	if err == nil || mail.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Send took %s after a 200ms deadline", d)
	}
}

func TestNewSMTPRejectsBadConfig(t *testing.T) {
	tests := []struct{ name, url, from string }{
		{"scheme", "http://h", "a@example.com"},
		{"no host", "smtp://", "a@example.com"},
		{"unknown param", "smtp://h?tls=1", "a@example.com"},
		{"bad starttls", "smtp://h?starttls=maybe", "a@example.com"},
		{"opportunistic smtps", "smtps://h?starttls=opportunistic", "a@example.com"},
		{"path", "smtp://h/x", "a@example.com"},
		{"from", "smtp://h", "not an address"},
		{"secret in a bad url", "smtp://user:s3cret@h:99999999x", "a@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mail.NewSMTP(mail.SMTPConfig{URL: tt.url, From: tt.from})
			if err == nil {
				t.Fatal("NewSMTP accepted it")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error repeats the password: %v", err)
			}
		})
	}
}
