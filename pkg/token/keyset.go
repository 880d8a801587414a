package token

import (
	"context"
	"fmt"
)

// KeySet gives a verifier the key a token names.
//
// An implementation that cannot answer (database or network down) returns
// an error matching ErrKeySetUnavailable; Verify then reports that error,
// not an invalid token, so a caller can answer 503 rather than 401. Any
// other error means the key is not known. Errors are returned to Verify's
// caller and may be logged: they must not carry secrets.
type KeySet interface {
	// VerificationKey returns the key with id kid. kid may be empty: a
	// set with exactly one key returns it, otherwise ErrUnknownKey.
	VerificationKey(ctx context.Context, kid string) (*Key, error)
}

// StaticKeySet is a fixed set of verification keys, looked up by a linear
// scan: for the few keys a rotation keeps, the scan is negligible next to
// the signature check (BenchmarkStaticKeySet), so a map would buy nothing
// measurable. NewStaticKeySet builds a checked one.
type StaticKeySet []*Key

var _ KeySet = StaticKeySet(nil)

// NewStaticKeySet returns a StaticKeySet of keys after checking each: not
// nil, an id, a supported algorithm with a fitting public key, and no id
// used twice. The slice is copied.
func NewStaticKeySet(keys ...*Key) (StaticKeySet, error) {
	var problems []error
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		switch {
		case k == nil:
			problems = append(problems, fmt.Errorf("key %d is nil", i))
		case k.ID == "":
			problems = append(problems, fmt.Errorf("key %d has no id", i))
		case seen[k.ID]:
			problems = append(problems, fmt.Errorf("key %d: id %s used twice", i, k.ID))
		default:
			seen[k.ID] = true
			if err := checkPublic(k.Algorithm, k.Public); err != nil {
				problems = append(problems, fmt.Errorf("key %s: %w", k.ID, err))
			}
		}
	}
	if len(problems) > 0 {
		return nil, &configError{what: "token: invalid key set", problems: problems}
	}
	return append(StaticKeySet(nil), keys...), nil
}

// VerificationKey implements KeySet. An unknown kid matches ErrUnknownKey.
func (s StaticKeySet) VerificationKey(_ context.Context, kid string) (*Key, error) {
	if kid == "" {
		if len(s) == 1 && s[0] != nil {
			return s[0], nil
		}
		return nil, ErrUnknownKey
	}
	for _, k := range s {
		if k != nil && k.ID == kid {
			return k, nil
		}
	}
	return nil, ErrUnknownKey
}
