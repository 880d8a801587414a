package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one mail to one recipient: a plain-text body and its HTML
// alternative.
type Message struct {
	// To is a bare address (addr-spec), e.g. alice@example.com.
	To      string
	Subject string
	Text    string
	HTML    string
}

// ParseFrom checks a sender such as `authd <no-reply@example.com>` and
// returns the envelope address and the From header value.
func ParseFrom(from string) (envelope, header string, err error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "", "", fmt.Errorf("mail: sender %q: %w", from, err)
	}
	return a.Address, a.String(), nil
}

// encode renders m as an RFC 5322 message with CRLF line ends: a
// multipart/alternative of the text and HTML bodies, both UTF-8 in
// quoted-printable, which survives any relay whatever the line lengths.
func encode(fromHeader string, m Message, now time.Time) ([]byte, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Name != "" || to.Address != m.To {
		return nil, fmt.Errorf("mail: recipient is not a bare address: %w", errors.Join(errBadRecipient, err))
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := []struct{ k, v string }{
		{"From", fromHeader},
		{"To", to.String()},
		// Folding is mime's job; newlines from a template never reach a
		// header, so nothing can be injected.
		{"Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject))},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", messageID(fromHeader)},
		{"MIME-Version", "1.0"},
		{"Content-Type", "multipart/alternative;\r\n boundary=\"" + mw.Boundary() + "\""}, // folded: under 78 columns
		// Mail about an account is not to be answered by a robot.
		{"Auto-Submitted", "auto-generated"},
	}
	for _, f := range h {
		b.WriteString(f.k + ": " + f.v + "\r\n")
	}
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var errBadRecipient = errors.New("bad recipient")

// oneLine collapses every run of whitespace, newlines included, to a space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// messageID is a unique Message-ID in the sender's domain (RFC 5322 §3.6.4).
func messageID(fromHeader string) string {
	domain := "localhost"
	if a, err := mail.ParseAddress(fromHeader); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "<" + hex.EncodeToString(b) + "@" + domain + ">"
}
