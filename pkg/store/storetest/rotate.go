package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// refreshTTL is the lifetime of every refresh token in these cases.
const refreshTTL = 30 * 24 * time.Hour

// rotation presents `presented` for session sid at now, asking for newJTI.
func rotation(sid, presented, newJTI string, now time.Time, grace time.Duration) store.Rotation {
	return store.Rotation{
		SessionID: sid, PresentedJTI: presented, NewJTI: newJTI,
		NewIssuedAt: now, NewExpiresAt: now.Add(refreshTTL),
		Grace: grace, Now: now,
		UserAgent: "ua-" + newJTI, IP: "198.51.100.7",
	}
}

// rotate performs a rotation that must succeed without replay.
func rotate(t *testing.T, s Store, r store.Rotation) store.RotationResult {
	t.Helper()
	res, err := s.RotateRefresh(ctxT(t), r)
	if err != nil {
		t.Fatalf("RotateRefresh(%s -> %s): %v", r.PresentedJTI, r.NewJTI, err)
	}
	if res.Replayed || res.Session.RefreshJTI != r.NewJTI {
		t.Fatalf("RotateRefresh(%s -> %s): replayed=%v jti=%s, want a rotation", r.PresentedJTI, r.NewJTI, res.Replayed, res.Session.RefreshJTI)
	}
	return res
}

func testRotateRefresh(t *testing.T, s Store) {
	ctx := ctxT(t)
	user := newUser(t, s, "u1", "viewer", "admin")
	// Every case logs in at base(): the user the rotation returns is the
	// one stored after that login.
	user.LastLoginAt = base()
	t1 := base().Add(time.Minute) // time of the setup rotation j0 -> j1
	const grace = 10 * time.Second
	cases := []struct {
		name        string
		rotated     bool // j0 -> j1 at t1 before the call
		revoked     bool // session revoked before the call
		sid         string
		presented   int // jti index presented; -1: a jti never issued
		at          time.Time
		grace       time.Duration
		wantErr     error
		wantReplay  bool
		wantCurrent int // current jti index afterwards
		wantRevoked bool
	}{
		{name: "current rotates", presented: 0, at: t1, wantCurrent: 5},
		{name: "current rotates with grace", presented: 0, at: t1, grace: grace, wantCurrent: 5},
		{name: "current after a rotation", rotated: true, presented: 1, at: t1.Add(time.Hour), grace: grace, wantCurrent: 5},
		{name: "previous within grace", rotated: true, presented: 0, at: t1.Add(5 * time.Second), grace: grace, wantReplay: true, wantCurrent: 1},
		{name: "previous at grace edge", rotated: true, presented: 0, at: t1.Add(grace), grace: grace, wantReplay: true, wantCurrent: 1},
		{name: "previous just after grace", rotated: true, presented: 0, at: t1.Add(grace + time.Microsecond), grace: grace, wantErr: store.ErrRefreshReused, wantCurrent: 1, wantRevoked: true},
		{name: "previous with zero grace", rotated: true, presented: 0, at: t1.Add(time.Second), wantErr: store.ErrRefreshReused, wantCurrent: 1, wantRevoked: true},
		{name: "unknown jti", presented: -1, at: t1, grace: grace, wantErr: store.ErrRefreshReused, wantCurrent: 0, wantRevoked: true},
		{name: "unknown jti after rotation", rotated: true, presented: -1, at: t1.Add(time.Second), grace: grace, wantErr: store.ErrRefreshReused, wantCurrent: 1, wantRevoked: true},
		{name: "expired", presented: 0, at: base().Add(refreshTTL), grace: grace, wantErr: store.ErrSessionRevoked, wantCurrent: 0},
		{name: "expired after rotation", rotated: true, presented: 1, at: t1.Add(refreshTTL), grace: grace, wantErr: store.ErrSessionRevoked, wantCurrent: 1},
		{name: "revoked", revoked: true, presented: 0, at: t1, grace: grace, wantErr: store.ErrSessionRevoked, wantCurrent: 0, wantRevoked: true},
		{name: "revoked previous within grace", rotated: true, revoked: true, presented: 0, at: t1.Add(time.Second), grace: grace, wantErr: store.ErrSessionRevoked, wantCurrent: 1, wantRevoked: true},
		{name: "unknown session", sid: "no-such-session", presented: 0, at: t1, wantErr: store.ErrNotFound},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sid := "s" + string(rune('a'+i))
			newSession(t, s, sid, "u1", base(), refreshTTL)
			if c.rotated {
				rotate(t, s, rotation(sid, jti(sid, 0), jti(sid, 1), t1, 0))
			}
			if c.revoked {
				wantErr(t, "RevokeSession", s.RevokeSession(ctx, "u1", sid, t1.Add(-time.Second)), nil)
			}
			before, err := s.Session(ctx, sid)
			wantErr(t, "Session before", err, nil)

			target, presented := sid, jti(sid, c.presented)
			if c.sid != "" {
				target = c.sid
			}
			if c.presented < 0 {
				presented = "never-issued"
			}
			r := rotation(target, presented, jti(sid, 5), c.at, c.grace)
			res, err := s.RotateRefresh(ctx, r)
			wantErr(t, "RotateRefresh", err, c.wantErr)
			if c.wantErr == store.ErrNotFound {
				return
			}

			after, err := s.Session(ctx, sid)
			wantErr(t, "Session after", err, nil)
			if after.RefreshJTI != jti(sid, c.wantCurrent) {
				t.Errorf("current jti afterwards = %s, want %s", after.RefreshJTI, jti(sid, c.wantCurrent))
			}
			if got := !after.RevokedAt.IsZero(); got != c.wantRevoked {
				t.Errorf("revoked afterwards = %v (at %v), want %v", got, after.RevokedAt, c.wantRevoked)
			}
			if c.wantRevoked && !c.revoked {
				same(t, "RevokedAt", after.RevokedAt, c.at)
			}
			if c.wantErr != nil {
				if !c.wantRevoked {
					same(t, "session after refused call", after, before)
				}
				return
			}

			if res.Replayed != c.wantReplay {
				t.Errorf("Replayed = %v, want %v", res.Replayed, c.wantReplay)
			}
			same(t, "result session vs stored", res.Session, after)
			same(t, "result user", res.User, user)
			if c.wantReplay {
				same(t, "replay leaves the session unchanged", after, before)
				return
			}
			want := before
			want.PrevRefreshJTI, want.RefreshJTI = before.RefreshJTI, r.NewJTI
			want.RefreshIssuedAt, want.ExpiresAt = r.NewIssuedAt, r.NewExpiresAt
			want.RotatedAt, want.LastRefreshedAt = r.Now, r.Now
			want.UserAgent, want.IP = r.UserAgent, r.IP
			same(t, "rotated session", res.Session, want)
		})
	}
}

func testReplayDoesNotRotate(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newSession(t, s, "s1", "u1", base(), refreshTTL)
	t1 := base().Add(time.Minute)
	first := rotate(t, s, rotation("s1", "s1-j0", "s1-j1", t1, 10*time.Second))

	for i, at := range []time.Time{t1.Add(time.Second), t1.Add(2 * time.Second), t1.Add(10 * time.Second)} {
		// Each replay asks for a different new jti; none may be used.
		res, err := s.RotateRefresh(ctx, rotation("s1", "s1-j0", jti("unused", i), at, 10*time.Second))
		wantErr(t, "replay", err, nil)
		if !res.Replayed {
			t.Fatalf("replay %d: Replayed = false", i)
		}
		same(t, "replayed session", res.Session, first.Session)
	}
	stored, err := s.Session(ctx, "s1")
	wantErr(t, "Session", err, nil)
	same(t, "stored after replays", stored, first.Session)

	// The successor still rotates normally afterwards.
	rotate(t, s, rotation("s1", "s1-j1", "s1-j2", t1.Add(time.Hour), 10*time.Second))
}

func testReuseRevokesFamily(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newSession(t, s, "s1", "u1", base(), refreshTTL)
	t1 := base().Add(time.Minute)
	rotate(t, s, rotation("s1", "s1-j0", "s1-j1", t1, 10*time.Second))

	reuseAt := t1.Add(time.Hour)
	_, err := s.RotateRefresh(ctx, rotation("s1", "s1-j0", "s1-j2", reuseAt, 10*time.Second))
	wantErr(t, "replay after grace", err, store.ErrRefreshReused)

	// The revocation was committed, not rolled back with the error.
	got, err := s.Session(ctx, "s1")
	wantErr(t, "Session", err, nil)
	same(t, "RevokedAt", got.RevokedAt, reuseAt)
	live, err := s.ListSessions(ctx, "u1", reuseAt)
	wantErr(t, "ListSessions", err, nil)
	if len(live) != 0 {
		t.Errorf("ListSessions after reuse = %v, want none", ids(live))
	}
	// The legitimate holder of the current token is locked out too.
	_, err = s.RotateRefresh(ctx, rotation("s1", "s1-j1", "s1-j3", reuseAt.Add(time.Second), 10*time.Second))
	wantErr(t, "current after reuse", err, store.ErrSessionRevoked)
}

func testRotateChain(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newSession(t, s, "s1", "u1", base(), refreshTTL)
	at := base()
	for i := 1; i <= 5; i++ {
		at = at.Add(time.Minute)
		res := rotate(t, s, rotation("s1", jti("s1", i-1), jti("s1", i), at, 10*time.Second))
		if res.Session.PrevRefreshJTI != jti("s1", i-1) {
			t.Fatalf("step %d: PrevRefreshJTI = %s, want %s", i, res.Session.PrevRefreshJTI, jti("s1", i-1))
		}
	}
	// Two generations back is reuse even within the grace window of the
	// last rotation.
	_, err := s.RotateRefresh(ctx, rotation("s1", jti("s1", 3), "s1-x", at.Add(time.Second), 10*time.Second))
	wantErr(t, "older token", err, store.ErrRefreshReused)
}

// raceRotations runs n RotateRefresh calls at once, all presenting s1-j0,
// each asking for its own new jti.
func raceRotations(t *testing.T, s Store, n int, grace time.Duration) ([]store.RotationResult, []error) {
	t.Helper()
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newSession(t, s, "s1", "u1", base(), refreshTTL)
	results, errs := make([]store.RotationResult, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.RotateRefresh(ctx, rotation("s1", "s1-j0", jti("new", i), base().Add(time.Minute), grace))
		})
	}
	close(start)
	wg.Wait()
	return results, errs
}

func testConcurrentRotateNoGrace(t *testing.T, s Store) {
	const n = 20
	results, errs := raceRotations(t, s, n, 0)
	var winners []string
	for i, err := range errs {
		switch {
		case err == nil:
			winners = append(winners, results[i].Session.RefreshJTI)
		case errors.Is(err, store.ErrRefreshReused), errors.Is(err, store.ErrSessionRevoked):
		default:
			t.Errorf("call %d: unexpected error %v", i, err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d calls rotated (%v), want exactly 1", len(winners), winners)
	}
	got, err := s.Session(ctxT(t), "s1")
	wantErr(t, "Session", err, nil)
	if got.RefreshJTI != winners[0] {
		t.Errorf("stored jti %s, want the winner's %s", got.RefreshJTI, winners[0])
	}
	// Every loser presented a rotated token with no grace: reuse.
	if got.RevokedAt.IsZero() {
		t.Errorf("session not revoked after %d replays without grace", n-1)
	}
}

func testConcurrentRotateGrace(t *testing.T, s Store) {
	const n = 20
	results, errs := raceRotations(t, s, n, 10*time.Second)
	var rotated, replayed []string
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
			continue
		}
		if results[i].Replayed {
			replayed = append(replayed, results[i].Session.RefreshJTI)
		} else {
			rotated = append(rotated, results[i].Session.RefreshJTI)
		}
	}
	if len(rotated) != 1 {
		t.Fatalf("%d calls rotated (%v), want exactly 1", len(rotated), rotated)
	}
	if len(replayed) != n-1 {
		t.Fatalf("%d replays, want %d", len(replayed), n-1)
	}
	if i := slices.IndexFunc(replayed, func(j string) bool { return j != rotated[0] }); i >= 0 {
		t.Errorf("a replay got jti %s, want the winner's %s", replayed[i], rotated[0])
	}
	got, err := s.Session(ctxT(t), "s1")
	wantErr(t, "Session", err, nil)
	if got.RefreshJTI != rotated[0] || !got.RevokedAt.IsZero() {
		t.Errorf("stored jti %s revoked %v, want %s live", got.RefreshJTI, got.RevokedAt, rotated[0])
	}
}
