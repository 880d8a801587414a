package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/mail"
)

// WithMailQueue adds options to the mail queue (tests shorten its retry
// backoff with it).
func WithMailQueue(opts ...mail.QueueOption) Option {
	return func(s *settings) { s.mailOpts = append(s.mailOpts, opts...) }
}

// mailer is the mail part: the templates and the queue that sends.
type mailer struct {
	queue     *mail.Queue
	templates *mail.Templates
	// drain bounds close (AUTHD_SHUTDOWN_TIMEOUT); log reports what it
	// left unsent.
	drain time.Duration
	log   *slog.Logger
}

// openMail loads the templates and starts the mail queue: SMTP when
// AUTHD_SMTP_URL is set, otherwise the development mailer, which writes
// each message to <data dir>/mail and the log (links included) and sends
// nothing.
func openMail(ctx context.Context, cfg config.Config, log *slog.Logger, opts []mail.QueueOption) (*mailer, error) {
	tpl, err := mail.LoadTemplates(cfg.MailTemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("AUTHD_MAIL_TEMPLATES_DIR: %w", err)
	}
	var m mail.Mailer
	if cfg.SMTPURL != "" {
		helo := "localhost"
		if u, err := url.Parse(cfg.EffectivePublicURL()); err == nil && u.Hostname() != "" {
			helo = u.Hostname()
		}
		if m, err = mail.NewSMTP(mail.SMTPConfig{URL: cfg.SMTPURL, From: cfg.MailFrom, HeloName: helo}); err != nil {
			return nil, fmt.Errorf("AUTHD_SMTP_URL: %w", err)
		}
	} else {
		dir := filepath.Join(cfg.DataDir, "mail")
		if m, err = mail.NewDev(dir, cfg.EffectiveMailFrom(), log); err != nil {
			return nil, fmt.Errorf("AUTHD_DATA_DIR: %w", err)
		}
		log.LogAttrs(ctx, slog.LevelWarn, "AUTHD_SMTP_URL is not set: mail is written to a directory and the log, not sent (development only)",
			slog.String("dir", dir))
	}
	q := mail.NewQueue(m, append([]mail.QueueOption{mail.WithLogger(log)}, opts...)...)
	return &mailer{queue: q, templates: tpl, drain: cfg.ShutdownTimeout, log: log}, nil
}

// close drains the mail queue within the shutdown timeout; it runs before
// the store closes because composing a message reads the store.
func (m *mailer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.drain)
	defer cancel()
	if err := m.queue.Close(ctx); err != nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, "mail left unsent at shutdown", slog.Any("error", err),
			slog.Uint64("dropped_total", m.queue.Stats().Dropped))
	}
	return nil
}
