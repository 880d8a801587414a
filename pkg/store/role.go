package store

import (
	"errors"
	"fmt"
)

// ErrInvalidRole means a role name is outside the grammar of ValidateRole.
var ErrInvalidRole = errors.New("store: invalid role name")

// MaxRoleLength is the longest role name ValidateRole accepts, in bytes.
const MaxRoleLength = 64

// ValidateRole checks that name is a role name: 1 to 64 characters of
// [a-z0-9_.:-], the first a letter or a digit (^[a-z0-9][a-z0-9_.:-]{0,63}$).
// Roles travel in tokens and, comma-separated, in the X-Auth-Roles header
// a gateway reads, so one grammar without commas, spaces, upper case or
// control characters is enforced on every path that grants one: the API,
// the CLI, the import and the store itself. Otherwise "viewer,admin" would
// read as admin to a gateway splitting the header, and a NUL or newline
// would land in a response header. The error wraps ErrInvalidRole and
// never quotes the name, which may be anything.
func ValidateRole(name string) error {
	if name == "" || len(name) > MaxRoleLength {
		return fmt.Errorf("%w: a role is 1 to %d characters", ErrInvalidRole, MaxRoleLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == ':' || c == '-'):
		default:
			return fmt.Errorf("%w: a role is lower-case letters, digits and _ . : - and starts with a letter or a digit", ErrInvalidRole)
		}
	}
	return nil
}
