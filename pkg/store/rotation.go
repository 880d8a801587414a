package store

import "time"

// RotationDecision is what a refresh-token rotation does to a session,
// decided by DecideRotation. Every backend applies it inside its own atomic
// step (a row lock, a transaction, a conditional single-document update),
// so no backend restates the policy.
type RotationDecision int

// Rotation decisions.
const (
	// RotateDead: the session is revoked, expired at Now, or of a
	// credential version that is no longer its owner's. ErrSessionRevoked,
	// whatever was presented.
	RotateDead RotationDecision = iota + 1
	// RotateFresh: the presented token is the current one; move the
	// session to the new jti.
	RotateFresh
	// RotateReplay: the presented token is the previous one, within the
	// grace window; hand out the current successor unchanged.
	RotateReplay
	// RotateReuse: any other token of the family; revoke the session and
	// answer ErrRefreshReused.
	RotateReuse
)

// DecideRotation classifies r against sess as stored, whose owner's
// credential version is now ownerVersion (RFC 9700 §4.14.2 refresh-token
// rotation with reuse detection). A negative age of the previous rotation
// (the rotating replica's clock ahead of this one's) counts as within the
// grace window.
func DecideRotation(sess Session, ownerVersion int64, r Rotation) RotationDecision {
	switch {
	case !sess.RevokedAt.IsZero() || !sess.ExpiresAt.After(r.Now) || sess.CredentialVersion != ownerVersion:
		return RotateDead
	case r.PresentedJTI == sess.RefreshJTI:
		return RotateFresh
	case inGrace(sess, r.PresentedJTI, r.Grace, r.Now):
		return RotateReplay
	default:
		return RotateReuse
	}
}

func inGrace(sess Session, presented string, grace time.Duration, now time.Time) bool {
	return grace > 0 && sess.PrevRefreshJTI != "" && presented == sess.PrevRefreshJTI &&
		now.Sub(sess.RotatedAt) <= grace
}
