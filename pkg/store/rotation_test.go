package store_test

import (
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

func TestDecideRotation(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	live := store.Session{
		RefreshJTI: "j2", PrevRefreshJTI: "j1", RotatedAt: now.Add(-5 * time.Second),
		ExpiresAt: now.Add(time.Hour), CredentialVersion: 3,
	}
	with := func(f func(*store.Session)) store.Session { s := live; f(&s); return s }
	tests := []struct {
		name      string
		sess      store.Session
		version   int64
		presented string
		grace     time.Duration
		want      store.RotationDecision
	}{
		{"current token", live, 3, "j2", 10 * time.Second, store.RotateFresh},
		{"current token, no grace", live, 3, "j2", 0, store.RotateFresh},
		{"previous within grace", live, 3, "j1", 10 * time.Second, store.RotateReplay},
		{"previous at the grace's end", live, 3, "j1", 5 * time.Second, store.RotateReplay},
		{"previous after grace", live, 3, "j1", 4 * time.Second, store.RotateReuse},
		{"previous with grace off", live, 3, "j1", 0, store.RotateReuse},
		{"previous, rotating clock ahead", with(func(s *store.Session) { s.RotatedAt = now.Add(time.Second) }), 3, "j1", 10 * time.Second, store.RotateReplay},
		{"an older token", live, 3, "j0", 10 * time.Second, store.RotateReuse},
		{"never rotated, unknown token", with(func(s *store.Session) { s.PrevRefreshJTI = ""; s.RotatedAt = time.Time{} }), 3, "", 10 * time.Second, store.RotateReuse},
		{"revoked", with(func(s *store.Session) { s.RevokedAt = now.Add(-time.Minute) }), 3, "j2", 10 * time.Second, store.RotateDead},
		{"expired now", with(func(s *store.Session) { s.ExpiresAt = now }), 3, "j2", 10 * time.Second, store.RotateDead},
		{"stale credential version", live, 4, "j2", 10 * time.Second, store.RotateDead},
		{"revoked, previous token", with(func(s *store.Session) { s.RevokedAt = now }), 3, "j1", 10 * time.Second, store.RotateDead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.DecideRotation(tt.sess, tt.version, store.Rotation{PresentedJTI: tt.presented, Grace: tt.grace, Now: now})
			if got != tt.want {
				t.Fatalf("DecideRotation = %d, want %d", got, tt.want)
			}
		})
	}
}
