package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/testclock"
	"github.com/authd/authd/pkg/denylist"
)

// The tests of this file drive the service's session flows (rotation,
// reuse, grace, logout, reset, throttling, disabled users, credential
// versions) on an in-memory SQLite store, with one settable clock read by
// the service, the denylist and the limiters: no sleeps, milliseconds per
// case, so a refactor of the service is checked in seconds.

const flowPW = "correct horse battery"

// flowFixture is a Service with a user, a clock and the denylist it
// writes to.
type flowFixture struct {
	fixture
	clock *testclock.Clock
	dl    *denylist.Memory
	mail  *mailbox
	email string
	cfg   auth.Config
}

// newFlowFixture registers flowPW for a@example.com on a fresh service;
// opts adjust its config, after the clock, denylist and outbox are set.
func newFlowFixture(t *testing.T, opts ...func(*auth.Config, *testclock.Clock)) flowFixture {
	t.Helper()
	ff := flowFixture{clock: testclock.New(time.Now().Truncate(time.Second)), mail: &mailbox{}, email: "a@example.com"}
	ff.dl = denylist.NewMemory(denylist.WithClock(ff.clock.Now))
	ff.fixture = newFixtureOn(t, ":memory:", ff.dl, 4, func(c *auth.Config) {
		c.Clock, c.Outbox = ff.clock.Now, ff.mail
		for _, o := range opts {
			o(c, ff.clock)
		}
		ff.cfg = *c
	})
	if _, err := ff.svc.Register(context.Background(), ff.email, flowPW, auth.Device{}); err != nil {
		t.Fatal(err)
	}
	return ff
}

// login starts a session of the fixture's user.
func (ff flowFixture) login(t *testing.T) *auth.Tokens {
	t.Helper()
	tk, err := ff.svc.Login(context.Background(), ff.email, flowPW, auth.Device{IP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return tk
}

// rotated logs in and refreshes once: the first pair and its successor.
func (ff flowFixture) rotated(t *testing.T) (t0, t1 *auth.Tokens) {
	t.Helper()
	t0 = ff.login(t)
	t1, err := ff.refresh(t0.RefreshToken)
	wantKind(t, "first refresh", err, nil)
	return t0, t1
}

// refresh presents a refresh token.
func (ff flowFixture) refresh(raw string) (*auth.Tokens, error) {
	return ff.svc.Refresh(context.Background(), raw, auth.Device{IP: "192.0.2.1"})
}

// accessRevoked reports whether the denylist refuses an access token.
func (ff flowFixture) accessRevoked(t *testing.T, access string) bool {
	t.Helper()
	err := ff.dl.Check(context.Background(), denylistToken(t, access))
	if err != nil && !errors.Is(err, denylist.ErrRevoked) {
		t.Fatalf("denylist check: %v", err)
	}
	return err != nil
}

// caller is the Caller of an access token, as the HTTP layer builds it
// from the verified claims.
func (ff flowFixture) caller(t *testing.T, access string) auth.Caller {
	t.Helper()
	c := claimsOf(t, access)
	return auth.Caller{UserID: c.Sub, SessionID: c.SID, TokenID: c.JTI, ExpiresAt: time.Unix(c.Exp, 0)}
}

// payload is the part of a token's claims these tests read. The tokens
// are the service's own, so reading them unverified is enough here.
type payload struct {
	Sub string `json:"sub"`
	SID string `json:"sid"`
	JTI string `json:"jti"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// claimsOf reads the claims of a token minted by the service.
func claimsOf(t *testing.T, raw string) payload {
	t.Helper()
	m := payloadOf(t, raw)
	str := func(k string) string { v, _ := m[k].(string); return v }
	num := func(k string) int64 { v, _ := m[k].(float64); return int64(v) }
	return payload{Sub: str("sub"), SID: str("sid"), JTI: str("jti"), Iat: num("iat"), Exp: num("exp")}
}

func denylistToken(t *testing.T, raw string) denylist.Token {
	p := claimsOf(t, raw)
	return denylist.Token{JTI: p.JTI, SID: p.SID, Subject: p.Sub, IssuedAt: time.Unix(p.Iat, 0)}
}

// wantKind fails unless err is nil (want nil) or matches want.
func wantKind(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func TestRefreshRotation(t *testing.T) {
	const grace = 10 * time.Second // baseConfig's RefreshReuseGrace
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, ff flowFixture)
	}{{
		name: "each refresh returns a new pair and the new token refreshes",
		run: func(t *testing.T, ff flowFixture) {
			t0, t1 := ff.rotated(t)
			if t1.RefreshToken == t0.RefreshToken || t1.AccessToken == t0.AccessToken {
				t.Fatal("refresh returned the presented tokens")
			}
			if claimsOf(t, t1.RefreshToken).SID != claimsOf(t, t0.RefreshToken).SID {
				t.Fatal("rotation changed the session")
			}
			ff.clock.Advance(grace + time.Second)
			_, err := ff.refresh(t1.RefreshToken)
			wantKind(t, "refresh of the successor", err, nil)
		},
	}, {
		name: "within grace the predecessor yields the same successor",
		run: func(t *testing.T, ff flowFixture) {
			t0, t1 := ff.rotated(t)
			ff.clock.Advance(grace / 2)
			again, err := ff.refresh(t0.RefreshToken)
			wantKind(t, "retry within grace", err, nil)
			if claimsOf(t, again.RefreshToken).JTI != claimsOf(t, t1.RefreshToken).JTI {
				t.Fatal("a retry within grace minted another successor")
			}
			_, err = ff.refresh(t1.RefreshToken)
			wantKind(t, "successor after the retry", err, nil)
		},
	}, {
		name: "reuse after grace revokes the whole family",
		run: func(t *testing.T, ff flowFixture) {
			t0, t1 := ff.rotated(t)
			ff.clock.Advance(grace + time.Second)
			_, err := ff.refresh(t0.RefreshToken)
			wantKind(t, "reuse", err, auth.ErrInvalidGrant)
			_, err = ff.refresh(t1.RefreshToken)
			wantKind(t, "successor after reuse", err, auth.ErrInvalidGrant)
			if !ff.accessRevoked(t, t1.AccessToken) {
				t.Fatal("the session's access token outlived the reuse")
			}
		},
	}, {
		name: "reuse revokes only its own session",
		run: func(t *testing.T, ff flowFixture) {
			a0, b0 := ff.login(t), ff.login(t)
			_, err := ff.refresh(a0.RefreshToken)
			wantKind(t, "refresh a", err, nil)
			ff.clock.Advance(grace + time.Second)
			_, err = ff.refresh(a0.RefreshToken)
			wantKind(t, "reuse a", err, auth.ErrInvalidGrant)
			_, err = ff.refresh(b0.RefreshToken)
			wantKind(t, "refresh b", err, nil)
			if ff.accessRevoked(t, b0.AccessToken) {
				t.Fatal("reuse in one session revoked another")
			}
		},
	}, {
		name: "an expired refresh token is refused",
		run: func(t *testing.T, ff flowFixture) {
			t0 := ff.login(t)
			ff.clock.Advance(ff.cfg.RefreshTTL + ff.cfg.Leeway + time.Second)
			_, err := ff.refresh(t0.RefreshToken)
			wantKind(t, "expired", err, auth.ErrInvalidGrant)
		},
	}, {
		name: "garbage and empty tokens",
		run: func(t *testing.T, ff flowFixture) {
			_, err := ff.refresh("")
			wantKind(t, "empty", err, auth.ErrInvalidRequest)
			_, err = ff.refresh("not.a.token")
			wantKind(t, "garbage", err, auth.ErrInvalidGrant)
			t0 := ff.login(t)
			_, err = ff.refresh(t0.AccessToken)
			wantKind(t, "access token as refresh", err, auth.ErrInvalidGrant)
		},
	}} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newFlowFixture(t)) })
	}
}

func TestLogoutScopes(t *testing.T) {
	for _, tc := range []struct {
		scope auth.LogoutScope
		// What still works afterwards: the calling session (a) and the
		// other one (b).
		aLives, bLives bool
	}{
		{auth.LogoutLocal, false, true},
		{auth.LogoutOthers, true, false},
		{auth.LogoutGlobal, false, false},
	} {
		t.Run(string(tc.scope), func(t *testing.T) {
			ff := newFlowFixture(t)
			a, b := ff.login(t), ff.login(t)
			if err := ff.svc.Logout(context.Background(), ff.caller(t, a.AccessToken), tc.scope); err != nil {
				t.Fatalf("logout: %v", err)
			}
			for _, s := range []struct {
				name  string
				tk    *auth.Tokens
				lives bool
			}{{"calling session", a, tc.aLives}, {"other session", b, tc.bLives}} {
				if got := !ff.accessRevoked(t, s.tk.AccessToken); got != s.lives {
					t.Errorf("%s: access token usable = %v, want %v", s.name, got, s.lives)
				}
				_, err := ff.refresh(s.tk.RefreshToken)
				if got := err == nil; got != s.lives {
					t.Errorf("%s: refresh ok = %v (%v), want %v", s.name, got, err, s.lives)
				}
			}
			// A logout never locks the user out: a later login works and
			// its token is not refused.
			ff.clock.Advance(time.Second)
			if c := ff.login(t); ff.accessRevoked(t, c.AccessToken) {
				t.Fatal("a login after logout is refused")
			}
		})
	}
	t.Run("unknown scope", func(t *testing.T) {
		ff := newFlowFixture(t)
		a := ff.login(t)
		err := ff.svc.Logout(context.Background(), ff.caller(t, a.AccessToken), "everything")
		wantKind(t, "logout", err, auth.ErrInvalidRequest)
	})
}

func TestPasswordReset(t *testing.T) {
	const newPW = "battery staple horse correct"
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, ff flowFixture)
	}{{
		name: "ends every session and swaps the password",
		run: func(t *testing.T, ff flowFixture) {
			a, b := ff.login(t), ff.login(t)
			wantKind(t, "forgot", ff.svc.ForgotPassword(ctx, ff.email), nil)
			wantKind(t, "reset", ff.svc.ResetPassword(ctx, ff.mail.resetToken(t), newPW, auth.Device{}), nil)
			for _, tk := range []*auth.Tokens{a, b} {
				if !ff.accessRevoked(t, tk.AccessToken) {
					t.Error("an access token outlived the reset")
				}
				_, err := ff.refresh(tk.RefreshToken)
				wantKind(t, "refresh after reset", err, auth.ErrInvalidGrant)
			}
			ff.clock.Advance(time.Second)
			_, err := ff.svc.Login(ctx, ff.email, flowPW, auth.Device{})
			wantKind(t, "old password", err, auth.ErrInvalidCredentials)
			_, err = ff.svc.Login(ctx, ff.email, newPW, auth.Device{})
			wantKind(t, "new password", err, nil)
		},
	}, {
		name: "the token is single use",
		run: func(t *testing.T, ff flowFixture) {
			wantKind(t, "forgot", ff.svc.ForgotPassword(ctx, ff.email), nil)
			tok := ff.mail.resetToken(t)
			wantKind(t, "first use", ff.svc.ResetPassword(ctx, tok, newPW, auth.Device{}), nil)
			wantKind(t, "second use", ff.svc.ResetPassword(ctx, tok, flowPW, auth.Device{}), auth.ErrInvalidOneTimeToken)
		},
	}, {
		name: "the token expires",
		run: func(t *testing.T, ff flowFixture) {
			wantKind(t, "forgot", ff.svc.ForgotPassword(ctx, ff.email), nil)
			tok := ff.mail.resetToken(t)
			ff.clock.Advance(auth.DefaultResetTTL + time.Second)
			wantKind(t, "expired", ff.svc.ResetPassword(ctx, tok, newPW, auth.Device{}), auth.ErrInvalidOneTimeToken)
			_, err := ff.svc.Login(ctx, ff.email, flowPW, auth.Device{})
			wantKind(t, "old password still works", err, nil)
		},
	}, {
		name: "a weak password does not spend the token",
		run: func(t *testing.T, ff flowFixture) {
			wantKind(t, "forgot", ff.svc.ForgotPassword(ctx, ff.email), nil)
			tok := ff.mail.resetToken(t)
			wantKind(t, "weak", ff.svc.ResetPassword(ctx, tok, "short", auth.Device{}), auth.ErrWeakPassword)
			wantKind(t, "then strong", ff.svc.ResetPassword(ctx, tok, newPW, auth.Device{}), nil)
		},
	}, {
		name: "malformed and missing tokens",
		run: func(t *testing.T, ff flowFixture) {
			wantKind(t, "missing", ff.svc.ResetPassword(ctx, "", newPW, auth.Device{}), auth.ErrInvalidRequest)
			wantKind(t, "malformed", ff.svc.ResetPassword(ctx, "!!", newPW, auth.Device{}), auth.ErrInvalidOneTimeToken)
		},
	}} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newFlowFixture(t)) })
	}
}

func TestLoginThrottlingEdges(t *testing.T) {
	ctx := context.Background()
	withLimits := func(login ratelimit.Limit) func(*auth.Config, *testclock.Clock) {
		return func(c *auth.Config, clk *testclock.Clock) {
			b, err := ratelimit.NewMemoryBackoff(ratelimit.DefaultBackoffPolicy(), ratelimit.WithClock(clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			c.Limits = auth.Limits{Limiter: ratelimit.NewMemory(ratelimit.WithClock(clk.Now)), Backoff: b, LoginAccount: login}
		}
	}
	device := auth.Device{IP: "192.0.2.1"}
	login := func(ff flowFixture, pw string) error {
		_, err := ff.svc.Login(ctx, ff.email, pw, device)
		return err
	}
	t.Run("the burst is allowed, the next attempt is not, one period later one more is", func(t *testing.T) {
		ff := newFlowFixture(t, withLimits(ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 3}))
		for range 3 {
			wantKind(t, "within burst", login(ff, flowPW), nil)
		}
		err := login(ff, flowPW)
		wantKind(t, "over burst", err, auth.ErrRateLimited)
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.RetryAfter <= 0 || ae.RetryAfter > time.Minute {
			t.Fatalf("RetryAfter of %v: want within (0, 1m]", err)
		}
		ff.clock.Advance(time.Minute - time.Second)
		wantKind(t, "a second early", login(ff, flowPW), auth.ErrRateLimited)
		ff.clock.Advance(time.Second)
		wantKind(t, "one period on", login(ff, flowPW), nil)
		wantKind(t, "and only one", login(ff, flowPW), auth.ErrRateLimited)
	})
	t.Run("failures are free up to the policy, then back off until the delay has run", func(t *testing.T) {
		ff := newFlowFixture(t, withLimits(ratelimit.PerMinute(1000)))
		free := ratelimit.DefaultBackoffPolicy().Free
		for range free {
			wantKind(t, "free failure", login(ff, "wrong horse battery"), auth.ErrInvalidCredentials)
		}
		// The failure that starts the delay is still answered.
		wantKind(t, "first delayed failure", login(ff, "wrong horse battery"), auth.ErrInvalidCredentials)
		err := login(ff, flowPW)
		wantKind(t, "right password during backoff", err, auth.ErrRateLimited)
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.RetryAfter <= 0 {
			t.Fatalf("backoff answer %v has no RetryAfter", err)
		}
		ff.clock.Advance(ae.RetryAfter)
		wantKind(t, "after the delay", login(ff, flowPW), nil)
		wantKind(t, "success cleared the backoff", login(ff, "wrong horse battery"), auth.ErrInvalidCredentials)
		wantKind(t, "no delay after one new failure", login(ff, flowPW), nil)
	})
	t.Run("the backoff of one network leaves another alone", func(t *testing.T) {
		ff := newFlowFixture(t, withLimits(ratelimit.PerMinute(1000)))
		for range ratelimit.DefaultBackoffPolicy().Free + 1 {
			_ = login(ff, "wrong horse battery")
		}
		wantKind(t, "same /24", func() error {
			_, err := ff.svc.Login(ctx, ff.email, flowPW, auth.Device{IP: "192.0.2.200"})
			return err
		}(), auth.ErrRateLimited)
		_, err := ff.svc.Login(ctx, ff.email, flowPW, auth.Device{IP: "198.51.100.1"})
		wantKind(t, "other network", err, nil)
	})
}

func TestDisabledUser(t *testing.T) {
	ctx := context.Background()
	ff := newFlowFixture(t)
	tk := ff.login(t)
	u, err := ff.svc.UserByEmail(ctx, ff.email)
	if err != nil {
		t.Fatal(err)
	}
	cli := auth.Actor{Device: auth.Device{UserAgent: "authd-cli test"}}
	wantKind(t, "disable", ff.svc.DisableUser(ctx, cli, u.ID), nil)
	for _, tc := range []struct {
		name string
		pw   string
		want error
	}{
		{"right password", flowPW, auth.ErrUserDisabled},
		// A wrong password says nothing about the account.
		{"wrong password", "wrong horse battery", auth.ErrInvalidCredentials},
	} {
		_, err := ff.svc.Login(ctx, ff.email, tc.pw, auth.Device{})
		wantKind(t, tc.name, err, tc.want)
	}
	_, err = ff.refresh(tk.RefreshToken)
	wantKind(t, "refresh of a session from before", err, auth.ErrInvalidGrant)
	if !ff.accessRevoked(t, tk.AccessToken) {
		t.Fatal("an access token outlived the disable")
	}
	wantKind(t, "enable", ff.svc.EnableUser(ctx, cli, u.ID), nil)
	ff.clock.Advance(time.Second)
	_, err = ff.svc.Login(ctx, ff.email, flowPW, auth.Device{})
	wantKind(t, "login after enable", err, nil)
	_, err = ff.refresh(tk.RefreshToken)
	wantKind(t, "enable does not revive old sessions", err, auth.ErrInvalidGrant)
}

// A password change moves the calling session to the new credential
// version and leaves every other one behind.
func TestCredentialVersionCutoff(t *testing.T) {
	ctx := context.Background()
	const newPW = "battery staple horse correct"
	for _, tc := range []struct {
		name    string
		current string
		want    error
		// Whether the other session survives.
		otherLives bool
	}{
		{"change with the right password", flowPW, nil, false},
		{"a wrong current password changes nothing", "wrong horse battery", auth.ErrInvalidCredentials, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ff := newFlowFixture(t)
			a, b := ff.login(t), ff.login(t)
			err := ff.svc.ChangePassword(ctx, ff.caller(t, a.AccessToken), tc.current, newPW)
			wantKind(t, "change", err, tc.want)
			_, err = ff.refresh(a.RefreshToken)
			wantKind(t, "calling session refreshes", err, nil)
			_, err = ff.refresh(b.RefreshToken)
			if got := err == nil; got != tc.otherLives {
				t.Fatalf("other session refresh ok = %v (%v), want %v", got, err, tc.otherLives)
			}
			if got := !ff.accessRevoked(t, b.AccessToken); got != tc.otherLives {
				t.Fatalf("other session's access token usable = %v, want %v", got, tc.otherLives)
			}
		})
	}
}
