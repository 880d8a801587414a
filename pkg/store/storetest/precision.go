package storetest

import (
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// testTimePrecision checks that times survive a round trip to the
// microsecond, whatever their location.
func testTimePrecision(t *testing.T, s Store) {
	ctx := ctxT(t)
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	times := []struct {
		name string
		at   time.Time
	}{
		{"utc", base()},
		{"other zone", time.Date(2026, 7, 1, 23, 59, 59, 999999000, zone)},
		{"one microsecond past a second", time.Date(2030, 12, 31, 0, 0, 0, 1000, time.UTC)},
	}
	for i, c := range times {
		t.Run(c.name, func(t *testing.T) {
			id := string(rune('a' + i))
			u, err := s.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", PasswordHash: "h", CreatedAt: c.at, UpdatedAt: c.at})
			wantErr(t, "CreateUser", err, nil)
			got, err := s.UserByID(ctx, id)
			wantErr(t, "UserByID", err, nil)
			for _, ts := range []time.Time{u.CreatedAt, got.CreatedAt, got.UpdatedAt} {
				if !ts.Equal(c.at) {
					t.Errorf("user time %v, want %v", ts, c.at)
				}
			}

			newSession(t, s, id, id, c.at, time.Hour)
			rotate(t, s, rotation(id, jti(id, 0), jti(id, 1), c.at.Add(time.Microsecond), 0))
			sess, err := s.Session(ctx, id)
			wantErr(t, "Session", err, nil)
			for name, pair := range map[string][2]time.Time{
				"CreatedAt":       {sess.CreatedAt, c.at},
				"RotatedAt":       {sess.RotatedAt, c.at.Add(time.Microsecond)},
				"RefreshIssuedAt": {sess.RefreshIssuedAt, c.at.Add(time.Microsecond)},
				"ExpiresAt":       {sess.ExpiresAt, c.at.Add(time.Microsecond + refreshTTL)},
			} {
				if !pair[0].Equal(pair[1]) {
					t.Errorf("session %s = %v, want %v", name, pair[0], pair[1])
				}
			}

			k := signingKey(id, c.at)
			wantErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, k), nil)
			keys, err := s.SigningKeys(ctx, c.at)
			wantErr(t, "SigningKeys", err, nil)
			for _, got := range keys {
				if got.ID == id && (!got.CreatedAt.Equal(c.at) || !got.ActivatesAt.Equal(k.ActivatesAt)) {
					t.Errorf("key times %v/%v, want %v/%v", got.CreatedAt, got.ActivatesAt, c.at, k.ActivatesAt)
				}
			}
		})
	}
}
