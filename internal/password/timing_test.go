package password_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authd/authd/internal/password"
	"golang.org/x/crypto/bcrypt"
)

// A wrong password costs as many bcrypt comparisons against an account's
// hash, whatever its format, as CompareDummy spends for the same input
// when there is no account: one per form of the password a login tries.
func TestCompareAndDummyRunTheSameBcrypts(t *testing.T) {
	ctx := context.Background()
	var ops atomic.Int64
	h := password.NewHasher(10, password.WithObserver(func() { ops.Add(1) }))
	native, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := bcrypt.GenerateFromPassword([]byte("correct horse"), 10)
	hashes := map[string]string{
		"native":        native,
		"django bcrypt": "bcrypt$" + string(plain),
		"django sha256": djangoSHA256(t, "correct horse"),
	}
	tests := []struct {
		name string
		pw   string
		want int64 // bcrypt comparisons
	}{
		{"wrong password", "wrong horse battery", 1},
		{"over 72 bytes", strings.Repeat("x", 80), 1},
		{"NFKC changes it", "ｗｒｏｎｇ ｈｏｒｓｅ", 2},
		{"NFKC changes it, raw form over 72 bytes", strings.Repeat("ｘ", 30), 2},
		{"NFKC changes it, both forms over 72 bytes", strings.Repeat("ｘ", 80), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops.Store(0)
			if err := h.CompareDummy(ctx, tt.pw); err != nil {
				t.Fatal(err)
			}
			if got := ops.Load(); got != tt.want {
				t.Errorf("CompareDummy ran %d bcrypt comparisons, want %d", got, tt.want)
			}
			for name, stored := range hashes {
				ops.Store(0)
				if ok, _ := compare(t, h, stored, tt.pw); ok {
					t.Fatalf("%s: wrong password matched", name)
				}
				if got := ops.Load(); got != tt.want {
					t.Errorf("%s: Compare ran %d bcrypt comparisons, want %d like CompareDummy", name, got, tt.want)
				}
			}
		})
	}
}

// The forms a login tries still match what they should: the NFKC form
// first, the raw form of an imported password second (asking for a
// rehash), and nothing over 72 bytes against a plain bcrypt hash.
func TestCompareForms(t *testing.T) {
	raw := "ｐａｓｓｗｏｒｄ１ ｈｏｒｓｅ" // hashed by a system that did not normalise
	rawHash, _ := bcrypt.GenerateFromPassword([]byte(raw), 10)
	h := password.NewHasher(10)
	if ok, rehash := compare(t, h, string(rawHash), raw); !ok || !rehash {
		t.Fatalf("raw form: match %v, rehash %v; want both", ok, rehash)
	}
	long := strings.Repeat("a", 72)
	longHash, _ := bcrypt.GenerateFromPassword([]byte(long), 10)
	if ok, _ := compare(t, h, string(longHash), long+"ｘ"); ok {
		t.Fatal("a password over 72 bytes matched the hash of its first 72")
	}
}
