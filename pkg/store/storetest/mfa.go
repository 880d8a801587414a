package storetest

import (
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

func testTOTPLifecycle(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	_, err := s.TOTP(ctx, "u1")
	wantErr(t, "TOTP before enrolment", err, store.ErrNotFound)
	wantErr(t, "SetPendingTOTP unknown user", s.SetPendingTOTP(ctx, "nobody", []byte("sealed"), base()), store.ErrNotFound)

	wantErr(t, "SetPendingTOTP", s.SetPendingTOTP(ctx, "u1", []byte("first"), base()), nil)
	// A second enrolment before confirmation replaces the secret.
	wantErr(t, "SetPendingTOTP again", s.SetPendingTOTP(ctx, "u1", []byte("second"), base().Add(time.Second)), nil)
	pending, err := s.TOTP(ctx, "u1")
	wantErr(t, "TOTP pending", err, nil)
	if string(pending.SealedSecret) != "second" || pending.Confirmed() || pending.LastStep != 0 || !pending.CreatedAt.Equal(base().Add(time.Second)) {
		t.Fatalf("pending TOTP = %+v", pending)
	}
	wantErr(t, "AcceptTOTPStep while pending", s.AcceptTOTPStep(ctx, "u1", 100), store.ErrNotFound)

	codes := [][]byte{digest("c1"), digest("c2"), digest("c3")}
	wantErr(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, "u1", 100, codes, base().Add(2*time.Second)), nil)
	wantErr(t, "ConfirmTOTP twice", s.ConfirmTOTP(ctx, "u1", 101, codes, base()), store.ErrNotFound)
	wantErr(t, "ConfirmTOTP unknown user", s.ConfirmTOTP(ctx, "nobody", 1, codes, base()), store.ErrNotFound)
	got, err := s.TOTP(ctx, "u1")
	wantErr(t, "TOTP confirmed", err, nil)
	if !got.Confirmed() || !got.ConfirmedAt.Equal(base().Add(2*time.Second)) || got.LastStep != 100 || string(got.SealedSecret) != "second" {
		t.Fatalf("confirmed TOTP = %+v", got)
	}
	wantErr(t, "SetPendingTOTP over a confirmed one", s.SetPendingTOTP(ctx, "u1", []byte("third"), base()), store.ErrAlreadyExists)
	if got, _ := s.TOTP(ctx, "u1"); string(got.SealedSecret) != "second" || !got.Confirmed() {
		t.Fatalf("a refused enrolment changed the TOTP: %+v", got)
	}

	// Steps: only later ones; the first code's step is taken.
	for _, c := range []struct {
		step int64
		want error
	}{{100, store.ErrReplayed}, {99, store.ErrReplayed}, {101, nil}, {101, store.ErrReplayed}, {103, nil}, {102, store.ErrReplayed}} {
		wantErr(t, "AcceptTOTPStep", s.AcceptTOTPStep(ctx, "u1", c.step), c.want)
	}
	if got, _ := s.TOTP(ctx, "u1"); got.LastStep != 103 {
		t.Fatalf("LastStep = %d, want 103", got.LastStep)
	}

	wantErr(t, "DeleteTOTP", s.DeleteTOTP(ctx, "u1"), nil)
	wantErr(t, "DeleteTOTP twice", s.DeleteTOTP(ctx, "u1"), store.ErrNotFound)
	_, err = s.TOTP(ctx, "u1")
	wantErr(t, "TOTP after delete", err, store.ErrNotFound)
	if n, err := s.RecoveryCodesLeft(ctx, "u1"); err != nil || n != 0 {
		t.Fatalf("recovery codes after DeleteTOTP: %d, %v", n, err)
	}
	// Enrolling again after a delete starts over.
	wantErr(t, "SetPendingTOTP after delete", s.SetPendingTOTP(ctx, "u1", []byte("fourth"), base()), nil)
}

func testTOTPConcurrentStep(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	wantErr(t, "SetPendingTOTP", s.SetPendingTOTP(ctx, "u1", []byte("s"), base()), nil)
	wantErr(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, "u1", 1, [][]byte{digest("c")}, base()), nil)
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			switch err := s.AcceptTOTPStep(ctx, "u1", 2); {
			case err == nil:
				won.Add(1)
			case !isReplayed(err):
				t.Errorf("AcceptTOTPStep: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of 20 concurrent uses of one code were accepted, want 1", won.Load())
	}
}

func isReplayed(err error) bool { return errors.Is(err, store.ErrReplayed) }

func testRecoveryCodes(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	wantErr(t, "SetPendingTOTP", s.SetPendingTOTP(ctx, "u1", []byte("s"), base()), nil)
	wantErr(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, "u1", 1, [][]byte{digest("a"), digest("b")}, base()), nil)
	if n, _ := s.RecoveryCodesLeft(ctx, "u1"); n != 2 {
		t.Fatalf("codes left = %d, want 2", n)
	}
	wantErr(t, "another user's code", s.ConsumeRecoveryCode(ctx, "u2", digest("a"), base()), store.ErrNotFound)
	wantErr(t, "unknown code", s.ConsumeRecoveryCode(ctx, "u1", digest("z"), base()), store.ErrNotFound)
	wantErr(t, "consume a", s.ConsumeRecoveryCode(ctx, "u1", digest("a"), base()), nil)
	wantErr(t, "consume a again", s.ConsumeRecoveryCode(ctx, "u1", digest("a"), base()), store.ErrNotFound)
	if n, _ := s.RecoveryCodesLeft(ctx, "u1"); n != 1 {
		t.Fatalf("codes left = %d, want 1", n)
	}
	// A new set replaces the old one, used codes and all.
	wantErr(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, "u1", [][]byte{digest("x"), digest("y"), digest("z")}, base()), nil)
	wantErr(t, "old code after replace", s.ConsumeRecoveryCode(ctx, "u1", digest("b"), base()), store.ErrNotFound)
	if n, _ := s.RecoveryCodesLeft(ctx, "u1"); n != 3 {
		t.Fatalf("codes left after replace = %d, want 3", n)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if s.ConsumeRecoveryCode(ctx, "u1", digest("x"), base()) == nil {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of 20 concurrent uses of one recovery code succeeded, want 1", won.Load())
	}
}

func testMFAChallenges(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	const max = 5
	c := store.MFAChallenge{
		Digest: digest("m1"), Purpose: "login", UserID: "u1", CredentialVersion: 3, Network: "192.0.2.0/24",
		AMR: []string{"pwd"}, CreatedAt: base(), ExpiresAt: base().Add(5 * time.Minute),
	}
	wantErr(t, "CreateMFAChallenge", s.CreateMFAChallenge(ctx, c), nil)
	wantErr(t, "CreateMFAChallenge same digest", s.CreateMFAChallenge(ctx, c), store.ErrAlreadyExists)
	unknown := c
	unknown.Digest, unknown.UserID = digest("m0"), "nobody"
	wantErr(t, "CreateMFAChallenge unknown user", s.CreateMFAChallenge(ctx, unknown), store.ErrNotFound)

	got, err := s.MFAChallenge(ctx, c.Digest, "login", max, base().Add(time.Minute))
	wantErr(t, "MFAChallenge", err, nil)
	want := c
	if !reflect.DeepEqual(got.AMR, want.AMR) || got.UserID != "u1" || got.CredentialVersion != 3 || got.Network != c.Network ||
		!got.ExpiresAt.Equal(c.ExpiresAt) || !got.CreatedAt.Equal(c.CreatedAt) || got.Failures != 0 || got.Purpose != "login" {
		t.Fatalf("MFAChallenge = %+v, want %+v", got, want)
	}
	_, err = s.MFAChallenge(ctx, c.Digest, "enroll", max, base())
	wantErr(t, "other purpose", err, store.ErrNotFound)
	_, err = s.MFAChallenge(ctx, c.Digest, "login", max, c.ExpiresAt)
	wantErr(t, "at expiry", err, store.ErrNotFound)

	// Failures count up to the limit, then the challenge is dead.
	for i := 1; i <= max; i++ {
		f, err := s.FailMFAChallenge(ctx, c.Digest, "login", max, base())
		wantErr(t, "FailMFAChallenge", err, nil)
		if f.Failures != i {
			t.Fatalf("failure %d: Failures = %d", i, f.Failures)
		}
	}
	_, err = s.FailMFAChallenge(ctx, c.Digest, "login", max, base())
	wantErr(t, "FailMFAChallenge on a dead challenge", err, store.ErrNotFound)
	_, err = s.ConsumeMFAChallenge(ctx, c.Digest, "login", max, base())
	wantErr(t, "ConsumeMFAChallenge on a dead challenge", err, store.ErrNotFound)

	// A fresh challenge is consumed once, even by concurrent callers.
	c2 := c
	c2.Digest = digest("m2")
	wantErr(t, "CreateMFAChallenge 2", s.CreateMFAChallenge(ctx, c2), nil)
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.ConsumeMFAChallenge(ctx, c2.Digest, "login", max, base()); err == nil {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of 20 concurrent consumptions succeeded, want 1", won.Load())
	}
	_, err = s.MFAChallenge(ctx, c2.Digest, "login", max, base())
	wantErr(t, "MFAChallenge after consume", err, store.ErrNotFound)

	// Creating one prunes the user's used and expired challenges; a live
	// one stays.
	c3 := c
	c3.Digest, c3.CreatedAt, c3.ExpiresAt = digest("m3"), base().Add(10*time.Minute), base().Add(15*time.Minute)
	live := c
	live.Digest, live.ExpiresAt = digest("m4"), base().Add(time.Hour)
	wantErr(t, "CreateMFAChallenge live", s.CreateMFAChallenge(ctx, live), nil)
	wantErr(t, "CreateMFAChallenge 3", s.CreateMFAChallenge(ctx, c3), nil)
	// The digests of pruned rows are free again, which is how the test
	// sees them gone.
	wantErr(t, "m2 was pruned", s.CreateMFAChallenge(ctx, c2), nil)
	wantErr(t, "m4 was kept", s.CreateMFAChallenge(ctx, live), store.ErrAlreadyExists)
}

func testMFAGoesWithUser(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	wantErr(t, "SetPendingTOTP", s.SetPendingTOTP(ctx, "u1", []byte("s"), base()), nil)
	wantErr(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, "u1", 1, [][]byte{digest("a")}, base()), nil)
	wantErr(t, "CreateMFAChallenge", s.CreateMFAChallenge(ctx, store.MFAChallenge{
		Digest: digest("m"), Purpose: "login", UserID: "u1", CreatedAt: base(), ExpiresAt: base().Add(time.Hour),
	}), nil)
	wantErr(t, "DeleteUser", s.DeleteUser(ctx, "u1"), nil)
	_, err := s.TOTP(ctx, "u1")
	wantErr(t, "TOTP of a deleted user", err, store.ErrNotFound)
	if n, err := s.RecoveryCodesLeft(ctx, "u1"); err != nil || n != 0 {
		t.Fatalf("recovery codes of a deleted user: %d, %v", n, err)
	}
	_, err = s.MFAChallenge(ctx, digest("m"), "login", 5, base())
	wantErr(t, "challenge of a deleted user", err, store.ErrNotFound)
}

func testSessionAuthentication(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	sess, err := s.CreateSession(ctx, store.NewSession{
		ID: "s1", UserID: "u1", RefreshJTI: "j0", RefreshIssuedAt: base(), ExpiresAt: base().Add(time.Hour),
		AMR: []string{"pwd"},
	})
	wantErr(t, "CreateSession", err, nil)
	if !reflect.DeepEqual(sess.AMR, []string{"pwd"}) || !sess.AuthTime.Equal(base()) {
		t.Fatalf("created session: AMR %v, AuthTime %v; want [pwd], the login time", sess.AMR, sess.AuthTime)
	}
	read, err := s.Session(ctx, "s1")
	wantErr(t, "Session", err, nil)
	if !reflect.DeepEqual(read.AMR, []string{"pwd"}) || !read.AuthTime.Equal(base()) {
		t.Fatalf("stored session: AMR %v, AuthTime %v", read.AMR, read.AuthTime)
	}

	stepAt := base().Add(10 * time.Minute)
	_, err = s.StepUpSession(ctx, "u2", "s1", []string{"pwd", "otp"}, stepAt)
	wantErr(t, "StepUpSession of another user's session", err, store.ErrNotFound)
	up, err := s.StepUpSession(ctx, "u1", "s1", []string{"pwd", "otp"}, stepAt)
	wantErr(t, "StepUpSession", err, nil)
	if !reflect.DeepEqual(up.AMR, []string{"pwd", "otp"}) || !up.AuthTime.Equal(stepAt) || up.RefreshJTI != "j0" {
		t.Fatalf("stepped-up session = %+v", up)
	}
	// A rotation carries the authentication forward unchanged.
	res, err := s.RotateRefresh(ctx, store.Rotation{SessionID: "s1", PresentedJTI: "j0", NewJTI: "j1",
		NewIssuedAt: stepAt.Add(time.Minute), NewExpiresAt: stepAt.Add(time.Hour), Now: stepAt.Add(time.Minute)})
	wantErr(t, "RotateRefresh", err, nil)
	if !reflect.DeepEqual(res.Session.AMR, []string{"pwd", "otp"}) || !res.Session.AuthTime.Equal(stepAt) {
		t.Fatalf("rotated session: AMR %v, AuthTime %v", res.Session.AMR, res.Session.AuthTime)
	}
	if list, _ := s.ListSessions(ctx, "u1", stepAt); len(list) != 1 || !list[0].AuthTime.Equal(stepAt) {
		t.Fatalf("ListSessions: %+v", list)
	}

	// Only a session that could still rotate steps up.
	wantErr(t, "RevokeSession", s.RevokeSession(ctx, "u1", "s1", stepAt), nil)
	_, err = s.StepUpSession(ctx, "u1", "s1", []string{"pwd", "otp"}, stepAt.Add(time.Minute))
	wantErr(t, "StepUpSession of a revoked session", err, store.ErrNotFound)
	newSession(t, s, "s2", "u1", base(), time.Hour)
	_, err = s.StepUpSession(ctx, "u1", "s2", []string{"pwd", "otp"}, base().Add(time.Hour))
	wantErr(t, "StepUpSession of an expired session", err, store.ErrNotFound)
	newSession(t, s, "s3", "u1", base(), time.Hour)
	_, err = s.RevokeUserSessions(ctx, "u1", "", base())
	wantErr(t, "RevokeUserSessions", err, nil)
	_, err = s.StepUpSession(ctx, "u1", "s3", []string{"pwd", "otp"}, base())
	wantErr(t, "StepUpSession after sign-out everywhere", err, store.ErrNotFound)
	_, err = s.StepUpSession(ctx, "u1", "nope", []string{"pwd", "otp"}, base())
	wantErr(t, "StepUpSession of an unknown session", err, store.ErrNotFound)
}
