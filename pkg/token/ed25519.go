package token

import (
	"crypto/ed25519"
	"encoding/hex"
	"math/big"
)

// p25519 is the field prime 2^255 - 19 of edwards25519.
var p25519 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// smallOrderY are the y coordinates of the eight points of small order on
// edwards25519 (its 8-torsion subgroup): 1 (the identity), p-1 (order 2),
// 0 (order 4) and ±y8 (order 8). ed25519_internal_test.go derives them
// independently.
var smallOrderY = func() []*big.Int {
	y8 := leInt(mustHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"))
	return []*big.Int{
		big.NewInt(1),
		new(big.Int).Sub(p25519, big.NewInt(1)),
		big.NewInt(0),
		y8,
		new(big.Int).Sub(p25519, y8),
	}
}()

// weakEd25519 reports whether pub is an Ed25519 public key no one should
// trust: a non-canonical encoding (y >= p) or a point of small order, for
// which signatures can be forged without the private key. Go's verifier
// accepts both; go-jose refuses them, and so do we. Only y matters: the
// top bit is the sign of x.
func weakEd25519(pub ed25519.PublicKey) bool {
	enc := make([]byte, len(pub))
	copy(enc, pub)
	enc[len(enc)-1] &= 0x7f
	y := leInt(enc)
	if y.Cmp(p25519) >= 0 {
		return true
	}
	for _, s := range smallOrderY {
		if y.Cmp(s) == 0 {
			return true
		}
	}
	return false
}

// leInt decodes a little-endian integer.
func leInt(le []byte) *big.Int {
	be := make([]byte, len(le))
	for i, b := range le {
		be[len(le)-1-i] = b
	}
	return new(big.Int).SetBytes(be)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
