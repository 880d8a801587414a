package password

import (
	"crypto/rand"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Hasher hashes and compares passwords with bcrypt at a fixed cost.
type Hasher struct {
	cost int
	// dummy is a hash at the same cost, compared against when a user does
	// not exist so that an unknown email costs as much as a wrong password.
	dummy func() []byte
}

// NewHasher returns a Hasher for cost. The dummy hash is computed in the
// background so start-up does not wait one bcrypt for it.
func NewHasher(cost int) *Hasher {
	h := &Hasher{cost: cost}
	h.dummy = sync.OnceValue(func() []byte {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		hash, err := bcrypt.GenerateFromPassword([]byte(fmt.Sprintf("%x", secret)), cost)
		if err != nil {
			// Only an invalid cost fails, and config bounds the cost.
			panic(fmt.Sprintf("password: dummy hash: %v", err))
		}
		return hash
	})
	go h.dummy()
	return h
}

// Cost returns the configured bcrypt cost.
func (h *Hasher) Cost() int { return h.cost }

// Hash hashes a normalised password.
func (h *Hasher) Hash(pw string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), h.cost)
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return string(hash), nil
}

// Compare reports whether pw matches the stored hash, and whether the hash
// should be replaced: its cost is below the configured one, it is in an
// imported format (see ParseStored), or it matched the un-normalised
// password (hashed by another system before NFKC applied).
//
// A password over MaxBytes never matches a plain bcrypt hash: bcrypt would
// compare only its first 72 bytes. Django's bcrypt_sha256 pre-hashes, so
// there any length is compared in full.
func (h *Hasher) Compare(stored, pw string) (match, rehash bool) {
	s, err := ParseStored(stored)
	if err != nil {
		return false, false
	}
	n := Normalize(pw)
	raw := false
	if !s.matches(n) {
		// Imported users typed their password before anyone normalised
		// it; only a password NFKC changes can need the second compare.
		if n == pw || !s.matches(pw) {
			return false, false
		}
		raw = true
	}
	cost, err := bcrypt.Cost([]byte(s.bcrypt))
	return true, raw || s.format != FormatBcrypt || err != nil || cost < h.cost
}

// CompareDummy spends the time of one Compare against a hash no password
// matches; call it when the user does not exist.
func (h *Hasher) CompareDummy(pw string) {
	_ = bcrypt.CompareHashAndPassword(h.dummy(), []byte(Normalize(pw)))
}
