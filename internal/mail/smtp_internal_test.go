package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/mail/mailtest"
)

// Credentials never cross a network in clear: a server that offers AUTH
// without TLS, reached under a non-loopback name, gets nothing.
func TestSMTPRefusesCredentialsInClear(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Username: "u", Password: "p", InsecureAuth: true})
	m, err := NewSMTP(SMTPConfig{URL: "smtp://u:p@mail.example.com", From: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m.t.addr = srv.Addr // dial the test server, keep the remote name for policy
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = m.Send(ctx, Message{To: "b@example.com", Subject: "s", Text: "t", HTML: "h"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "without TLS") {
		t.Fatalf("err = %v, want a permanent refusal", err)
	}
	if srv.Count() != 0 {
		t.Fatal("a message was delivered")
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"mail.example.com": false, "10.0.0.1": false, "localhost.example.com": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestEncodeRefusesBadRecipient(t *testing.T) {
	for _, to := range []string{"a@example.com\r\nBcc: x@example.com", "Alice <a@example.com>", "", "nope"} {
		if _, err := encode("a@example.com", Message{To: to}, time.Now()); err == nil {
			t.Errorf("encode accepted recipient %q", to)
		}
	}
}
