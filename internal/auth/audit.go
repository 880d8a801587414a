package auth

import "context"

// Details of failed events: short codes, never a secret.
const (
	detailInvalidCredentials = "invalid_credentials"
	detailEmailNotVerified   = "email_not_verified"
	detailUserDisabled       = "user_disabled"
	detailRateLimited        = "rate_limited"
	detailEmailTaken         = "email_taken"
	detailSessionRevoked     = "session_revoked"
	// detailCredentialsChanged: the password matched, but the credentials
	// changed (reset, disable, sign-out everywhere) before the step that
	// needed them, so it was refused.
	detailCredentialsChanged = "credentials_changed"
	// detailInvalidCode: a wrong, malformed or replayed second-factor
	// code; detailMFARequired: the password matched and a second step
	// was asked for.
	detailInvalidCode = "invalid_code"
	detailMFARequired = "mfa_required"
)

// record sends e to the event sink, stamped with the service's clock. It
// never blocks on I/O (sinks buffer), so it is called on the request path.
// Callers fill in only what the request knows: ids, IP, user agent, a
// detail code. Never a password, token, token id or key.
func (s *Service) record(ctx context.Context, e Event) {
	e.At = s.cfg.Clock()
	s.cfg.Events.Record(ctx, e)
}

// deviceEvent starts an event of typ and outcome from the device.
func deviceEvent(typ, outcome string, device Device) Event {
	return Event{Type: typ, Outcome: outcome, IP: device.IP, UserAgent: device.UserAgent}
}
