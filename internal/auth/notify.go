package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/pkg/store"
)

// Paths of the pages, under PublicURL, that mailed links open. The page
// reads the token from the query and posts it to the API.
const (
	verifyEmailPath   = "/verify-email"
	resetPasswordPath = "/reset-password"
)

// Defaults of the token lifetimes.
const (
	DefaultVerifyTTL = 24 * time.Hour
	DefaultResetTTL  = 30 * time.Minute
	DefaultInviteTTL = 72 * time.Hour
)

// mailDefaults fills in the mail settings left zero.
func (c *Config) mailDefaults() error {
	if c.PublicURL == "" {
		c.PublicURL = c.Issuer
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.VerifyTTL <= 0 {
		c.VerifyTTL = DefaultVerifyTTL
	}
	if c.ResetTTL <= 0 {
		c.ResetTTL = DefaultResetTTL
	}
	if c.InviteTTL <= 0 {
		c.InviteTTL = DefaultInviteTTL
	}
	if c.Outbox == nil {
		c.Outbox = noOutbox{}
	}
	if c.Templates == nil {
		t, err := mail.LoadTemplates("")
		if err != nil {
			return err
		}
		c.Templates = t
	}
	return nil
}

// noOutbox is the Outbox of a service configured without mail.
type noOutbox struct{}

func (noOutbox) Enqueue(mail.Job) bool { return false }

// mailLink queues a message carrying a one-time link. The token is issued
// when a worker composes the message, not here: the database write stays
// off the request path. user returns the recipient's account then, or
// mail.ErrSkip when there is none to mail.
func (s *Service) mailLink(kind mail.Kind, ref, to string, user func(ctx context.Context) (store.User, error),
	purpose, path string, ttl time.Duration) {
	s.enqueue(kind, ref, to, func(ctx context.Context) (mail.Data, error) {
		u, err := user(ctx)
		if err != nil {
			return mail.Data{}, err
		}
		raw, err := s.issueToken(ctx, u, purpose, ttl)
		if isNotFound(err) {
			return mail.Data{}, mail.Permanent(err) // the user is gone
		}
		if err != nil {
			return mail.Data{}, err
		}
		return mail.Data{Link: s.cfg.PublicURL + path + "?token=" + raw, Token: raw, ExpiresIn: mail.Humanize(ttl)}, nil
	})
}

// mailVerification queues the email verification link of u.
func (s *Service) mailVerification(u store.User) {
	s.mailLink(mail.VerifyEmail, u.ID, u.Email, func(context.Context) (store.User, error) { return u, nil },
		purposeVerifyEmail, verifyEmailPath, s.cfg.VerifyTTL)
}

// mailReset queues the password reset link of the account of email (a
// normalised address), if there is one and it is not disabled. Even the
// lookup happens in the worker, so the request costs the same whether or
// not the account exists: one Enqueue.
func (s *Service) mailReset(email string) {
	s.mailLink(mail.PasswordReset, "", email, func(ctx context.Context) (store.User, error) {
		u, err := s.userByEmail(ctx, email)
		if isNotFound(err) || (err == nil && u.Disabled) {
			return store.User{}, mail.ErrSkip
		}
		return u, err
	}, purposeResetPassword, resetPasswordPath, s.cfg.ResetTTL)
}

// mailInvite queues the invitation of an account created without a
// password: a link to the reset page with a reset token, so the owner
// sets a password through POST /v1/password/reset (which also marks the
// address verified). It lives InviteTTL, longer than a reset link: an
// invitation waits for its reader. A later forgot-password mail replaces
// it, as tokens of one purpose do.
func (s *Service) mailInvite(u store.User) {
	s.mailLink(mail.Invite, u.ID, u.Email, func(ctx context.Context) (store.User, error) {
		cur, err := s.store.UserByID(ctx, u.ID)
		if isNotFound(err) || (err == nil && cur.Disabled) {
			return store.User{}, mail.ErrSkip
		}
		return cur, err
	}, purposeResetPassword, resetPasswordPath, s.cfg.InviteTTL)
}

// mailPasswordChanged tells the owner of userID, at email, that the
// password changed at `at`.
func (s *Service) mailPasswordChanged(userID, email string, at time.Time) {
	s.enqueue(mail.PasswordChanged, userID, email, func(context.Context) (mail.Data, error) {
		return mail.Data{When: at.UTC().Format(time.RFC1123)}, nil
	})
}

// mailRegistrationNotice tells the owner of email that someone tried to
// register it again. The job carries no user id: the request that caused
// it never learnt one, and looking it up would cost a read the new-account
// path does not make.
func (s *Service) mailRegistrationNotice(email string) {
	s.enqueue(mail.RegistrationNotice, "", email, func(context.Context) (mail.Data, error) { return mail.Data{}, nil })
}

// enqueue queues a message of kind to `to`; data supplies the fields
// beyond Email and PublicURL when the message is composed. Logs name ref
// (a user id), never the address.
func (s *Service) enqueue(kind mail.Kind, ref, to string, data func(ctx context.Context) (mail.Data, error)) {
	s.cfg.Outbox.Enqueue(mail.Job{Kind: string(kind), Ref: ref, Compose: func(ctx context.Context) (mail.Message, error) {
		d, err := data(ctx)
		if err != nil {
			return mail.Message{}, err
		}
		d.Email, d.PublicURL = to, s.cfg.PublicURL
		m, err := s.cfg.Templates.Render(kind, to, d)
		if err != nil {
			// Templates were checked at start-up; a failure now will not
			// go away by retrying.
			return mail.Message{}, mail.Permanent(errors.Join(errors.New("render"), err))
		}
		return m, nil
	}})
}
