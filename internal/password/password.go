// Package password normalises, checks and hashes passwords.
//
// Passwords are normalised with Unicode NFKC so that the same password typed
// on different keyboards hashes the same, counted in code points for the
// minimum length (NIST SP 800-63B), and limited to 72 bytes because bcrypt
// ignores everything after: a longer password is refused, never truncated.
package password

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxBytes is bcrypt's input limit.
const MaxBytes = 72

// DefaultMinLength is the minimum length in code points.
const DefaultMinLength = 8

// ErrWeak is matched by every policy violation.
var ErrWeak = errors.New("weak password")

// WeakError says which rule a password failed; Reason is safe to show to
// the user. It matches ErrWeak.
type WeakError struct{ Reason string }

func (e *WeakError) Error() string { return "weak password: " + e.Reason }

// Is makes errors.Is(err, ErrWeak) true.
func (e *WeakError) Is(target error) bool { return target == ErrWeak }

func weak(format string, args ...any) error {
	return &WeakError{Reason: fmt.Sprintf(format, args...)}
}

// Normalize returns the NFKC form of pw.
func Normalize(pw string) string { return norm.NFKC.String(pw) }

// Policy is the set of rules a new password must meet. There are no
// composition rules (NIST SP 800-63B §5.1.1.2): length and screening only.
type Policy struct {
	// MinLength is the minimum number of code points after NFKC;
	// ≤ 0 means DefaultMinLength.
	MinLength int
	// Breached reports whether a password is on a list of breached
	// passwords (breached.Contains); nil screens nothing. It is asked
	// after the length rules, with the normalised password.
	Breached func(pw string) bool
}

// BreachedReason is the Reason of a password refused by Policy.Breached.
const BreachedReason = "this password appears in lists of breached passwords; choose another"

// Check normalises pw and returns it if it meets the policy, or an error
// matching ErrWeak that says why not.
func (p Policy) Check(pw string) (string, error) {
	if !utf8.ValidString(pw) {
		return "", weak("password is not valid UTF-8")
	}
	n := Normalize(pw)
	min := p.MinLength
	if min <= 0 {
		min = DefaultMinLength
	}
	if utf8.RuneCountInString(n) < min {
		return "", weak("password must be at least %d characters", min)
	}
	if len(n) > MaxBytes {
		return "", weak("password must be at most %d bytes in UTF-8 (bcrypt's limit); it is %d", MaxBytes, len(n))
	}
	if p.Breached != nil && p.Breached(n) {
		return "", weak("%s", BreachedReason)
	}
	return n, nil
}
