package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// A cursor this API issued decodes to the position it names.
func TestCursorRoundTrip(t *testing.T) {
	u := store.User{ID: "3f2a", CreatedAt: time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)}
	got, err := decodeUserCursor(encodeUserCursor(u))
	if err != nil || got.ID != u.ID || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("user cursor: %+v, %v", got, err)
	}
	before, err := decodeAuditCursor(encodeCursor(auditCursor{Before: 42}))
	if err != nil || before != 42 {
		t.Fatalf("audit cursor: %d, %v", before, err)
	}
}

// FuzzDecodeCursor: any client-supplied cursor either decodes to a
// position that encodes back to an equivalent cursor, or is
// ErrInvalidRequest; it never panics.
func FuzzDecodeCursor(f *testing.F) {
	for _, seed := range []string{
		"", "eyJ0IjoxLCJpZCI6ImEifQ", "eyJiIjo3fQ", "eyJ0IjoxfQ", "eyJ4IjoxfQ", "!!", "eyJ0IjoxLCJpZCI6ImEifQ==",
		encodeUserCursor(store.User{ID: "x", CreatedAt: time.Unix(1, 0)}), "bnVsbA", "W10", "eyJ0IjotOTIyMzM3MjAzNjg1NDc3NTgwOCwiaWQiOiJhIn0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := decodeUserCursor(raw)
		switch {
		case err != nil && !errors.Is(err, ErrInvalidRequest):
			t.Fatalf("user cursor %q: %v", raw, err)
		case err == nil && raw != "":
			again, err := decodeUserCursor(encodeUserCursor(store.User{ID: c.ID, CreatedAt: c.CreatedAt}))
			if err != nil || again != c {
				t.Fatalf("user cursor %q: %+v re-encodes to %+v, %v", raw, c, again, err)
			}
		}
		before, err := decodeAuditCursor(raw)
		switch {
		case err != nil && !errors.Is(err, ErrInvalidRequest):
			t.Fatalf("audit cursor %q: %v", raw, err)
		case err == nil && raw != "" && before <= 0:
			t.Fatalf("audit cursor %q decoded to %d", raw, before)
		}
	})
}
