package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// credentialChange is one of the calls that must end every session
// verified before it, applied to user u1 as read, keeping session keep
// where the call keeps one.
type credentialChange struct {
	name string
	// keeps says the change carries the caller's session forward.
	keeps  bool
	change func(ctx context.Context, s Store, read store.User, keep string) error
}

func credentialChanges() []credentialChange {
	return []credentialChange{
		{"password reset", false, func(ctx context.Context, s Store, _ store.User, _ string) error {
			return s.UpdatePasswordHash(ctx, "u1", "reset-hash")
		}},
		{"password change", true, func(ctx context.Context, s Store, read store.User, keep string) error {
			return s.ChangePasswordHash(ctx, store.PasswordChange{UserID: "u1", Hash: "changed-hash",
				Version: read.CredentialVersion, KeepSessionID: keep})
		}},
		{"disable", false, func(ctx context.Context, s Store, _ store.User, _ string) error {
			return s.SetUserDisabled(ctx, "u1", true)
		}},
		{"sign-out everywhere", false, func(ctx context.Context, s Store, _ store.User, _ string) error {
			_, err := s.RevokeUserSessions(ctx, "u1", "", base())
			return err
		}},
		{"sign-out of the others", true, func(ctx context.Context, s Store, _ store.User, keep string) error {
			_, err := s.RevokeUserSessions(ctx, "u1", keep, base())
			return err
		}},
	}
}

// loginSession is what a login creates for a user it read.
func loginSession(id string, u store.User) store.NewSession {
	return store.NewSession{ID: id, UserID: u.ID, RefreshJTI: id + "-j0", RefreshIssuedAt: base(),
		ExpiresAt: base().Add(time.Hour), CredentialVersion: u.CredentialVersion}
}

// rotateCurrent rotates session id from its current jti at base()+1m.
func rotateCurrent(ctx context.Context, s Store, id string) error {
	sess, err := s.Session(ctx, id)
	if err != nil {
		return err
	}
	now := base().Add(time.Minute)
	_, err = s.RotateRefresh(ctx, store.Rotation{SessionID: id, PresentedJTI: sess.RefreshJTI,
		NewJTI: sess.RefreshJTI + "-next", NewIssuedAt: now, NewExpiresAt: now.Add(time.Hour),
		Grace: time.Minute, Now: now})
	return err
}

// testCredentialVersion pins which calls move a user's credential version:
// a new password, disabling, ending every session; not a rehash of the
// same password, not re-enabling, not a refused call.
func testCredentialVersion(t *testing.T, s Store) {
	ctx := ctxT(t)
	if u := newUser(t, s, "u1"); u.CredentialVersion != 0 {
		t.Fatalf("new user's CredentialVersion = %d, want 0", u.CredentialVersion)
	}
	version := func() store.User {
		t.Helper()
		u, err := s.UserByID(ctx, "u1")
		wantErr(t, "UserByID", err, nil)
		return u
	}
	steps := []struct {
		name     string
		call     func(v int64) error
		want     error
		bump     int64
		wantHash string // "" keeps the previous hash
	}{
		{"reset", func(int64) error { return s.UpdatePasswordHash(ctx, "u1", "h1") }, nil, 1, "h1"},
		{"rehash at the current version", func(v int64) error { return s.RehashPassword(ctx, "u1", "h1-rehashed", v) }, nil, 0, "h1-rehashed"},
		{"rehash at a stale version", func(v int64) error { return s.RehashPassword(ctx, "u1", "stale", v-1) }, store.ErrCredentialsChanged, 0, ""},
		{"change at the current version", func(v int64) error {
			return s.ChangePasswordHash(ctx, store.PasswordChange{UserID: "u1", Hash: "h2", Version: v})
		}, nil, 1, "h2"},
		{"change at a stale version", func(v int64) error {
			return s.ChangePasswordHash(ctx, store.PasswordChange{UserID: "u1", Hash: "stale", Version: v - 1})
		}, store.ErrCredentialsChanged, 0, ""},
		{"disable", func(int64) error { return s.SetUserDisabled(ctx, "u1", true) }, nil, 1, ""},
		{"enable", func(int64) error { return s.SetUserDisabled(ctx, "u1", false) }, nil, 0, ""},
		{"sign-out everywhere", func(int64) error { _, err := s.RevokeUserSessions(ctx, "u1", "", base()); return err }, nil, 1, ""},
		{"sign-out of the others", func(int64) error { _, err := s.RevokeUserSessions(ctx, "u1", "x", base()); return err }, nil, 1, ""},
		{"role grant", func(int64) error { return s.GrantRole(ctx, "u1", "admin") }, nil, 0, ""},
	}
	for _, st := range steps {
		before := version()
		wantErr(t, st.name, st.call(before.CredentialVersion), st.want)
		after := version()
		if got := after.CredentialVersion - before.CredentialVersion; got != st.bump {
			t.Errorf("%s: CredentialVersion moved by %d, want %d", st.name, got, st.bump)
		}
		wantHash := st.wantHash
		if wantHash == "" {
			wantHash = before.PasswordHash
		}
		if after.PasswordHash != wantHash {
			t.Errorf("%s: PasswordHash = %q, want %q", st.name, after.PasswordHash, wantHash)
		}
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"change", s.ChangePasswordHash(ctx, store.PasswordChange{UserID: "nobody", Hash: "h"})},
		{"rehash", s.RehashPassword(ctx, "nobody", "h", 0)},
	} {
		wantErr(t, c.name+" of an unknown user", c.err, store.ErrNotFound)
	}
}

// testCreateSessionAfterCredentialChange is the login race made
// deterministic: a login reads the user (and verifies the password
// against that read), a credential change completes, then the login
// creates its session with the version it read. The store must refuse it,
// and create nothing.
func testCreateSessionAfterCredentialChange(t *testing.T, s Store) {
	newUser(t, s, "u1")
	for i, c := range credentialChanges() {
		t.Run(c.name, func(t *testing.T) {
			ctx := ctxT(t)
			read := reenabled(ctx, t, s, "u1")
			// Unchanged, the version read is good.
			ok, err := s.CreateSession(ctx, loginSession(fmt.Sprintf("ok-%d", i), read))
			wantErr(t, "CreateSession at the current version", err, nil)
			if ok.CredentialVersion != read.CredentialVersion {
				t.Errorf("session CredentialVersion = %d, want %d", ok.CredentialVersion, read.CredentialVersion)
			}

			wantErr(t, c.name, c.change(ctx, s, read, ok.ID), nil)

			id := fmt.Sprintf("late-%d", i)
			_, err = s.CreateSession(ctx, loginSession(id, read))
			wantErr(t, "CreateSession after "+c.name, err, store.ErrCredentialsChanged)
			if _, err := s.Session(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the refused session exists: %v", err)
			}
			// A login that reads the user afresh gets in (refusing a disabled
			// user is the caller's job).
			now, err := s.UserByID(ctx, "u1")
			wantErr(t, "UserByID", err, nil)
			_, err = s.CreateSession(ctx, loginSession(id+"-fresh", now))
			wantErr(t, "CreateSession at the new version", err, nil)
		})
	}
}

// reenabled enables the user id again, as an earlier case may have
// disabled it, and reads it.
func reenabled(ctx context.Context, t *testing.T, s Store, id string) store.User {
	t.Helper()
	wantErr(t, "re-enable", s.SetUserDisabled(ctx, id, false), nil)
	u, err := s.UserByID(ctx, id)
	wantErr(t, "UserByID", err, nil)
	return u
}

// testRotateAfterCredentialChange: a session created before a credential
// change no longer rotates (even within the grace window), unless the
// change carried it forward (the caller's session of a password change or
// of a sign-out of the others).
func testRotateAfterCredentialChange(t *testing.T, s Store) {
	newUser(t, s, "u1")
	for i, c := range credentialChanges() {
		t.Run(c.name, func(t *testing.T) {
			ctx := ctxT(t)
			read := reenabled(ctx, t, s, "u1")
			other := fmt.Sprintf("other-%d", i)
			rotated := fmt.Sprintf("rotated-%d", i)
			keep := fmt.Sprintf("keep-%d", i)
			for _, id := range []string{other, rotated, keep} {
				_, err := s.CreateSession(ctx, loginSession(id, read))
				wantErr(t, "CreateSession "+id, err, nil)
			}
			// One rotation before the change, so the previous jti is in
			// its grace window afterwards.
			wantErr(t, "rotate before", rotateCurrent(ctx, s, rotated), nil)

			wantErr(t, c.name, c.change(ctx, s, read, keep), nil)

			wantErr(t, "rotate another session", rotateCurrent(ctx, s, other), store.ErrSessionRevoked)
			listed, err := s.ListSessions(ctx, "u1", base())
			wantErr(t, "ListSessions", err, nil)
			for _, sess := range listed {
				if sess.ID == other || sess.ID == rotated || (sess.ID == keep && !c.keeps) {
					t.Errorf("ListSessions after %s lists %s, which can no longer rotate", c.name, sess.ID)
				}
			}
			now := base().Add(time.Minute)
			_, err = s.RotateRefresh(ctx, store.Rotation{SessionID: rotated, PresentedJTI: rotated + "-j0",
				NewJTI: "x", NewIssuedAt: now, NewExpiresAt: now.Add(time.Hour), Grace: time.Hour, Now: now})
			wantErr(t, "replay within grace", err, store.ErrSessionRevoked)
			wantKeep := store.ErrSessionRevoked
			if c.keeps {
				wantKeep = nil
			}
			wantErr(t, "rotate the caller's session", rotateCurrent(ctx, s, keep), wantKeep)
		})
	}
}

// testConcurrentLoginsAndReset races logins that verified the old
// password against a reset: whichever order the backend serializes them
// in, no session verified at the old version is usable afterwards.
func testConcurrentLoginsAndReset(t *testing.T, s Store) {
	const logins = 16
	ctx := ctxT(t)
	newUser(t, s, "u1")
	read, err := s.UserByID(ctx, "u1")
	wantErr(t, "UserByID", err, nil)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, logins)
	for i := range logins {
		wg.Go(func() {
			<-start
			_, errs[i] = s.CreateSession(ctx, loginSession(fmt.Sprintf("s%d", i), read))
		})
	}
	var resetErr error
	wg.Go(func() {
		<-start
		resetErr = s.UpdatePasswordHash(ctx, "u1", "reset-hash")
	})
	close(start)
	wg.Wait()
	wantErr(t, "reset", resetErr, nil)
	for i, err := range errs {
		id := fmt.Sprintf("s%d", i)
		switch {
		case err == nil:
			// Created before the reset: it must not rotate after it.
			wantErr(t, "rotate "+id, rotateCurrent(ctx, s, id), store.ErrSessionRevoked)
		case errors.Is(err, store.ErrCredentialsChanged):
		default:
			t.Errorf("CreateSession %s: %v", id, err)
		}
	}
}
