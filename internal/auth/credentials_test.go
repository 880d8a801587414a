package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// hookStore is a real store that runs a hook once, right after a login
// has read the user (and so the hash it is about to verify): the hook is
// the concurrent request that wins the race, run at the worst moment by
// synchronisation rather than by luck or sleeps.
type hookStore struct {
	*sqlstore.Store
	mu   sync.Mutex
	hook func(ctx context.Context)
}

func (h *hookStore) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := h.Store.UserByEmail(ctx, email)
	h.mu.Lock()
	hook := h.hook
	h.hook = nil
	h.mu.Unlock()
	if hook != nil {
		hook(ctx)
	}
	return u, err
}

// after arms the hook for the next login.
func (h *hookStore) after(hook func(ctx context.Context)) {
	h.mu.Lock()
	h.hook = hook
	h.mu.Unlock()
}

// mailbox composes every job at once, as a worker would, and keeps the
// messages.
type mailbox struct {
	mu   sync.Mutex
	msgs []mail.Message
}

func (b *mailbox) Enqueue(j mail.Job) bool {
	m, err := j.Compose(context.Background())
	if err == nil {
		b.mu.Lock()
		b.msgs = append(b.msgs, m)
		b.mu.Unlock()
	}
	return true
}

var resetLink = regexp.MustCompile(`/reset-password\?token=([A-Za-z0-9_-]+)`)

// resetToken is the token of the latest reset mail.
func (b *mailbox) resetToken(t *testing.T) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if m := resetLink.FindStringSubmatch(b.msgs[i].Text); m != nil {
			return m[1]
		}
	}
	t.Fatal("no reset mail")
	return ""
}

type raceFixture struct {
	svc   *auth.Service
	store *hookStore
	mail  *mailbox
}

// newRaceFixture is a Service on the real store at dsn, behind a hookStore,
// hashing at cost.
func newRaceFixture(t *testing.T, dsn string, cost int) raceFixture {
	t.Helper()
	st, km := openStoreAndKeys(t, dsn)
	f := raceFixture{store: &hookStore{Store: st}, mail: &mailbox{}}
	cfg := baseConfig()
	cfg.Outbox = f.mail
	var err error
	f.svc, err = auth.New(cfg, f.store, denylist.NewMemory(), km, km, password.NewHasher(cost))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestLoginInFlightLosesToCredentialChange is the audit's scenario: a
// login reads the user with the old password's hash, then a password
// reset (or a change elsewhere, a disable, a sign-out everywhere)
// completes and ends every session, then the login's password check
// passes against what it read. The login must not get a session: it
// answers invalid_credentials, and afterwards the user has no session the
// change did not allow.
func TestLoginInFlightLosesToCredentialChange(t *testing.T) {
	const oldPW, newPW = "correct horse battery", "another horse battery"
	for _, backend := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "authd.db") }},
		{"postgres", func(t *testing.T) string { return testenv.Postgres(t) }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			cases := []struct {
				name string
				// race runs between the login's read and its session; it
				// gets the tokens of a session the user had before.
				race func(t *testing.T, f raceFixture, u store.User, caller auth.Caller)
				// keeps says the caller's earlier session survives.
				keeps bool
			}{
				{"password reset", func(t *testing.T, f raceFixture, u store.User, _ auth.Caller) {
					if err := f.svc.ForgotPassword(context.Background(), u.Email); err != nil {
						t.Fatal(err)
					}
					if err := f.svc.ResetPassword(context.Background(), f.mail.resetToken(t), newPW, auth.Device{}); err != nil {
						t.Fatalf("ResetPassword: %v", err)
					}
				}, false},
				{"password change", func(t *testing.T, f raceFixture, _ store.User, caller auth.Caller) {
					if err := f.svc.ChangePassword(context.Background(), caller, oldPW, newPW); err != nil {
						t.Fatalf("ChangePassword: %v", err)
					}
				}, true},
				{"disable", func(t *testing.T, f raceFixture, u store.User, _ auth.Caller) {
					if err := f.svc.DisableUser(context.Background(), auth.Actor{}, u.ID); err != nil {
						t.Fatalf("DisableUser: %v", err)
					}
				}, false},
				{"logout global", func(t *testing.T, f raceFixture, _ store.User, caller auth.Caller) {
					if err := f.svc.Logout(context.Background(), caller, auth.LogoutGlobal); err != nil {
						t.Fatalf("Logout global: %v", err)
					}
				}, false},
				{"logout others", func(t *testing.T, f raceFixture, _ store.User, caller auth.Caller) {
					if err := f.svc.Logout(context.Background(), caller, auth.LogoutOthers); err != nil {
						t.Fatalf("Logout others: %v", err)
					}
				}, true},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ctx := context.Background()
					f := newRaceFixture(t, backend.dsn(t), bcrypt.MinCost)
					u, err := f.svc.Register(ctx, "nadia@example.com", oldPW, auth.Device{})
					if err != nil {
						t.Fatal(err)
					}
					first, err := f.svc.Login(ctx, u.Email, oldPW, auth.Device{})
					if err != nil {
						t.Fatal(err)
					}
					sessions, err := f.store.ListSessions(ctx, u.ID, time.Now())
					if err != nil || len(sessions) != 1 {
						t.Fatalf("sessions before: %v %v", sessions, err)
					}
					caller := auth.Caller{UserID: u.ID, SessionID: sessions[0].ID, TokenID: "jti", ExpiresAt: time.Now().Add(time.Minute)}

					ran := false
					f.store.after(func(context.Context) { c.race(t, f, u, caller); ran = true })
					tk, err := f.svc.Login(ctx, u.Email, oldPW, auth.Device{})
					if !ran {
						t.Fatal("the race did not run")
					}
					if !errors.Is(err, auth.ErrInvalidCredentials) {
						t.Fatalf("login in flight: tokens %v, err %v; want ErrInvalidCredentials", tk != nil, err)
					}
					live, err := f.store.ListSessions(ctx, u.ID, time.Now())
					if err != nil {
						t.Fatal(err)
					}
					wantLive := 0
					if c.keeps {
						wantLive = 1
					}
					if len(live) != wantLive || (wantLive == 1 && live[0].ID != caller.SessionID) {
						t.Fatalf("live sessions after the race: %+v, want %d (the caller's)", live, wantLive)
					}
					_, err = f.svc.Refresh(ctx, first.RefreshToken, auth.Device{})
					if c.keeps && err != nil {
						t.Errorf("the caller's session no longer refreshes: %v", err)
					}
					if !c.keeps && !errors.Is(err, auth.ErrInvalidGrant) {
						t.Errorf("an ended session refreshes: %v", err)
					}
				})
			}
		})
	}
}

// TestRehashInFlightDoesNotUndoReset: a login that found a low-cost hash
// re-hashes the password it verified. A reset that completes in between
// must stand: the old password must not come back.
func TestRehashInFlightDoesNotUndoReset(t *testing.T) {
	const oldPW, newPW = "correct horse battery", "another horse battery"
	ctx := context.Background()
	f := newRaceFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "authd.db"), 11)
	u, err := f.svc.Register(ctx, "omar@example.com", oldPW, auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	low, _ := bcrypt.GenerateFromPassword([]byte(oldPW), 10)
	if err := f.store.UpdatePasswordHash(ctx, u.ID, string(low)); err != nil {
		t.Fatal(err)
	}
	f.store.after(func(context.Context) {
		if err := f.svc.ForgotPassword(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ResetPassword(ctx, f.mail.resetToken(t), newPW, auth.Device{}); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
	})
	if _, err := f.svc.Login(ctx, u.Email, oldPW, auth.Device{}); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("login in flight: %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.svc.Login(ctx, u.Email, oldPW, auth.Device{}); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("the old password works again after the reset: %v", err)
	}
	if _, err := f.svc.Login(ctx, u.Email, newPW, auth.Device{}); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}
