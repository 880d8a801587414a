package password

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Formats of stored password hashes authd can verify. New hashes are always
// FormatBcrypt; the others come from importing users of other systems and
// are replaced by a native hash at the next successful login.
const (
	// FormatBcrypt is a modular-crypt bcrypt hash: $2a$, $2b$ (authd's
	// own, Flask-Bcrypt, Node bcrypt) or $2y$ (PHP).
	FormatBcrypt = "bcrypt"
	// FormatDjangoBcrypt is Django's BCryptPasswordHasher:
	// "bcrypt$" + a bcrypt hash of the password.
	FormatDjangoBcrypt = "django-bcrypt"
	// FormatDjangoBcryptSHA256 is Django's BCryptSHA256PasswordHasher:
	// "bcrypt_sha256$" + a bcrypt hash of hex(SHA-256(password)), which
	// lifts bcrypt's 72-byte limit.
	FormatDjangoBcryptSHA256 = "django-bcrypt-sha256"
)

// ErrUnsupportedHash means a stored hash is in no format authd verifies.
var ErrUnsupportedHash = errors.New("password: unsupported hash format")

// ErrCostTooHigh means a hash's bcrypt cost is above what authd accepts
// (MaxImportedCost for an import).
var ErrCostTooHigh = errors.New("password: bcrypt cost too high")

// MaxImportedCost is the highest bcrypt cost an imported hash may have.
// Each step doubles the work: a wrong password against a cost-16 hash holds
// a bcrypt slot for seconds, against cost 31 for hours, and anyone may
// type one. Lower costs are accepted and re-hashed at the configured cost
// at the next login.
const MaxImportedCost = 14

// CheckImported parses a hash from another system (see ParseStored) and
// refuses a cost above MaxImportedCost with ErrCostTooHigh.
func CheckImported(stored string) (Stored, error) {
	s, err := ParseStored(stored)
	if err != nil {
		return Stored{}, err
	}
	if c := s.Cost(); c > MaxImportedCost {
		return Stored{}, fmt.Errorf("%w: cost %d, at most %d (each step doubles the time of every login attempt)", ErrCostTooHigh, c, MaxImportedCost)
	}
	return s, nil
}

// Stored is a parsed stored hash.
type Stored struct {
	format string
	bcrypt string // the modular-crypt bcrypt part
}

// Format returns one of the Format constants.
func (s Stored) Format() string { return s.format }

// Cost returns the bcrypt cost of the hash.
func (s Stored) Cost() int {
	c, _ := bcrypt.Cost([]byte(s.bcrypt))
	return c
}

// ParseStored recognises a stored hash and checks that its bcrypt part is
// well formed (version 2a, 2b or 2y, cost 4..31, 53 characters after the
// cost), so that an import can refuse a bad row up front.
func ParseStored(stored string) (Stored, error) {
	s := Stored{format: FormatBcrypt, bcrypt: stored}
	switch {
	case strings.HasPrefix(stored, "bcrypt_sha256$"):
		s = Stored{format: FormatDjangoBcryptSHA256, bcrypt: strings.TrimPrefix(stored, "bcrypt_sha256$")}
	case strings.HasPrefix(stored, "bcrypt$"):
		s = Stored{format: FormatDjangoBcrypt, bcrypt: strings.TrimPrefix(stored, "bcrypt$")}
	}
	b := s.bcrypt
	if len(b) != 60 || b[0] != '$' || b[1] != '2' || !strings.ContainsRune("aby", rune(b[2])) || b[3] != '$' || b[6] != '$' {
		return Stored{}, fmt.Errorf("%w: not a $2a$/$2b$/$2y$ bcrypt hash, optionally prefixed bcrypt$ or bcrypt_sha256$", ErrUnsupportedHash)
	}
	if _, err := bcrypt.Cost([]byte(b)); err != nil {
		return Stored{}, fmt.Errorf("%w: %v", ErrUnsupportedHash, err)
	}
	return s, nil
}

// comparable reports whether pw can be compared with the hash at all: a
// plain bcrypt hash reads only the first 72 bytes, so a longer password
// never matches it (it would match any password sharing those bytes).
func (s Stored) comparable(pw string) bool {
	return s.format == FormatDjangoBcryptSHA256 || len(pw) <= MaxBytes
}

// input is what bcrypt is given for pw: the password itself, or for
// Django's bcrypt_sha256 the hex of its SHA-256.
func (s Stored) input(pw string) []byte {
	if s.format == FormatDjangoBcryptSHA256 {
		sum := sha256.Sum256([]byte(pw))
		return []byte(hex.EncodeToString(sum[:]))
	}
	return []byte(pw)
}
