package auth

import (
	"strings"
	"testing"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestOneTimeTokenFormat(t *testing.T) {
	raw, hash := newOneTimeToken()
	if len(raw) != 43 || strings.ContainsAny(raw, "+/=") {
		t.Fatalf("token %q: want 43 base64url characters", raw)
	}
	got, ok := hashOneTimeToken(raw)
	if !ok || string(got) != string(hash) {
		t.Fatal("a fresh token does not hash to what is stored")
	}
	if again, _ := newOneTimeToken(); again == raw {
		t.Fatal("two tokens are equal")
	}
	// 43 characters carry 258 bits for 256: the last one's 2 low bits are
	// zero. Setting one gives another spelling of the same bytes, which the
	// strict decoder refuses, so each token has exactly one form.
	i := strings.IndexByte(alphabet, raw[42])
	nonCanonical := raw[:42] + string(alphabet[i|1])
	for _, bad := range []string{"", raw[:42], raw + "A", raw[:42] + "=", raw[:10] + "+" + raw[11:], nonCanonical} {
		if _, ok := hashOneTimeToken(bad); ok {
			t.Errorf("hashOneTimeToken accepted %q", bad)
		}
	}
}
