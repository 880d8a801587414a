package password_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/password"
	"golang.org/x/crypto/bcrypt"
)

// withCost relabels a well-formed cost-4 bcrypt hash with another cost,
// which is all the parser and the cost check look at; computing a real
// cost-31 hash would take hours.
func withCost(t *testing.T, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s%02d%s", h[:4], cost, h[6:])
}

func TestCheckImported(t *testing.T) {
	tests := []struct {
		name, stored string
		wantErr      error
	}{
		{"cost 10", withCost(t, 10), nil},
		{"cost 14, the limit", withCost(t, 14), nil},
		{"cost 15", withCost(t, 15), password.ErrCostTooHigh},
		{"cost 31", withCost(t, 31), password.ErrCostTooHigh},
		{"Django bcrypt cost 16", "bcrypt$" + withCost(t, 16), password.ErrCostTooHigh},
		{"Django bcrypt_sha256 cost 31", "bcrypt_sha256$" + withCost(t, 31), password.ErrCostTooHigh},
		{"Django bcrypt_sha256 cost 12", "bcrypt_sha256$" + withCost(t, 12), nil},
		{"unsupported", "md5$x$y", password.ErrUnsupportedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := password.CheckImported(tt.stored)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckImported = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// A stored hash above the maximum cost (imported by an older release) is
// never run: Compare answers "no match" after one dummy compare at the
// configured cost, in one gate slot, instead of holding the slot for
// hours.
func TestCompareSkipsHashesAboveMaxCost(t *testing.T) {
	g := &countingGate{}
	h := password.NewHasher(bcrypt.MinCost, password.WithGate(g))
	if got := h.MaxStoredCost(); got != password.MaxImportedCost {
		t.Fatalf("MaxStoredCost = %d, want %d", got, password.MaxImportedCost)
	}
	for _, stored := range []string{withCost(t, 31), "bcrypt$" + withCost(t, 25), "bcrypt_sha256$" + withCost(t, 31), withCost(t, 20)} {
		type result struct {
			match, rehash bool
			err           error
		}
		done := make(chan result, 1)
		before := g.taken.Load()
		go func() {
			m, r, err := h.Compare(context.Background(), stored, "correct horse")
			done <- result{m, r, err}
		}()
		select {
		case r := <-done:
			if r.match || r.rehash || r.err != nil {
				t.Fatalf("Compare(%.20s…) = %v, %v, %v; want no match", stored, r.match, r.rehash, r.err)
			}
		case <-time.After(time.Minute):
			// A real compare at cost 20 or more takes minutes to hours.
			t.Fatalf("Compare(%.20s…) ran the stored hash's bcrypt", stored)
		}
		if n := g.taken.Load() - before; n != 1 {
			t.Fatalf("Compare took %d gate slots, want 1 (the dummy compare)", n)
		}
	}
}
