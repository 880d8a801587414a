package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"time"
)

// SMTPConfig configures an SMTP Mailer.
type SMTPConfig struct {
	// URL is smtp://[user:pass@]host[:port][?starttls=required] or
	// smtps://[user:pass@]host[:port]; see NewSMTP.
	URL string
	// From is the sender, e.g. `authd <no-reply@example.com>`.
	From string
	// HeloName is the name given in EHLO; default "localhost".
	HeloName string
	// TLSConfig is cloned for every connection; nil trusts the system
	// roots. ServerName defaults to the URL's host. Set RootCAs for a
	// private CA (or SSL_CERT_FILE in the environment).
	TLSConfig *tls.Config
	// DialTimeout bounds the TCP connect; default 10s. The whole exchange
	// is bounded by Send's context.
	DialTimeout time.Duration
}

// SMTP delivers mail to one SMTP server (a relay or a submission service).
//
// smtp:// uses STARTTLS whenever the server offers it, and with
// ?starttls=required refuses to send if it does not; smtps:// is implicit
// TLS. Certificates are always verified. Credentials are sent with AUTH
// PLAIN only over TLS or to a loopback host.
//
// It is built on net/smtp rather than go-smtp's client: net/smtp exposes
// StartTLS after reading the EHLO reply (opportunistic STARTTLS on one
// connection), leaves the connection deadlines we set from the context
// alone (go-smtp resets them on every command), refuses PLAIN in clear to
// remote hosts by itself (a second lock behind ours), and keeps the
// production binary free of another dependency.
type SMTP struct {
	t          smtpTarget
	from       string // envelope
	fromHeader string
	helo       string
	tls        *tls.Config
	dial       time.Duration
}

// NewSMTP checks cfg and returns the Mailer. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	t, err := parseSMTPURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	from, fromHeader, err := ParseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	s := &SMTP{t: t, from: from, fromHeader: fromHeader, helo: cfg.HeloName, dial: cfg.DialTimeout}
	if s.helo == "" {
		s.helo = "localhost"
	}
	if s.dial <= 0 {
		s.dial = 10 * time.Second
	}
	s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		s.tls = cfg.TLSConfig.Clone()
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = t.host
	}
	return s, nil
}

// Send delivers m in one SMTP transaction. Failures that retrying cannot
// fix (5xx replies, TLS or credential policy refusals, certificate errors)
// are marked Permanent.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	raw, err := encode(s.fromHeader, m, time.Now())
	if err != nil {
		return Permanent(err)
	}
	if err := s.send(ctx, m.To, raw); err != nil {
		return classify(err)
	}
	return nil
}

func (s *SMTP) send(ctx context.Context, to string, raw []byte) error {
	d := net.Dialer{Timeout: s.dial}
	conn, err := d.DialContext(ctx, "tcp", s.t.addr)
	if err != nil {
		return fmt.Errorf("mail: dial: %w", err)
	}
	defer conn.Close()
	// net/smtp has no context: the deadline bounds every read and write,
	// and cancellation moves it to the past, which unblocks them at once.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	secure := s.t.implicitTLS
	if secure {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("mail: TLS: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.t.host)
	if err != nil {
		return fmt.Errorf("mail: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.helo); err != nil {
		return fmt.Errorf("mail: EHLO: %w", err)
	}
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return fmt.Errorf("mail: STARTTLS: %w", err)
			}
			secure = true
		} else if s.t.requireTLS {
			return Permanent(errors.New("mail: the server does not offer STARTTLS and the URL says starttls=required"))
		}
	}
	if s.t.hasAuth {
		if !secure && !isLoopback(s.t.host) {
			return Permanent(errors.New("mail: refusing to send SMTP credentials without TLS to a non-loopback host"))
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return Permanent(errors.New("mail: the URL has credentials but the server does not offer AUTH"))
		}
		if err := c.Auth(smtp.PlainAuth("", s.t.user, s.t.pass, s.t.host)); err != nil {
			return fmt.Errorf("mail: AUTH: %w", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	// The message is accepted once DATA is; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// classify marks what retrying cannot fix as Permanent: 5xx replies
// (RFC 5321 §4.2.1), TLS certificate errors, and refusals already marked.
func classify(err error) error {
	if IsPermanent(err) {
		return err
	}
	if pe, ok := errors.AsType[*textproto.Error](err); ok && pe.Code/100 == 5 {
		return Permanent(err)
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return Permanent(err)
	}
	return err
}
