package auth

import (
	"errors"
	"fmt"

	"github.com/authd/authd/pkg/store"
)

// Kinds of failure. Every error the Service returns for a client mistake is
// an *Error whose Kind is one of these, so a transport maps Kind to a status
// and shows Description, and nothing else, to the client.
var (
	ErrInvalidRequest     = errors.New("invalid_request")
	ErrWeakPassword       = errors.New("weak_password")
	ErrEmailTaken         = errors.New("email_taken")
	ErrInvalidCredentials = errors.New("invalid_credentials")
	ErrInvalidGrant       = errors.New("invalid_grant")
	ErrUnsupportedGrant   = errors.New("unsupported_grant_type")
	ErrInvalidToken       = errors.New("invalid_token")
	ErrUserDisabled       = errors.New("user_disabled")
	// ErrUnavailable means a dependency (store or denylist) failed and the
	// request did not take effect; the client may retry.
	ErrUnavailable = errors.New("temporarily_unavailable")
)

// Error is a failure whose Description is safe to show to the client. The
// Cause, if any, is for logs only.
type Error struct {
	Kind        error
	Description string
	Cause       error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Description, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Description)
}

// Unwrap lets errors.Is match both the Kind and the Cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

func fail(kind error, description string) error {
	return &Error{Kind: kind, Description: description}
}

func failWith(kind error, description string, cause error) error {
	return &Error{Kind: kind, Description: description, Cause: cause}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
