package auth

import (
	"context"
	"errors"

	"github.com/authd/authd/pkg/store"
)

// A token is minted in three steps, each its own method, so that each way
// of proving who one is (a password, later a second factor or a client
// secret) plugs in at the first and shares the others:
//
//  1. authenticate: a credential yields a Principal, or an error that
//     says nothing more than the credential deserves;
//  2. start a session: only for a user, bound to the device and to the
//     credential version the authentication read;
//  3. mint: a user's session gets an access and a refresh token; a client
//     gets an access token alone.

// Principal is who a token is minted for: a user, authenticated by a
// password, or a service client, authenticated by its secret.
type Principal struct {
	// User is the authenticated account as read with the credential that
	// proved it; its CredentialVersion guards the session started for it.
	// Zero for a client.
	User store.User
	// AMR is what proved it (RFC 8176 methods, e.g. ["pwd"]), recorded on
	// the session and carried by its access tokens.
	AMR []string
	// Client is the authenticated service client; nil for a user.
	Client *store.Client
	// backoffKey is the login backoff key of a password principal: Login
	// clears it once no second factor is pending.
	backoffKey string
}

// IsClient reports whether the principal is a service client.
func (p Principal) IsClient() bool { return p.Client != nil }

// startSession creates a session for an authenticated user on device and
// mints its first tokens. A credential change that completed while the
// credential was being checked (a reset, a disable, a sign-out everywhere)
// leaves no session: the store refuses it, and the caller gets
// ErrInvalidCredentials, as had it authenticated a moment later.
func (s *Service) startSession(ctx context.Context, p Principal, device Device) (*Tokens, error) {
	u := p.User
	ev := deviceEvent(EventLogin, OutcomeFailure, device)
	ev.UserID = u.ID
	now := s.cfg.Clock()
	sess, err := s.store.CreateSession(ctx, store.NewSession{
		ID: newID(), UserID: u.ID, ClientID: s.cfg.ClientID,
		UserAgent: device.UserAgent, IP: device.IP,
		RefreshJTI: newID(), RefreshIssuedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
		CredentialVersion: u.CredentialVersion,
		AMR:               p.AMR, AuthTime: now,
	})
	if errors.Is(err, store.ErrCredentialsChanged) {
		ev.Detail = detailCredentialsChanged
		s.record(ctx, ev)
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	ev.Outcome, ev.SessionID = OutcomeSuccess, sess.ID
	s.record(ctx, ev)
	return s.mintSession(u, sess, now)
}
