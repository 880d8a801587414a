package auth

import (
	"context"
	"time"
)

// Event types the service records.
const (
	EventRegister       = "register"
	EventLogin          = "login"
	EventRefresh        = "refresh"
	EventRefreshReuse   = "refresh_reuse"
	EventLogout         = "logout"
	EventPasswordChange = "password_change"
	EventPasswordReset  = "password_reset"
	EventEmailVerified  = "email_verified"
	EventSessionRevoked = "session_revoked"
	EventUserDisabled   = "user_disabled"
	EventUserEnabled    = "user_enabled"
	EventRoleChange     = "role_change"
	EventUserImport     = "user_import"
	EventKeyRotation    = "key_rotation"
	EventKeyRevocation  = "key_revocation"
	// Admin API actions beyond those the CLI shares (user_disabled,
	// user_enabled, role_change).
	EventUserCreated = "user_created"
	EventUserLogout  = "user_logout"
	EventUserDeleted = "user_deleted"

	// Service clients: the event's UserID is the client id (the trail's
	// subject), ActorID the admin who acted.
	EventClientCreated       = "client_created"
	EventClientSecretRotated = "client_secret_rotated"
	EventClientDisabled      = "client_disabled"
	EventClientEnabled       = "client_enabled"
	EventClientDeleted       = "client_deleted"
	// EventClientCredentials is a client_credentials grant, issued or
	// refused.
	EventClientCredentials = "client_credentials"

	// Second factor. EventMFAEnroll: a TOTP secret was issued (pending);
	// EventMFAConfirm: it was confirmed with a first code (active);
	// EventMFAVerify: a second step, of a login (Detail "login") or a
	// step-up ("step_up"), succeeded or failed; EventMFARecoveryCodeUsed:
	// a recovery code was spent; EventMFARecoveryCodes: a fresh set
	// replaced the old; EventMFADisabled: the user turned the second
	// factor off; EventMFAReset: an admin (ActorID) removed it.
	EventMFAEnroll           = "mfa_enroll"
	EventMFAConfirm          = "mfa_confirm"
	EventMFAVerify           = "mfa_verify"
	EventMFARecoveryCodeUsed = "mfa_recovery_code_used"
	EventMFARecoveryCodes    = "mfa_recovery_codes"
	EventMFADisabled         = "mfa_disabled"
	EventMFAReset            = "mfa_reset"
)

// Event outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Event is something that happened to an account, session or key, for the
// audit trail and the metrics. It never carries a secret: no password,
// token, token id or key material; Detail is a short error code.
type Event struct {
	At      time.Time
	Type    string
	Outcome string
	// UserID is the account the event is about; ActorID, when set, is
	// the admin who acted on it.
	UserID    string
	ActorID   string
	SessionID string
	IP        string
	UserAgent string
	Detail    string
}

// EventSink receives events. Record must not block the request: sinks that
// do I/O buffer and write in the background.
type EventSink interface {
	Record(ctx context.Context, e Event)
}

// EventSinks fans one event out to several sinks.
type EventSinks []EventSink

// Record implements EventSink.
func (s EventSinks) Record(ctx context.Context, e Event) {
	for _, sink := range s {
		sink.Record(ctx, e)
	}
}

// discardEvents is the sink of a Service built without one.
type discardEvents struct{}

func (discardEvents) Record(context.Context, Event) {}
