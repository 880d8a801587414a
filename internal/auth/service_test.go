package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store/sqlstore"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// fixture is a Service on a real SQLite store and key ring.
type fixture struct {
	svc   *auth.Service
	store *sqlstore.Store
	keys  *keys.Manager
}

func newFixture(t testing.TB, dl denylist.Denylist, cost int, opts ...func(*auth.Config)) fixture {
	t.Helper()
	return newFixtureOn(t, "sqlite://"+filepath.Join(t.TempDir(), "authd.db"), dl, cost, opts...)
}

// newFixtureOn is newFixture on the store at dsn; opts adjust the config.
func newFixtureOn(t testing.TB, dsn string, dl denylist.Denylist, cost int, opts ...func(*auth.Config)) fixture {
	t.Helper()
	st, km := openStoreAndKeys(t, dsn)
	cfg := baseConfig()
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := auth.New(cfg, st, dl, km, km, password.NewHasher(cost))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, store: st, keys: km}
}

// openStoreAndKeys opens and migrates the store at dsn and gives it a key
// ring with a signing key.
func openStoreAndKeys(t testing.TB, dsn string) (*sqlstore.Store, *keys.Manager) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	km, err := keys.New(st, keys.Config{Algorithm: "ES256", MasterKey: make([]byte, 32), MaxTokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	return st, km
}

// baseConfig is the service configuration the tests start from.
func baseConfig() auth.Config {
	return auth.Config{
		Issuer: "https://auth.example", Audience: "api", ClientID: "authd",
		AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, RefreshReuseGrace: 10 * time.Second, Leeway: 5 * time.Second,
	}
}

// A logout whose denylist write fails must say so (503), never succeed.
func TestLogoutReportsUnavailableDenylist(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	f := newFixture(t, denylist.NewRedis(down), 10)
	ctx := context.Background()
	u, err := f.svc.Register(ctx, "a@example.com", "correct horse battery", auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, "a@example.com", "correct horse battery", auth.Device{}); err != nil {
		t.Fatal(err)
	}
	sessions, err := f.store.ListSessions(ctx, u.ID, time.Now())
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions: %v %v", sessions, err)
	}
	for _, scope := range []auth.LogoutScope{auth.LogoutLocal, auth.LogoutOthers, auth.LogoutGlobal} {
		err := f.svc.Logout(ctx, auth.Caller{UserID: u.ID, SessionID: sessions[0].ID, TokenID: "jti", ExpiresAt: time.Now().Add(time.Minute)}, scope)
		if scope == auth.LogoutOthers {
			// No other session exists, so nothing needs denylisting.
			if err != nil {
				t.Fatalf("others with nothing to revoke: %v", err)
			}
			continue
		}
		if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, denylist.ErrUnavailable) {
			t.Fatalf("%s: err = %v, want ErrUnavailable wrapping the denylist's", scope, err)
		}
	}
}

func TestLoginUpgradesLowCostHash(t *testing.T) {
	f := newFixture(t, denylist.NewMemory(), 11)
	ctx := context.Background()
	u, err := f.svc.Register(ctx, "b@example.com", "correct horse battery", auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := bcrypt.GenerateFromPassword([]byte("correct horse battery"), 10)
	if err := f.store.UpdatePasswordHash(ctx, u.ID, string(old)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, "b@example.com", "correct horse battery", auth.Device{}); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cost, _ := bcrypt.Cost([]byte(got.PasswordHash)); cost != 11 {
		t.Fatalf("hash cost after login = %d, want 11", cost)
	}
}

// Benchmarks comparing login cost for an unknown email and a wrong
// password: both must cost one bcrypt compare at the configured cost.
func benchmarkLogin(b *testing.B, email string) {
	f := newFixture(b, denylist.NewMemory(), 12)
	ctx := context.Background()
	if _, err := f.svc.Register(ctx, "known@example.com", "correct horse battery", auth.Device{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_, _ = f.svc.Login(ctx, email, "wrong horse battery", auth.Device{})
	}
}

func BenchmarkLoginWrongPasswordCost12(b *testing.B) { benchmarkLogin(b, "known@example.com") }
func BenchmarkLoginUnknownEmailCost12(b *testing.B)  { benchmarkLogin(b, "unknown@example.com") }

func BenchmarkLoginSuccessCost12(b *testing.B) {
	f := newFixture(b, denylist.NewMemory(), 12)
	ctx := context.Background()
	if _, err := f.svc.Register(ctx, "known@example.com", "correct horse battery", auth.Device{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.svc.Login(ctx, "known@example.com", "correct horse battery", auth.Device{}); err != nil {
			b.Fatal(err)
		}
	}
}
