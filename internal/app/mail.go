package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"

	"github.com/authd/authd/internal/mail"
)

// WithMailQueue adds options to the mail queue (tests shorten its retry
// backoff with it).
func WithMailQueue(opts ...mail.QueueOption) Option {
	return func(a *App) { a.mailOpts = append(a.mailOpts, opts...) }
}

// openMail loads the templates and starts the mail queue: SMTP when
// AUTHD_SMTP_URL is set, otherwise the development mailer, which writes
// each message to <data dir>/mail and the log (links included) and sends
// nothing.
func (a *App) openMail(ctx context.Context) (*mail.Templates, error) {
	tpl, err := mail.LoadTemplates(a.cfg.MailTemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("AUTHD_MAIL_TEMPLATES_DIR: %w", err)
	}
	var m mail.Mailer
	if a.cfg.SMTPURL != "" {
		helo := "localhost"
		if u, err := url.Parse(a.cfg.EffectivePublicURL()); err == nil && u.Hostname() != "" {
			helo = u.Hostname()
		}
		if m, err = mail.NewSMTP(mail.SMTPConfig{URL: a.cfg.SMTPURL, From: a.cfg.MailFrom, HeloName: helo}); err != nil {
			return nil, fmt.Errorf("AUTHD_SMTP_URL: %w", err)
		}
	} else {
		dir := filepath.Join(a.cfg.DataDir, "mail")
		if m, err = mail.NewDev(dir, a.cfg.EffectiveMailFrom(), a.log); err != nil {
			return nil, fmt.Errorf("AUTHD_DATA_DIR: %w", err)
		}
		a.log.LogAttrs(ctx, slog.LevelWarn, "AUTHD_SMTP_URL is not set: mail is written to a directory and the log, not sent (development only)",
			slog.String("dir", dir))
	}
	a.Mail = mail.NewQueue(m, append([]mail.QueueOption{mail.WithLogger(a.log)}, a.mailOpts...)...)
	return tpl, nil
}

// closeMail drains the mail queue within the shutdown timeout; it runs
// before the store closes because composing a message reads the store.
func (a *App) closeMail() {
	if a.Mail == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.Mail.Close(ctx); err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "mail left unsent at shutdown", slog.Any("error", err),
			slog.Uint64("dropped_total", a.Mail.Stats().Dropped))
	}
}
