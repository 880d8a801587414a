package store

import "time"

// TOTP is a user's RFC 6238 second factor. It is pending (not asked for at
// login) until confirmed with a first code.
type TOTP struct {
	UserID string
	// SealedSecret is the caller's ciphertext of the secret; the store
	// never sees it in clear.
	SealedSecret []byte
	CreatedAt    time.Time
	// ConfirmedAt is zero while the secret is pending.
	ConfirmedAt time.Time
	// LastStep is the last RFC 6238 time step whose code was accepted (0:
	// none): a code is accepted once, so only later steps may follow.
	LastStep int64
}

// Confirmed reports whether the TOTP is active.
func (t TOTP) Confirmed() bool { return !t.ConfirmedAt.IsZero() }

// MFAChallenge is a half-finished authentication waiting for its second
// step: the mfa_token handed to the client, kept as a digest.
type MFAChallenge struct {
	// Digest is the token's digest (the caller's function); the lookup key.
	Digest []byte
	// Purpose is part of every lookup ("login", "enroll"), so a token of
	// one kind is unknown to the others.
	Purpose string
	UserID  string
	// CredentialVersion is the user's version when the first step
	// succeeded; the session the second step starts is bound to it.
	CredentialVersion int64
	// Network is the client network the challenge is bound to (the
	// caller's choice of prefix).
	Network   string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Failures counts wrong second steps.
	Failures int
	// AMR is what the first step proved, e.g. ["pwd"].
	AMR []string
}
