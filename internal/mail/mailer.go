package mail

import (
	"context"
	"errors"
)

// Mailer delivers one message. Implementations honour ctx: when it is done,
// Send returns promptly.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// permanentError marks a failure that retrying cannot fix: a 5xx reply, a
// message that cannot be encoded, a TLS or credentials policy refusal.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying; Queue gives up on it at once.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by
// Permanent.
func IsPermanent(err error) bool {
	_, ok := errors.AsType[*permanentError](err)
	return ok
}
