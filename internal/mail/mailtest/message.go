package mailtest

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
)

// Received is one message as the server got it.
type Received struct {
	// From and To are the envelope (MAIL FROM, RCPT TO).
	From string
	To   []string
	// TLS says whether the message came over TLS; AuthUser is the
	// authenticated user, if any.
	TLS      bool
	AuthUser string
	// Raw is the message as sent; Header its parsed header.
	Raw    []byte
	Header mail.Header
	// Subject is decoded (RFC 2047); Text and HTML are the decoded bodies
	// of the text/plain and text/html parts.
	Subject string
	Text    string
	HTML    string
}

// parse reads a message of authd's shape: headers, then a
// multipart/alternative with text/plain and text/html parts.
func parse(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return Received{}, fmt.Errorf("mailtest: %w", err)
	}
	m := Received{Raw: raw, Header: msg.Header}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Received{}, fmt.Errorf("mailtest: subject: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return Received{}, fmt.Errorf("mailtest: not multipart: %q", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		// NextPart decodes quoted-printable transparently.
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Received{}, fmt.Errorf("mailtest: %w", err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return Received{}, fmt.Errorf("mailtest: %w", err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch pt {
		case "text/plain":
			m.Text = string(body)
		case "text/html":
			m.HTML = string(body)
		}
	}
	if m.Text == "" {
		return Received{}, errNoText
	}
	return m, nil
}
