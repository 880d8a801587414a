package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Dev is the Mailer used when no SMTP server is configured: it writes each
// message as an .eml file into a directory and logs it, link included, at
// info, so a developer can follow verification and reset links without a
// mail server. It sends nothing. Never use it where the log is read by
// anyone but the account owner: the links in it are credentials.
type Dev struct {
	dir        string
	fromHeader string
	log        *slog.Logger
}

// NewDev returns a Dev mailer writing into dir (created 0700 if missing).
func NewDev(dir, from string, log *slog.Logger) (*Dev, error) {
	_, fromHeader, err := ParseFrom(from)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: dev mail dir: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dev{dir: dir, fromHeader: fromHeader, log: log}, nil
}

// Send writes m to <dir>/<time>-<random>.eml (0600) and logs it.
func (d *Dev) Send(ctx context.Context, m Message) error {
	now := time.Now().UTC()
	raw, err := encode(d.fromHeader, m, now)
	if err != nil {
		return Permanent(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	path := filepath.Join(d.dir, now.Format("20060102T150405.000000000Z")+"-"+hex.EncodeToString(b)+".eml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return fmt.Errorf("mail: dev mailer: %w", err)
	}
	d.log.LogAttrs(ctx, slog.LevelInfo, "dev mailer: message written, not sent (set AUTHD_SMTP_URL to send mail)",
		slog.String("to", m.To), slog.String("subject", m.Subject), slog.String("file", path),
		slog.String("text", m.Text))
	return nil
}
