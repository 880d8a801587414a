// Package auth is authd's service logic: registration, login (with an
// optional second factor: TOTP and recovery codes, and step-up), refresh-token
// rotation, logout, the current user, email verification, password reset
// and change, the user's sessions, and the administration of accounts
// (listing, creating and inviting, disabling, roles, ending sessions,
// deleting; reading the audit trail), each admin action recorded with its
// Actor. It is transport-free: the HTTP layer decodes a request, calls one
// method, and encodes the result or the *Error it returns.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/token"
)

// Store is the part of pkg/store the service uses.
type Store interface {
	CreateUser(ctx context.Context, u store.User) (store.User, error)
	UserByEmail(ctx context.Context, email string) (store.User, error)
	UserByID(ctx context.Context, id string) (store.User, error)
	UpdatePasswordHash(ctx context.Context, userID, hash string) error
	ChangePasswordHash(ctx context.Context, c store.PasswordChange) error
	RehashPassword(ctx context.Context, userID, hash string, version int64) error
	SetEmailVerified(ctx context.Context, userID, email string) error
	CreateOneTimeToken(ctx context.Context, t store.OneTimeToken) error
	ConsumeOneTimeToken(ctx context.Context, hash []byte, purpose string, now time.Time) (store.OneTimeToken, error)
	CreateSession(ctx context.Context, s store.NewSession) (store.Session, error)
	RotateRefresh(ctx context.Context, r store.Rotation) (store.RotationResult, error)
	RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) error
	RevokeUserSessions(ctx context.Context, userID, exceptSessionID string, at time.Time) ([]string, error)
	ListSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error)
	SetUserDisabled(ctx context.Context, userID string, disabled bool) error
	GrantRole(ctx context.Context, userID, role string) error
	RevokeRole(ctx context.Context, userID, role string) error
	ClientStore
	ListUsers(ctx context.Context, q store.UserQuery) ([]store.User, error)
	DeleteUser(ctx context.Context, userID string) error
	AuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error)
	MFAStore
}

// MFAStore is the part of pkg/store the second factor uses.
type MFAStore interface {
	SetPendingTOTP(ctx context.Context, userID string, sealed []byte, at time.Time) error
	TOTP(ctx context.Context, userID string) (store.TOTP, error)
	ConfirmTOTP(ctx context.Context, userID string, step int64, codes [][]byte, at time.Time) error
	AcceptTOTPStep(ctx context.Context, userID string, step int64) error
	DeleteTOTP(ctx context.Context, userID string) error
	ReplaceRecoveryCodes(ctx context.Context, userID string, codes [][]byte, at time.Time) error
	ConsumeRecoveryCode(ctx context.Context, userID string, digest []byte, at time.Time) error
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	CreateMFAChallenge(ctx context.Context, c store.MFAChallenge) error
	MFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error)
	FailMFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error)
	ConsumeMFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error)
	StepUpSession(ctx context.Context, userID, sessionID string, amr []string, at time.Time) (store.Session, error)
}

// Outbox sends mail off the request path (a mail.Queue). Enqueue must
// never block; it reports whether the job was accepted, and a refusal is
// the outbox's to count: no request fails for want of mail.
type Outbox interface {
	Enqueue(j mail.Job) bool
}

// Templates renders the mail the service sends (a *mail.Templates).
type Templates interface {
	Render(kind mail.Kind, to string, d mail.Data) (mail.Message, error)
}

// SigningKeys gives the keys that sign new tokens.
type SigningKeys interface {
	// SigningKey is the key that signs access tokens now.
	SigningKey() (*token.Key, error)
	// RefreshKey is the MAC key for refresh tokens now.
	RefreshKey() (*token.MACKey, error)
}

// RefreshKeys verifies presented refresh tokens: HS256 ones with the MAC
// keys, and those of older releases, signed like access tokens, with the
// public keys.
type RefreshKeys interface {
	token.KeySet
	token.MACKeySet
}

// Config holds the service's settings.
type Config struct {
	Issuer            string
	Audience          string
	ClientID          string
	AccessTTL         time.Duration
	RefreshTTL        time.Duration
	RefreshReuseGrace time.Duration
	Leeway            time.Duration
	PasswordPolicy    password.Policy
	Clock             func() time.Time
	Logger            *slog.Logger

	// PublicURL is the base of the links in mail (AUTHD_PUBLIC_URL), e.g.
	// https://app.example.com: links are PublicURL + "/verify-email?token=…"
	// and PublicURL + "/reset-password?token=…". Empty: Issuer.
	PublicURL string
	// VerifyTTL and ResetTTL are the lifetimes of email verification and
	// password reset tokens; zero means 24h and 30m.
	VerifyTTL time.Duration
	ResetTTL  time.Duration
	// RequireVerifiedEmail refuses login until the email is verified, and
	// makes registering a taken email answer like a new registration
	// (mailing the owner a notice) instead of 409.
	RequireVerifiedEmail bool
	// Outbox sends mail; nil sends none. Templates renders it; nil uses
	// the embedded defaults.
	Outbox    Outbox
	Templates Templates

	// AdminRole is the role of the admin API's users
	// (AUTHD_ADMIN_ROLE): an admin may not revoke it from themselves.
	// Empty: "admin".
	AdminRole string
	// InviteTTL is the lifetime of the set-password link mailed to an
	// account created without a password; zero means 72h.
	InviteTTL time.Duration

	// Limits slow down attacks on single accounts; the zero value limits
	// nothing.
	Limits Limits
	// Events receives what happens to accounts and sessions (the audit
	// trail); nil discards it.
	Events EventSink

	// MFA configures the second factor; see MFAConfig.
	MFA MFAConfig
}

// DefaultAdminRole is the admin role of a Config that names none.
const DefaultAdminRole = "admin"

// Service implements authd's account and token operations.
type Service struct {
	cfg      Config
	store    Store
	denylist denylist.Denylist
	signer   SigningKeys
	hasher   *password.Hasher
	refresh  *token.Checker
}

// New returns a Service. keys verifies refresh tokens; signer mints.
func New(cfg Config, s Store, dl denylist.Denylist, signer SigningKeys, keys RefreshKeys, hasher *password.Hasher) (*Service, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Events == nil {
		cfg.Events = discardEvents{}
	}
	if cfg.AdminRole == "" {
		cfg.AdminRole = DefaultAdminRole
	}
	if err := cfg.mfaDefaults(); err != nil {
		return nil, err
	}
	if err := cfg.mailDefaults(); err != nil {
		return nil, err
	}
	refresh, err := token.NewChecker(legacyRefreshKeys{RefreshKeys: keys, now: cfg.Clock},
		token.WithIssuer(cfg.Issuer),
		token.WithAudience(cfg.Issuer), // refresh tokens are for authd alone
		token.WithType(token.TypeRefresh),
		token.WithMACKeys(keys),
		token.WithLeeway(cfg.Leeway),
		token.WithClock(cfg.Clock),
	)
	if err != nil {
		return nil, fmt.Errorf("auth: refresh verifier: %w", err)
	}
	return &Service{cfg: cfg, store: s, denylist: dl, signer: signer, hasher: hasher, refresh: refresh}, nil
}

// legacyRefreshCutoff is when refresh tokens of the older kind, signed
// like access tokens (ES256, EdDSA or RS256) rather than MACed, stop being
// accepted. Releases before refresh tokens were MACed (the change dated
// 2026-11-26T02:13:14Z) issued them with a lifetime of at most the default
// AUTHD_REFRESH_TTL, 720h, so none that such a release could have issued
// is alive after this; past it the public keys verify access tokens only.
var legacyRefreshCutoff = time.Date(2026, 12, 26, 2, 13, 14, 0, time.UTC)

// legacyRefreshKeys is the key set of the refresh verifier: MAC keys as
// given, and the public keys (which only older, signed refresh tokens
// use) until legacyRefreshCutoff by the service's clock.
type legacyRefreshKeys struct {
	RefreshKeys
	now func() time.Time
}

// errLegacyRefresh is why a signed refresh token is refused after the
// cutoff; it matches token.ErrUnknownKey.
var errLegacyRefresh = fmt.Errorf("%w: signed refresh tokens are no longer accepted", token.ErrUnknownKey)

func (k legacyRefreshKeys) VerificationKey(ctx context.Context, kid string) (*token.Key, error) {
	if !k.now().Before(legacyRefreshCutoff) {
		return nil, errLegacyRefresh
	}
	return k.RefreshKeys.VerificationKey(ctx, kid)
}

// Tokens is what a successful login, refresh or grant hands to the client.
type Tokens struct {
	AccessToken     string
	AccessExpiresIn time.Duration
	// RefreshToken is empty for a service client, which has no session.
	RefreshToken     string
	RefreshExpiresIn time.Duration
	// Scope is the granted scope (space-separated) of a client's token;
	// empty for a user's.
	Scope string
}

// Device is the user agent and IP a request comes from, recorded on sessions
// and in the audit trail.
type Device struct {
	UserAgent string
	IP        string
}

// newID returns 128 random bits, base64url: session ids and token ids.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// revocationHorizon is how long a denylist entry for a session or user must
// live: the longest an access token issued now can stay valid.
func (s *Service) revocationHorizon(now time.Time) time.Time {
	return now.Add(s.cfg.AccessTTL + s.cfg.Leeway)
}

// amrPassword is the RFC 8176 method of a password login.
const amrPassword = "pwd"

// sessionAMR is how the session's user authenticated. A session that
// records nothing began with a password, the only way in when it was
// created.
func sessionAMR(sess store.Session) []string {
	if len(sess.AMR) == 0 {
		return []string{amrPassword}
	}
	return sess.AMR
}

// sessionAuthTime is when the session's user last authenticated; a session
// that records nothing did at its creation.
func sessionAuthTime(sess store.Session) time.Time {
	if sess.AuthTime.IsZero() {
		return sess.CreatedAt
	}
	return sess.AuthTime
}

// mintClient signs a service client's access token: sub and client_id are
// the client's id, no sid (no session), no roles ([] as every access
// token), scope as granted and aud the one audience chosen.
func (s *Service) mintClient(c *store.Client, scopes []string, audience string, now time.Time) (*Tokens, error) {
	key, err := s.signer.SigningKey()
	if err != nil {
		return nil, err
	}
	exp := now.Add(s.cfg.AccessTTL)
	scope := strings.Join(scopes, " ")
	access, err := token.Sign(key, token.TypeAccess, &token.Payload{
		RegisteredClaims: registered(s.cfg.Issuer, c.ID, audience, newID(), now, exp),
		ClientID:         c.ID,
		Scope:            scope,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: sign access token: %w", err)
	}
	return &Tokens{AccessToken: access, AccessExpiresIn: exp.Sub(now), Scope: scope}, nil
}

// mintSession signs the access and refresh tokens of a user's session.
func (s *Service) mintSession(u store.User, sess store.Session, now time.Time) (*Tokens, error) {
	key, err := s.signer.SigningKey()
	if err != nil {
		return nil, err
	}
	accessExp := now.Add(s.cfg.AccessTTL)
	access, err := token.Sign(key, token.TypeAccess, &token.Payload{
		RegisteredClaims: registered(s.cfg.Issuer, u.ID, s.cfg.Audience, newID(), now, accessExp),
		SessionID:        sess.ID,
		ClientID:         s.cfg.ClientID,
		Roles:            u.Roles,
		// The session's, so that a refresh, which proves no new
		// authentication, keeps what the login (or a step-up) proved.
		AMR:      sessionAMR(sess),
		AuthTime: token.NewNumericDate(sessionAuthTime(sess)),
	})
	if err != nil {
		return nil, fmt.Errorf("auth: sign access token: %w", err)
	}
	// The refresh token is re-minted from the session row, so presenting
	// the previous token within the grace window yields the same jti. It is
	// MACed, not signed: only authd reads it, and an ES256 signature plus
	// its verification on the next refresh were half of a refresh's CPU.
	macKey, err := s.signer.RefreshKey()
	if err != nil {
		return nil, err
	}
	refresh, err := token.SignMAC(macKey, token.TypeRefresh, &token.Payload{
		RegisteredClaims: registered(s.cfg.Issuer, u.ID, s.cfg.Issuer, sess.RefreshJTI, sess.RefreshIssuedAt, sess.ExpiresAt),
		SessionID:        sess.ID,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: sign refresh token: %w", err)
	}
	return &Tokens{
		AccessToken:      access,
		AccessExpiresIn:  accessExp.Sub(now),
		RefreshToken:     refresh,
		RefreshExpiresIn: sess.ExpiresAt.Sub(now),
	}, nil
}
