package token

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"math/big"
	"testing"
)

// TestSmallOrderY derives the small-order check independently: the
// birational map u = (1+y)/(1-y) to Curve25519 preserves a point's order,
// and X25519 clamps every scalar to a multiple of the cofactor 8, so a
// point of order 1, 2, 4 or 8 yields the all-zero output crypto/ecdh
// refuses. Every y in smallOrderY must be of small order this way, and no
// y of a real key.
func TestSmallOrderY(t *testing.T) {
	probe, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	lowOrder := func(y *big.Int) bool {
		den := new(big.Int).Sub(big.NewInt(1), y)
		den.Mod(den, p25519)
		if den.Sign() == 0 {
			return true // the identity, u at infinity
		}
		u := new(big.Int).Add(big.NewInt(1), y)
		u.Mul(u, new(big.Int).ModInverse(den, p25519))
		u.Mod(u, p25519)
		be := u.FillBytes(make([]byte, 32))
		le := make([]byte, 32)
		for i := range be {
			le[31-i] = be[i]
		}
		peer, err := ecdh.X25519().NewPublicKey(le)
		if err != nil {
			t.Fatal(err)
		}
		_, err = probe.ECDH(peer)
		return err != nil
	}
	for _, y := range smallOrderY {
		if !lowOrder(y) {
			t.Errorf("y = %x is not of small order", y)
		}
	}
	for range 200 {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		if weakEd25519(pub) {
			t.Fatalf("real key %x flagged weak", []byte(pub))
		}
		enc := append([]byte(nil), pub...)
		enc[31] &= 0x7f
		if lowOrder(leInt(enc)) {
			t.Fatalf("real key %x of small order", []byte(pub))
		}
	}
}
