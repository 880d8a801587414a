// Package mailtest runs an in-process SMTP server on loopback that keeps
// what it receives, so tests send real mail over TCP and read it back: the
// internal/mail tests and the end-to-end suite both use it. It can offer
// STARTTLS or implicit TLS with a certificate made for the test, require
// AUTH PLAIN, refuse messages on demand and answer slowly.
//
// It is test support (it imports "testing"), built on
// github.com/emersion/go-smtp; nothing in the authd binary imports it.
package mailtest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose how the server behaves.
type Options struct {
	// STARTTLS offers STARTTLS; ImplicitTLS serves TLS from the first byte
	// (smtps). Either makes a certificate for 127.0.0.1 and localhost,
	// trusted by Server.RootCAs.
	STARTTLS    bool
	ImplicitTLS bool
	// Username and Password, when set, are required (AUTH PLAIN) before
	// MAIL. AUTH is offered over TLS only, unless InsecureAuth.
	Username, Password string
	InsecureAuth       bool
}

// Server is a running test SMTP server. Its methods are safe for
// concurrent use.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// RootCAs trusts the server's certificate (nil without TLS).
	RootCAs *x509.CertPool

	opts Options
	srv  *smtp.Server

	mu       sync.Mutex
	msgs     []Received
	taken    int           // messages returned by Next
	changed  chan struct{} // closed and replaced on each new message
	failNext int           // refuse this many messages more
	failCode int
	delay    time.Duration
	closed   chan struct{} // ends delays when the test ends
}

// Start runs a server until t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, changed: make(chan struct{}), closed: make(chan struct{})}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.AllowInsecureAuth = opts.InsecureAuth
	s.srv.ErrorLog = log.New(io.Discard, "", 0)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.STARTTLS || opts.ImplicitTLS {
		cfg, pool := SelfSignedTLS(t)
		s.RootCAs = pool
		if opts.ImplicitTLS {
			ln = tls.NewListener(ln, cfg)
		} else {
			s.srv.TLSConfig = cfg
		}
	}
	s.Addr = ln.Addr().String()
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { close(s.closed); _ = s.srv.Close() })
	return s
}

// URL returns the AUTHD_SMTP_URL that reaches the server: smtps:// for
// ImplicitTLS, else smtp://, with the credentials of Options.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if s.opts.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.opts.Username != "" {
		u.User = url.UserPassword(s.opts.Username, s.opts.Password)
	}
	return u.String()
}

// FailNext makes the server refuse the next n messages at DATA with code
// (4xx: temporary, 5xx: permanent).
func (s *Server) FailNext(n, code int) {
	s.mu.Lock()
	s.failNext, s.failCode = n, code
	s.mu.Unlock()
}

// SetDelay makes the server wait d before answering MAIL FROM: a slow
// server.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Count returns how many messages were received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Messages returns a copy of every message received, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Next returns the oldest message not yet returned by Next, waiting up to
// timeout for one; it fails t if none arrives.
func (s *Server) Next(t testing.TB, timeout time.Duration) Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.taken < len(s.msgs) {
			m := s.msgs[s.taken]
			s.taken++
			s.mu.Unlock()
			return m
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mailtest: no message within %s", timeout)
		}
	}
}

// ExpectNone fails t if a message not yet returned by Next arrives within
// d.
func (s *Server) ExpectNone(t testing.TB, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken < len(s.msgs) {
		t.Fatalf("mailtest: unexpected message to %v: %q", s.msgs[s.taken].To, s.msgs[s.taken].Subject)
	}
}

func (s *Server) add(m Received) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: s, tls: isTLS}, nil
}

// session is one SMTP connection (after each EHLO).
type session struct {
	s      *Server
	tls    bool
	authed string
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if ss.s.opts.Username == "" || user != ss.s.opts.Username || pass != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	delay := ss.s.delay
	ss.s.mu.Unlock()
	select {
	case <-time.After(delay):
	case <-ss.s.closed:
		return errors.New("mailtest: closed")
	}
	if ss.s.opts.Username != "" && ss.authed == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	fail, code := ss.s.failNext > 0, ss.s.failCode
	if fail {
		ss.s.failNext--
	}
	ss.s.mu.Unlock()
	if fail {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "mailtest: refused on request"}
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	m.From, m.To, m.TLS, m.AuthUser = ss.from, append([]string(nil), ss.to...), ss.tls, ss.authed
	ss.s.add(m)
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

var errNoText = errors.New("mailtest: message has no text/plain part")
