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

// Compare reports whether pw (normalised here) matches hash, and whether the
// hash should be replaced because its cost is below the configured one. A
// password over MaxBytes never matches: bcrypt would compare only its first
// 72 bytes.
func (h *Hasher) Compare(hash, pw string) (match, rehash bool) {
	n := Normalize(pw)
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(n))
	if err != nil || len(n) > MaxBytes {
		return false, false
	}
	cost, err := bcrypt.Cost([]byte(hash))
	return true, err == nil && cost < h.cost
}

// CompareDummy spends the time of one Compare against a hash no password
// matches; call it when the user does not exist.
func (h *Hasher) CompareDummy(pw string) {
	_ = bcrypt.CompareHashAndPassword(h.dummy(), []byte(Normalize(pw)))
}
