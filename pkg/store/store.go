// Package store persists authd's durable state: users and their roles,
// sessions (one refresh-token family each), signing keys and the one-time
// tokens mailed to users (email verification, password reset).
//
// Store is the contract; backends live in their own packages and register
// by URL scheme (Register), so that callers hold a Store opened with Open
// and never a concrete backend. pkg/store/sqlstore serves SQLite (the
// embedded default), Postgres and MySQL/MariaDB. Policy shared by every
// backend, such as DecideRotation, lives here, not in the backends.
//
// The package knows nothing of HTTP, JWTs or passwords: it stores what it is
// given (a password hash, a sealed private key) and enforces the invariants
// that must hold under concurrency, such as "a refresh token rotates exactly
// once". Every backend passes the same conformance suite
// (pkg/store/storetest).
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with %w; callers match with errors.Is.
var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists means a unique value (such as an email) is taken.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrSessionRevoked means the session exists but was revoked or expired.
	ErrSessionRevoked = errors.New("store: session revoked")
	// ErrRefreshReused means a refresh token that was already rotated was
	// presented outside the reuse grace window. The store has revoked the
	// whole session (family) before returning it.
	ErrRefreshReused = errors.New("store: refresh token reused")
	// ErrUnavailable means the database could not be reached or could not
	// serve the call for now (connection refused or lost, server shutting
	// down or out of resources, a lock not granted in time): the call did
	// not take effect, or its outcome is unknown, and may be retried later.
	// It wraps the driver's error. A malformed query or a constraint
	// violation is never ErrUnavailable.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrCredentialsChanged means the user's credentials changed (a new
	// password, disabled, every session ended) after the caller read the
	// CredentialVersion it passed: what the caller verified no longer
	// holds, and the call did not take effect.
	ErrCredentialsChanged = errors.New("store: credentials changed")
	// ErrReplayed means a single-use value was already used: a TOTP step
	// at or before the last one accepted.
	ErrReplayed = errors.New("store: already used")
)

// User is an account. Email is stored normalised (trimmed, lower-cased).
type User struct {
	ID            string
	Email         string
	PasswordHash  string
	EmailVerified bool
	Disabled      bool
	// Roles are the roles granted to the user, sorted, never nil after a read.
	Roles []string
	// CredentialVersion counts the changes that end every session
	// verified before them: a new password (UpdatePasswordHash,
	// ChangePasswordHash), disabling (SetUserDisabled) and ending every
	// session (RevokeUserSessions). It starts at 0; only the store moves
	// it. A re-hash of the same password (RehashPassword) leaves it.
	CredentialVersion int64

	CreatedAt time.Time
	UpdatedAt time.Time
	// LastLoginAt is when the user's newest session was created (zero:
	// never), set by CreateSession.
	LastLoginAt time.Time
}

// Session is one login on one device: the refresh-token family.
//
// Exactly one refresh token of a family is current (RefreshJTI). When it is
// rotated, the previous one is kept (PrevRefreshJTI, RotatedAt) so that a
// client that lost the response may present it again within a grace window
// and receive the same successor.
type Session struct {
	ID       string
	UserID   string
	ClientID string
	// UserAgent and IP are the device details seen at login and updated at
	// each refresh.
	UserAgent string
	IP        string

	// RefreshJTI is the jti of the current refresh token; RefreshIssuedAt
	// and ExpiresAt are its iat and exp, kept so the same token can be
	// re-minted within the grace window.
	RefreshJTI      string
	RefreshIssuedAt time.Time
	ExpiresAt       time.Time

	// PrevRefreshJTI is the jti that RefreshJTI replaced, at RotatedAt.
	// Empty until the first rotation.
	PrevRefreshJTI string
	RotatedAt      time.Time

	CreatedAt       time.Time
	LastRefreshedAt time.Time
	// RevokedAt is zero while the session is live.
	RevokedAt time.Time
	// AMR is how the user last authenticated in this session (RFC 8176
	// methods, e.g. ["pwd"], ["pwd","otp"]) and AuthTime when: the login,
	// or a later step-up. A refresh changes neither.
	AMR      []string
	AuthTime time.Time
	// CredentialVersion is the owner's CredentialVersion the session was
	// created against (or carried to). A session whose version is no
	// longer its owner's cannot rotate.
	CredentialVersion int64
}

// NewSession holds what is known when a session starts.
type NewSession struct {
	ID              string
	UserID          string
	ClientID        string
	UserAgent       string
	IP              string
	RefreshJTI      string
	RefreshIssuedAt time.Time
	ExpiresAt       time.Time
	// CredentialVersion is the user's CredentialVersion as read with the
	// password hash the caller verified: the session is created only if
	// it is still the user's.
	CredentialVersion int64
	// AMR and AuthTime say how and when the user authenticated; a zero
	// AuthTime is RefreshIssuedAt.
	AMR      []string
	AuthTime time.Time
}

// PasswordChange replaces a password the caller has just verified.
type PasswordChange struct {
	UserID string
	Hash   string
	// Version is the CredentialVersion read with the hash the current
	// password was verified against.
	Version int64
	// KeepSessionID, when set, names the caller's session: it is carried
	// to the new version in the same transaction, so it keeps working.
	KeepSessionID string
}

// Rotation asks the store to move a session from one refresh token to the
// next in a single atomic step.
type Rotation struct {
	SessionID string
	// PresentedJTI is the jti of the refresh token the client presented.
	PresentedJTI string
	// NewJTI, NewIssuedAt and NewExpiresAt describe the successor token.
	NewJTI       string
	NewIssuedAt  time.Time
	NewExpiresAt time.Time
	// Grace is how long after a rotation the previous token may be
	// presented again and answered with the same successor. Zero disables
	// the grace window: any replay is reuse.
	Grace time.Duration
	// Now is the time of the request (from the caller's clock).
	Now time.Time
	// UserAgent and IP update the session's device details; an empty
	// value keeps the stored one.
	UserAgent string
	IP        string
}

// RotationResult is the outcome of a successful RotateRefresh.
type RotationResult struct {
	// Session is the session after the step; its RefreshJTI,
	// RefreshIssuedAt and ExpiresAt describe the token to hand out.
	Session Session
	// User is the session's owner as stored now (roles included), so the
	// caller can mint an access token without another read.
	User User
	// Replayed is true when the presented token was the previous one,
	// within the grace window: no new rotation happened and the caller
	// must hand out the existing successor (same jti).
	Replayed bool
}

// SigningKey is a JWT signing key as stored. The private part is sealed
// (encrypted) by the caller; the store never sees it in clear.
type SigningKey struct {
	ID        string // the JWK "kid"
	Algorithm string // "ES256", "EdDSA" or "RS256"
	// PublicKey is the PKIX (SubjectPublicKeyInfo) DER encoding.
	PublicKey []byte
	// SealedPrivateKey is the caller's ciphertext of the private key.
	SealedPrivateKey []byte
	CreatedAt        time.Time
	// ActivatesAt is when the key may start signing. A key is published
	// in JWKS from CreatedAt, before it signs, so verifiers know it first.
	ActivatesAt time.Time
	// RetiredAt is when the key stopped signing (zero while it may sign).
	RetiredAt time.Time
	// ExpiresAt is when no token signed by the key can still be alive; the
	// key is dropped from JWKS after it (zero while it may sign).
	ExpiresAt time.Time
	// RevokedAt is when the key was revoked (zero if never): from then on
	// it neither signs nor verifies. The row is kept until ExpiresAt all
	// the same, for the caller's use (authd derives refresh MAC keys from
	// the id).
	RevokedAt time.Time
}

// OneTimeToken is a single-use secret mailed to a user, such as an email
// verification or password reset link. The store keeps only its hash: a
// leaked table cannot be replayed.
type OneTimeToken struct {
	// Hash is the token's digest (the caller chooses the function); it is
	// the lookup key.
	Hash []byte
	// Purpose is part of every lookup, so a token issued for one use is
	// unknown to every other.
	Purpose string
	UserID  string
	// Email is the address the token was mailed to.
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is zero until the token is consumed.
	UsedAt time.Time
}

// Store is everything authd persists. Implementations are safe for
// concurrent use.
type Store interface {
	// CreateUser inserts u, with the roles in u.Roles. ID, Email and
	// PasswordHash must be set; CreatedAt/UpdatedAt are set by the store
	// when zero. A taken email (compared normalised) or ID returns
	// ErrAlreadyExists.
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByEmail and UserByID return ErrNotFound when there is no such user.
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	// UpdatePasswordHash replaces a user's password hash unconditionally
	// (a reset, an operator's import) and bumps CredentialVersion in the
	// same statement, so that no session verified against the old
	// password can be created any more. An unknown user is ErrNotFound.
	UpdatePasswordHash(ctx context.Context, userID, hash string) error
	// ChangePasswordHash replaces the hash verified at c.Version and
	// bumps CredentialVersion, carrying c.KeepSessionID (if it is the
	// user's, unrevoked and at c.Version) to the new version, in one
	// transaction. A version that moved on is ErrCredentialsChanged; an
	// unknown user is ErrNotFound.
	ChangePasswordHash(ctx context.Context, c PasswordChange) error
	// RehashPassword replaces a user's hash with a new hash of the same
	// password (a cost upgrade). It is not a credential change: the
	// version stays. It applies only while the version is still version
	// (else ErrCredentialsChanged), so that a rehash of an old password
	// never undoes a change that happened since it was read.
	RehashPassword(ctx context.Context, userID, hash string, version int64) error
	// SetEmailVerified marks a user's email verified, provided the user's
	// email is still email (a token mailed to an old address must not
	// verify a new one). Otherwise, or for an unknown user, ErrNotFound.
	// Marking it again is not an error.
	SetEmailVerified(ctx context.Context, userID, email string) error
	// SetUserDisabled disables or re-enables a user; an unknown user is
	// ErrNotFound. Disabling bumps CredentialVersion, so that a login
	// verified before cannot create a session after; revoking the user's
	// existing sessions is the caller's job.
	SetUserDisabled(ctx context.Context, userID string, disabled bool) error
	// GrantRole and RevokeRole are idempotent. GrantRole to an unknown
	// user is ErrNotFound; GrantRole, and CreateUser with roles, refuse a
	// name outside ValidateRole's grammar with ErrInvalidRole. RevokeRole
	// takes any name, so roles stored by older releases can be removed.
	GrantRole(ctx context.Context, userID, role string) error
	RevokeRole(ctx context.Context, userID, role string) error
	// ListUsers returns up to q.Limit users after q.After in (CreatedAt,
	// ID) order that match q's filters, roles included. A Limit outside 1
	// to 1000 is an error matching no sentinel (the caller's mistake).
	ListUsers(ctx context.Context, q UserQuery) ([]User, error)
	// DeleteUser deletes a user with their roles, sessions and one-time
	// tokens, and erases the personal data of their audit events (IP and
	// user agent; the events stay, under the user id), in one
	// transaction. An unknown user is ErrNotFound. Revoking the user's
	// live access tokens is the caller's job.
	DeleteUser(ctx context.Context, userID string) error

	// CreateSession starts a session (refresh family). Its CreatedAt and
	// LastRefreshedAt, and the user's LastLoginAt, are s.RefreshIssuedAt. It is created only if the
	// user's CredentialVersion is still s.CredentialVersion, checked
	// atomically with the insert; otherwise ErrCredentialsChanged. A taken
	// ID is ErrAlreadyExists; an unknown user is ErrNotFound.
	CreateSession(ctx context.Context, s NewSession) (Session, error)
	// RotateRefresh rotates a session's refresh token atomically:
	//   - no such session: ErrNotFound;
	//   - session revoked, expired at Now (ExpiresAt <= Now), or created
	//     against a CredentialVersion that is no longer its owner's:
	//     ErrSessionRevoked, whatever jti was presented;
	//   - presented == current: rotate to the new jti, return it;
	//   - presented == previous, Grace > 0 and Now-RotatedAt <= Grace:
	//     return the current successor unchanged with Replayed set;
	//   - presented is any other jti (an older, replayed or unknown
	//     token): revoke the session and return ErrRefreshReused.
	// Concurrent calls with the same presented jti never both rotate.
	RotateRefresh(ctx context.Context, r Rotation) (RotationResult, error)
	// RevokeSession revokes one session of a user; revoking a revoked
	// session is not an error. A session of another user is ErrNotFound.
	RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) error
	// RevokeUserSessions revokes every session of a user that is live at
	// `at` (unrevoked, unexpired) except the one named by exceptSessionID
	// (empty: all) and returns the ids it revoked. In the same transaction
	// it bumps the user's CredentialVersion and carries exceptSessionID
	// to it, so that a login verified before the call cannot add a
	// session after it.
	RevokeUserSessions(ctx context.Context, userID, exceptSessionID string, at time.Time) ([]string, error)
	// StepUpSession records that the user of a live session (one that
	// could still rotate) authenticated again at `at` with amr: the
	// session's AMR and AuthTime become those. Another user's session, or
	// one that is not live, is ErrNotFound.
	StepUpSession(ctx context.Context, userID, sessionID string, amr []string, at time.Time) (Session, error)
	// ListSessions returns a user's live sessions (unrevoked, unexpired at
	// now, at the user's CredentialVersion: those that could still
	// rotate), newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)

	// CreateOneTimeToken stores t and deletes every earlier token of the
	// same user and purpose, used or not, in one transaction: at most one
	// token per user and purpose is ever live, and the table stays small.
	// Hash, Purpose, UserID, Email and ExpiresAt are required; a zero
	// CreatedAt is set by the store. An unknown user is ErrNotFound; a
	// taken hash is ErrAlreadyExists.
	CreateOneTimeToken(ctx context.Context, t OneTimeToken) error
	// ConsumeOneTimeToken marks the token with this hash and purpose used
	// at now and returns it, provided it is unused and unexpired
	// (ExpiresAt > now). Anything else (unknown hash, other purpose, used,
	// expired) is ErrNotFound. It is one atomic step: of concurrent calls
	// with the same token at most one succeeds.
	ConsumeOneTimeToken(ctx context.Context, hash []byte, purpose string, now time.Time) (OneTimeToken, error)

	// CreateClient stores a new client; CreatedAt/UpdatedAt are set by
	// the store when zero. ID and SecretHash are required, and a scope or
	// audience that is empty or holds white space is refused (an error
	// matching no sentinel). A taken ID is ErrAlreadyExists.
	CreateClient(ctx context.Context, c Client) error
	// ClientByID returns a client, disabled or not; an unknown (or
	// deleted) one is ErrNotFound.
	ClientByID(ctx context.Context, id string) (Client, error)
	// ListClients returns every client, oldest first.
	ListClients(ctx context.Context) ([]Client, error)
	// RotateClientSecret makes r.NewHash the client's secret and keeps the
	// replaced one as PrevSecretHash until r.PrevExpiresAt (a previous
	// secret still in its grace is dropped). An unknown client is
	// ErrNotFound.
	RotateClientSecret(ctx context.Context, r SecretRotation) error
	// SetClientDisabled disables or re-enables a client; an unknown one is
	// ErrNotFound. Idempotent.
	SetClientDisabled(ctx context.Context, id string, disabled bool, at time.Time) error
	// DeleteClient deletes a client; an unknown one is ErrNotFound.
	DeleteClient(ctx context.Context, id string) error
	// TouchClient records that the client obtained a token at `at`;
	// LastUsedAt never moves back. An unknown client is not an error (it
	// may have been deleted meanwhile).
	TouchClient(ctx context.Context, id string, at time.Time) error

	// SetPendingTOTP stores a new, unconfirmed TOTP secret for a user,
	// replacing a pending one. A confirmed one is ErrAlreadyExists (it
	// must be deleted first); an unknown user is ErrNotFound.
	SetPendingTOTP(ctx context.Context, userID string, sealed []byte, at time.Time) error
	// TOTP returns a user's TOTP, pending or confirmed; none is
	// ErrNotFound.
	TOTP(ctx context.Context, userID string) (TOTP, error)
	// ConfirmTOTP activates a pending TOTP whose first code was of step,
	// and replaces the user's recovery codes with codes (digests), in one
	// transaction. No pending TOTP (none, or already confirmed) is
	// ErrNotFound.
	ConfirmTOTP(ctx context.Context, userID string, step int64, codes [][]byte, at time.Time) error
	// AcceptTOTPStep records that a code of step was accepted, provided
	// the TOTP is confirmed and step is after LastStep; otherwise
	// ErrReplayed (no confirmed TOTP: ErrNotFound). Of concurrent calls
	// with the same step, one succeeds.
	AcceptTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteTOTP removes a user's TOTP and recovery codes; none is
	// ErrNotFound.
	DeleteTOTP(ctx context.Context, userID string) error
	// ReplaceRecoveryCodes replaces a user's recovery codes (digests).
	ReplaceRecoveryCodes(ctx context.Context, userID string, codes [][]byte, at time.Time) error
	// ConsumeRecoveryCode marks an unused code of the user used; an
	// unknown or used one is ErrNotFound. Of concurrent calls with the
	// same code, one succeeds.
	ConsumeRecoveryCode(ctx context.Context, userID string, digest []byte, at time.Time) error
	// RecoveryCodesLeft counts a user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	// CreateMFAChallenge stores c, deleting the user's challenges that
	// expired or were used. Digest, Purpose, UserID and ExpiresAt are
	// required; a taken digest is ErrAlreadyExists, an unknown user
	// ErrNotFound.
	CreateMFAChallenge(ctx context.Context, c MFAChallenge) error
	// MFAChallenge returns the live challenge with this digest and
	// purpose: unused, unexpired at now and with fewer than maxFailures
	// failures. Anything else is ErrNotFound.
	MFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (MFAChallenge, error)
	// FailMFAChallenge counts a wrong second step against a live
	// challenge and returns it as updated; one that is not live is
	// ErrNotFound.
	FailMFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (MFAChallenge, error)
	// ConsumeMFAChallenge marks a live challenge used at now and returns
	// it; one that is not live is ErrNotFound. Of concurrent calls, one
	// succeeds.
	ConsumeMFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (MFAChallenge, error)

	// CreateSigningKey stores a new key. An existing ID is ErrAlreadyExists.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// SigningKeys returns every key whose ExpiresAt is zero or after now,
	// oldest first.
	SigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error)
	// RetireSigningKeys marks every key that has not been retired and
	// whose ID is not keepID as retired at `at`, expiring at expiresAt.
	RetireSigningKeys(ctx context.Context, keepID string, at, expiresAt time.Time) error
	// RevokeSigningKey marks key id revoked at `at` (its RevokedAt). It
	// is idempotent: revoking a revoked key keeps its first time. An
	// unknown id is ErrNotFound. The key stays listed by SigningKeys until
	// its ExpiresAt, like any other.
	RevokeSigningKey(ctx context.Context, id string, at time.Time) error

	// WithAdvisoryLock runs fn while holding a cluster-wide lock named by
	// key (Postgres advisory lock, MySQL GET_LOCK; a process mutex on SQLite), so that
	// replicas do not run migrations or key rotation at the same time.
	WithAdvisoryLock(ctx context.Context, key string, fn func(ctx context.Context) error) error

	// Migrate brings the schema (tables, indexes, collections) up to date.
	// It is idempotent and safe to call from replicas starting together:
	// they apply it one at a time, under the backend's own lock.
	Migrate(ctx context.Context) error

	// AuditLog is the append-only audit trail, in the same database.
	AuditLog
	// RevocationLog records every denylist write, so that the denylist
	// can be rebuilt from the store.
	RevocationLog

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Close releases the connection pool.
	Close() error
}
