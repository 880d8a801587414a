package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

func testCreateAndReadSession(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	iat := base().Add(time.Minute)
	want := store.Session{
		ID: "s1", UserID: "u1", ClientID: "web", UserAgent: "ua-login", IP: "192.0.2.1",
		RefreshJTI: "s1-j0", RefreshIssuedAt: iat, ExpiresAt: iat.Add(24 * time.Hour),
		CreatedAt: iat, LastRefreshedAt: iat,
		// No AMR given; AuthTime defaults to the login time.
		AMR: []string{}, AuthTime: iat,
	}
	got := newSession(t, s, "s1", "u1", iat, 24*time.Hour)
	same(t, "CreateSession result", got, want)
	read, err := s.Session(ctx, "s1")
	wantErr(t, "Session", err, nil)
	same(t, "Session", read, want)
}

func testSessionErrors(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newSession(t, s, "s1", "u1", base(), time.Hour)
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown session", func() error { _, err := s.Session(ctx, "nope"); return err }, store.ErrNotFound},
		{"duplicate id", func() error {
			_, err := s.CreateSession(ctx, store.NewSession{ID: "s1", UserID: "u1", RefreshJTI: "x",
				RefreshIssuedAt: base(), ExpiresAt: base().Add(time.Hour)})
			return err
		}, store.ErrAlreadyExists},
		{"unknown user", func() error {
			_, err := s.CreateSession(ctx, store.NewSession{ID: "s2", UserID: "nobody", RefreshJTI: "x",
				RefreshIssuedAt: base(), ExpiresAt: base().Add(time.Hour)})
			return err
		}, store.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, c.call(), c.want) })
	}
}

func testListSessions(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	now := base().Add(time.Hour)
	// Created out of order to catch an implementation that relies on
	// insertion order.
	newSession(t, s, "b", "u1", base().Add(2*time.Minute), 24*time.Hour)
	newSession(t, s, "a", "u1", base().Add(1*time.Minute), 24*time.Hour)
	newSession(t, s, "c", "u1", base().Add(3*time.Minute), 24*time.Hour)
	newSession(t, s, "revoked", "u1", base().Add(4*time.Minute), 24*time.Hour)
	newSession(t, s, "expired", "u1", base().Add(5*time.Minute), 10*time.Minute)
	newSession(t, s, "expires-now", "u1", base(), time.Hour)
	newSession(t, s, "other-user", "u2", base().Add(6*time.Minute), 24*time.Hour)
	wantErr(t, "RevokeSession", s.RevokeSession(ctx, "u1", "revoked", base().Add(30*time.Minute)), nil)

	got, err := s.ListSessions(ctx, "u1", now)
	wantErr(t, "ListSessions", err, nil)
	if want := []string{"c", "b", "a"}; !slices.Equal(ids(got), want) {
		t.Fatalf("ListSessions ids = %v, want %v (newest first, live only)", ids(got), want)
	}
	read, err := s.Session(ctx, "c")
	wantErr(t, "Session", err, nil)
	same(t, "listed session", got[0], read)

	none, err := s.ListSessions(ctx, "nobody", now)
	wantErr(t, "ListSessions(nobody)", err, nil)
	if len(none) != 0 {
		t.Errorf("ListSessions(nobody) = %v, want none", ids(none))
	}
}

func testRevokeSession(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	newSession(t, s, "s1", "u1", base(), time.Hour)
	newSession(t, s, "s2", "u2", base(), time.Hour)
	first, second := base().Add(time.Minute), base().Add(2*time.Minute)
	cases := []struct {
		name          string
		user, session string
		at            time.Time
		want          error
		wantRevokedAt time.Time // of s1 afterwards
	}{
		{"own session", "u1", "s1", first, nil, first},
		{"again keeps first time", "u1", "s1", second, nil, first},
		{"other user's session", "u1", "s2", first, store.ErrNotFound, first},
		{"unknown session", "u1", "nope", first, store.ErrNotFound, first},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, "RevokeSession", s.RevokeSession(ctx, c.user, c.session, c.at), c.want)
			s1, err := s.Session(ctx, "s1")
			wantErr(t, "Session(s1)", err, nil)
			same(t, "s1.RevokedAt", s1.RevokedAt, c.wantRevokedAt)
			s2, err := s.Session(ctx, "s2")
			wantErr(t, "Session(s2)", err, nil)
			if !s2.RevokedAt.IsZero() {
				t.Errorf("s2 revoked at %v: another user's session was touched", s2.RevokedAt)
			}
		})
	}
}

func testRevokeUserSessions(t *testing.T, s Store) {
	at := base().Add(time.Hour)
	cases := []struct {
		name   string
		except string
		want   []string
		live   []string // u1's sessions live afterwards
	}{
		{"all", "", []string{"a", "b", "c"}, []string{}},
		{"except current", "b", []string{"a", "c"}, []string{"b"}},
		{"except unknown", "zzz", []string{"a", "b", "c"}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := ctxT(t)
			// Each case needs its own sessions: prefix them by case.
			p := c.name + "/"
			newUser(t, s, p+"u1")
			newUser(t, s, p+"u2")
			for i, id := range []string{"a", "b", "c"} {
				newSession(t, s, p+id, p+"u1", base().Add(time.Duration(i)*time.Minute), 24*time.Hour)
			}
			newSession(t, s, p+"already", p+"u1", base(), 24*time.Hour)
			newSession(t, s, p+"expired", p+"u1", base(), time.Minute)
			newSession(t, s, p+"other", p+"u2", base(), 24*time.Hour)
			wantErr(t, "RevokeSession", s.RevokeSession(ctx, p+"u1", p+"already", base().Add(time.Minute)), nil)

			except := ""
			if c.except != "" {
				except = p + c.except
			}
			got, err := s.RevokeUserSessions(ctx, p+"u1", except, at)
			wantErr(t, "RevokeUserSessions", err, nil)
			slices.Sort(got)
			want := prefixed(p, c.want)
			if !slices.Equal(got, want) {
				t.Errorf("revoked %v, want %v", got, want)
			}
			for _, id := range want {
				sess, err := s.Session(ctx, id)
				wantErr(t, "Session", err, nil)
				same(t, id+" RevokedAt", sess.RevokedAt, at)
			}
			live, err := s.ListSessions(ctx, p+"u1", at)
			wantErr(t, "ListSessions", err, nil)
			if !slices.Equal(ids(live), prefixed(p, c.live)) {
				t.Errorf("live afterwards %v, want %v", ids(live), prefixed(p, c.live))
			}
			other, err := s.Session(ctx, p+"other")
			wantErr(t, "Session(other)", err, nil)
			if !other.RevokedAt.IsZero() {
				t.Errorf("another user's session was revoked")
			}
			already, err := s.Session(ctx, p+"already")
			wantErr(t, "Session(already)", err, nil)
			same(t, "already revoked keeps its time", already.RevokedAt, base().Add(time.Minute))

			again, err := s.RevokeUserSessions(ctx, p+"u1", except, at.Add(time.Minute))
			wantErr(t, "RevokeUserSessions again", err, nil)
			if len(again) != 0 {
				t.Errorf("second RevokeUserSessions revoked %v, want none", again)
			}
		})
	}
}

func prefixed(p string, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = p + id
	}
	return out
}
