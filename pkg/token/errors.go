package token

import (
	"context"
	"errors"
	"strings"
)

// Sentinel errors for keys and key sets (token.go holds the verification
// ones).
var (
	// ErrInvalidKey reports a key that is malformed, of the wrong type or
	// size for its algorithm, or whose id is not its thumbprint, and a
	// sealed key that cannot be opened.
	ErrInvalidKey = errors.New("token: invalid key")
	// ErrNoPrivateKey reports a signing or sealing attempt with a
	// verification-only key.
	ErrNoPrivateKey = errors.New("token: key has no private part")
	// ErrInvalidJWKS reports a JWK Set that is malformed or holds no key
	// this package can use.
	ErrInvalidJWKS = errors.New("token: invalid JWK set")
)

// verifyError is a verification failure. It matches ErrInvalidToken and
// its kind; its text is fixed wording chosen here, never token content, so
// it is safe to log. The cause, if any, is reachable with errors.Is/As but
// is not part of the text.
type verifyError struct {
	kind   error  // ErrInvalidToken or one of the more specific sentinels
	reason string // fixed text
	cause  error
}

func (e *verifyError) Error() string {
	if e.kind == ErrInvalidToken {
		return "token: invalid token: " + e.reason
	}
	return "token: invalid token: " + strings.TrimPrefix(e.kind.Error(), "token: ") + ": " + e.reason
}

// Is makes the error match ErrInvalidToken and its kind.
func (e *verifyError) Is(target error) bool {
	return target == ErrInvalidToken || target == e.kind
}

func (e *verifyError) Unwrap() error { return e.cause }

// invalid returns a verification failure of the given kind.
func invalid(kind error, reason string) *verifyError {
	return &verifyError{kind: kind, reason: reason}
}

// unavailableError is a key set failure: it matches ErrKeySetUnavailable
// and the key set's own error, and deliberately not ErrInvalidToken, so
// that a caller answers "try again" rather than "bad token".
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string {
	if errors.Is(e.cause, ErrKeySetUnavailable) {
		return e.cause.Error() // already says so
	}
	return "token: key set unavailable: " + e.cause.Error()
}

// Is makes the error match ErrKeySetUnavailable.
func (e *unavailableError) Is(target error) bool { return target == ErrKeySetUnavailable }

func (e *unavailableError) Unwrap() error { return e.cause }

// keyLookupError classifies an error from KeySet.VerificationKey. A set
// that cannot be consulted (ErrKeySetUnavailable, or the request's context
// ending) is not the token's fault; anything else means the set does not
// know the key.
func keyLookupError(err error) error {
	if errors.Is(err, ErrKeySetUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &unavailableError{cause: err}
	}
	return &verifyError{kind: ErrUnknownKey, reason: "no verification key for the token's kid", cause: err}
}

// configError lists every problem found in a configuration at once.
type configError struct {
	what     string
	problems []error
}

func (e *configError) Error() string {
	var b strings.Builder
	b.WriteString(e.what)
	for i, p := range e.problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *configError) Unwrap() []error { return e.problems }
