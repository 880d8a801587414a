package auth

import (
	"context"

	"github.com/authd/authd/pkg/store"
)

// VerifyEmail spends an email verification token and marks the address it
// was mailed to verified, provided it is still the account's address.
// Every bad token, including one of another purpose, is
// ErrInvalidOneTimeToken.
func (s *Service) VerifyEmail(ctx context.Context, token string, device Device) (store.User, error) {
	tok, err := s.consumeToken(ctx, token, purposeVerifyEmail)
	if err != nil {
		return store.User{}, err
	}
	if err := s.store.SetEmailVerified(ctx, tok.UserID, tok.Email); isNotFound(err) {
		return store.User{}, errBadOneTimeToken() // the account or its address changed since
	} else if err != nil {
		return store.User{}, err
	}
	ev := deviceEvent(EventEmailVerified, OutcomeSuccess, device)
	ev.UserID = tok.UserID
	s.record(ctx, ev)
	return s.store.UserByID(ctx, tok.UserID)
}

// ResendVerification mails the caller a new verification link, which
// replaces the earlier ones. A verified address gets nothing; the caller
// sees no difference either way.
func (s *Service) ResendVerification(ctx context.Context, c Caller) error {
	u, err := s.Me(ctx, c.UserID)
	if err != nil {
		return err
	}
	if !u.EmailVerified {
		s.mailVerification(u)
	}
	return nil
}
