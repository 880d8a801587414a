package password

import (
	"fmt"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The boundary of the costs Compare runs, without running them: up to
// MaxImportedCost, or up to the configured cost when that is higher (the
// hashes authd writes itself). Hashers are built bare so that no dummy
// hash is computed at cost 16.
func TestTooCostly(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		configured, stored int
		tooCostly          bool
	}{
		{10, 10, false},
		{10, 14, false},
		{10, 15, true},
		{12, 31, true},
		{15, 15, false},
		{15, 16, true},
		{16, 16, false},
		{16, 17, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("configured %d stored %d", tt.configured, tt.stored), func(t *testing.T) {
			s, err := ParseStored(fmt.Sprintf("%s%02d%s", h[:4], tt.stored, h[6:]))
			if err != nil {
				t.Fatal(err)
			}
			if got := (&Hasher{cost: tt.configured}).tooCostly(s); got != tt.tooCostly {
				t.Fatalf("tooCostly = %v, want %v", got, tt.tooCostly)
			}
		})
	}
}
