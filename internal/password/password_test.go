package password_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/internal/password"
	"golang.org/x/crypto/bcrypt"
)

func TestPolicy(t *testing.T) {
	p := password.Policy{MinLength: 8}
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"ok", "correct horse", "correct horse", ""},
		{"too short", "short", "", "at least 8 characters"},
		{"code points not bytes", "ééééééé", "", "at least 8 characters"}, // 7 runes, 14 bytes
		{"eight multibyte runes", "éééééééé", "éééééééé", ""},
		{"nfkc folds fullwidth", "ｐａｓｓｗｏｒｄ１", "password1", ""},
		{"nfkc composes", "cafe\u0301 au lait", "café au lait", ""},
		{"exactly 72 bytes", strings.Repeat("a", 72), strings.Repeat("a", 72), ""},
		{"73 bytes refused", strings.Repeat("a", 73), "", "at most 72 bytes"},
		{"multibyte over 72 bytes", strings.Repeat("é", 37), "", "at most 72 bytes"},
		{"invalid utf8", "abcdefgh\xff", "", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Check(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, password.ErrWeak) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrWeak containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Check(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestHasherCompare(t *testing.T) {
	ctx := context.Background()
	h := password.NewHasher(bcrypt.MinCost + 6) // 10: the lowest cost config allows
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash := compare(t, h, hash, "correct horse"); !ok || rehash {
		t.Fatalf("Compare right password = %v, %v", ok, rehash)
	}
	if ok, _ := compare(t, h, hash, "wrong horse"); ok {
		t.Fatal("wrong password matched")
	}
	// The same password typed in fullwidth forms matches after NFKC.
	hash2, _ := h.Hash(ctx, password.Normalize("ｐａｓｓｗｏｒｄ１"))
	if ok, _ := compare(t, h, hash2, "password1"); !ok {
		t.Fatal("NFKC-equivalent password did not match")
	}
}

func TestOver72BytesNeverMatches(t *testing.T) {
	h := password.NewHasher(10)
	base := strings.Repeat("a", 72)
	hash, err := bcrypt.GenerateFromPassword([]byte(base), 10)
	if err != nil {
		t.Fatal(err)
	}
	// bcrypt alone would accept this (it reads only 72 bytes).
	if ok, _ := compare(t, h, string(hash), base+"extra"); ok {
		t.Fatal("a password longer than 72 bytes matched")
	}
}

func TestRehashWhenCostBelowConfigured(t *testing.T) {
	old, _ := bcrypt.GenerateFromPassword([]byte("correct horse"), 10)
	h := password.NewHasher(11)
	if ok, rehash := compare(t, h, string(old), "correct horse"); !ok || !rehash {
		t.Fatalf("Compare = %v, rehash %v; want match and rehash", ok, rehash)
	}
}

func BenchmarkCompareCost12(b *testing.B) {
	ctx := context.Background()
	h := password.NewHasher(12)
	hash, _ := h.Hash(ctx, "correct horse")
	for b.Loop() {
		_, _, _ = h.Compare(ctx, hash, "correct horse")
	}
}

// compare is Compare without a gate, which never fails.
func compare(t testing.TB, h *password.Hasher, stored, pw string) (match, rehash bool) {
	t.Helper()
	match, rehash, err := h.Compare(context.Background(), stored, pw)
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	return match, rehash
}
