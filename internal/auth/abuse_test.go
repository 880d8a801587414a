package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/ratelimittest"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
	"golang.org/x/crypto/bcrypt"
)

// recorder is an EventSink keeping what it receives.
type recorder struct {
	mu     sync.Mutex
	events []auth.Event
}

func (r *recorder) Record(_ context.Context, e auth.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) last(t *testing.T) auth.Event {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		t.Fatal("no event recorded")
	}
	return r.events[len(r.events)-1]
}

// limits returns in-process limits on clk: the given per-account login
// limit and the default backoff.
func limits(t *testing.T, clk *ratelimittest.Clock, login ratelimit.Limit) auth.Limits {
	t.Helper()
	b, err := ratelimit.NewMemoryBackoff(ratelimit.DefaultBackoffPolicy(), ratelimit.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	return auth.Limits{Limiter: ratelimit.NewMemory(ratelimit.WithClock(clk.Now)), Backoff: b,
		LoginAccount: login, ForgotAccount: ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 2}}
}

// Each refused login says why in its event's Detail, never with a secret.
func TestLoginFailureDetails(t *testing.T) {
	rec := &recorder{}
	clk := ratelimittest.NewClock()
	f := newFixture(t, denylist.NewMemory(), 10, func(c *auth.Config) {
		c.Events, c.RequireVerifiedEmail = rec, true
		c.Limits = limits(t, clk, ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 3})
	})
	ctx := context.Background()
	from := auth.Device{IP: "192.0.2.1", UserAgent: "test/1"}
	u, err := f.svc.Register(ctx, "una@example.com", "correct horse battery", from)
	if err != nil {
		t.Fatal(err)
	}
	if e := rec.last(t); e.Type != auth.EventRegister || e.Outcome != auth.OutcomeSuccess || e.UserID != u.ID || e.IP != "192.0.2.1" || e.At.IsZero() {
		t.Fatalf("register event %+v", e)
	}
	_, err = f.svc.Login(ctx, "una@example.com", "correct horse battery", from)
	if e := rec.last(t); !errors.Is(err, auth.ErrEmailNotVerified) || e.Detail != "email_not_verified" || e.UserID != u.ID {
		t.Fatalf("unverified: %v, event %+v", err, e)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse battery"), 10)
	if _, err := f.store.CreateUser(ctx, store.User{ID: "d1", Email: "dan@example.com", PasswordHash: string(hash), Disabled: true}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Login(ctx, "dan@example.com", "correct horse battery", from)
	if e := rec.last(t); !errors.Is(err, auth.ErrUserDisabled) || e.Detail != "user_disabled" || e.UserID != "d1" {
		t.Fatalf("disabled: %v, event %+v", err, e)
	}
	// The account limit (burst 3) is spent by now: refused before bcrypt
	// and before the lookup, so the event has no user id.
	for range 2 {
		_, _ = f.svc.Login(ctx, "una@example.com", "wrong horse battery", from)
	}
	_, err = f.svc.Login(ctx, "una@example.com", "correct horse battery", from)
	var ae *auth.Error
	if e := rec.last(t); !errors.As(err, &ae) || ae.Kind != auth.ErrRateLimited || ae.RetryAfter <= 0 || e.Detail != "rate_limited" || e.UserID != "" {
		t.Fatalf("over the limit: %v, event %+v", err, e)
	}
	clk.Advance(time.Minute)
	if _, err := f.svc.Login(ctx, "una@example.com", "correct horse battery", auth.Device{IP: "203.0.113.1"}); !errors.Is(err, auth.ErrEmailNotVerified) {
		t.Fatalf("after a minute: %v", err)
	}
}

// The login backoff is keyed on the account and the client's network: the
// /24 of an IPv4 address, the /64 of an IPv6 one.
func TestLoginBackoffNetworks(t *testing.T) {
	clk := ratelimittest.NewClock()
	f := newFixture(t, denylist.NewMemory(), 10, func(c *auth.Config) {
		c.Limits = limits(t, clk, ratelimit.PerMinute(1000))
	})
	ctx := context.Background()
	if _, err := f.svc.Register(ctx, "bo@example.com", "correct horse battery", auth.Device{}); err != nil {
		t.Fatal(err)
	}
	for _, net := range []struct{ failFrom, sameNet, otherNet string }{
		{"192.0.2.1", "192.0.2.254", "192.0.3.1"},
		{"2001:db8:0:1::1", "2001:db8:0:1:ffff::9", "2001:db8:0:2::1"},
	} {
		for range 6 {
			if _, err := f.svc.Login(ctx, "bo@example.com", "wrong horse battery", auth.Device{IP: net.failFrom}); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("failure from %s: %v", net.failFrom, err)
			}
		}
		if _, err := f.svc.Login(ctx, "bo@example.com", "correct horse battery", auth.Device{IP: net.sameNet}); !errors.Is(err, auth.ErrRateLimited) {
			t.Fatalf("%s after failures from %s: %v", net.sameNet, net.failFrom, err)
		}
		if _, err := f.svc.Login(ctx, "bo@example.com", "correct horse battery", auth.Device{IP: net.otherNet}); err != nil {
			t.Fatalf("%s, another network: %v", net.otherNet, err)
		}
	}
}

// Forgot-password has a budget per address, known or not.
func TestForgotPasswordAccountLimit(t *testing.T) {
	clk := ratelimittest.NewClock()
	f := newFixture(t, denylist.NewMemory(), 10, withOutbox(&countingOutbox{}), func(c *auth.Config) {
		c.Limits = limits(t, clk, ratelimit.PerMinute(10))
	})
	ctx := context.Background()
	for _, email := range []string{"known@example.com", "unknown@example.com"} {
		for i := range 3 {
			err := f.svc.ForgotPassword(ctx, email)
			if (i < 2) != (err == nil) || (i == 2 && !errors.Is(err, auth.ErrRateLimited)) {
				t.Fatalf("%s, request %d: %v", email, i+1, err)
			}
		}
	}
}

// A wrong current password on a password change counts as a failed login
// of the account from the caller's network: past the backoff's threshold
// the change and that network's logins wait, without bcrypt, while other
// networks log in. Each account also has a change budget of its own,
// whatever the networks.
func TestChangePasswordThrottled(t *testing.T) {
	clk := ratelimittest.NewClock()
	f := newFixture(t, denylist.NewMemory(), 10, func(c *auth.Config) {
		c.Limits = limits(t, clk, ratelimit.PerMinute(1000))
		c.Limits.ChangeAccount = ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 7}
	})
	ctx := context.Background()
	u, err := f.svc.Register(ctx, "cy@example.com", "correct horse battery", auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	caller := func(ip string) auth.Caller { return auth.Caller{UserID: u.ID, Device: auth.Device{IP: ip}} }
	for i := range 6 {
		if err := f.svc.ChangePassword(ctx, caller("192.0.2.1"), "wrong horse battery", "a brand new horse"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("wrong current password %d: %v", i+1, err)
		}
	}
	if err := f.svc.ChangePassword(ctx, caller("192.0.2.1"), "correct horse battery", "a brand new horse"); !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("change during the backoff: %v, want ErrRateLimited", err)
	}
	if _, err := f.svc.Login(ctx, "cy@example.com", "correct horse battery", auth.Device{IP: "192.0.2.9"}); !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("login from the same network: %v, want ErrRateLimited", err)
	}
	if _, err := f.svc.Login(ctx, "cy@example.com", "correct horse battery", auth.Device{IP: "198.51.100.1"}); err != nil {
		t.Fatalf("login from another network: %v", err)
	}
	// 6 of the burst of 7 are spent: the change the backoff refused
	// counted none.
	if err := f.svc.ChangePassword(ctx, caller("203.0.113.1"), "wrong horse battery", "a brand new horse"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("7th counted change: %v", err)
	}
	if err := f.svc.ChangePassword(ctx, caller("203.0.114.1"), "correct horse battery", "a brand new horse"); !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("8th change, from yet another network: %v, want ErrRateLimited", err)
	}
}
