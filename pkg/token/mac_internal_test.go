package token

import (
	"encoding/hex"
	"testing"
)

// The derivation is pinned: changing it would invalidate every refresh
// token in circulation at the next deploy. The expected value was computed
// independently (RFC 5869 HKDF-SHA-256 written out with HMAC in Python).
func TestDeriveMACKeyKnownAnswer(t *testing.T) {
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(i)
	}
	k, err := DeriveMACKey(master, "authd refresh-token HS256 v1", "r.kid-1")
	if err != nil {
		t.Fatal(err)
	}
	const want = "96a4bd16f47f6547ff902ffcde913c8f08104c322f8dd991b5f5994f9587950c"
	if got := hex.EncodeToString(k.secret); got != want {
		t.Fatalf("derived secret %s, want %s", got, want)
	}
	if k.ID != "r.kid-1" {
		t.Fatalf("id %q", k.ID)
	}
}
