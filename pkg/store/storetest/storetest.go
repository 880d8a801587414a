// Package storetest is the conformance suite of Store: every backend's
// tests call Run, so that all backends keep the same behaviour, including
// under concurrency.
//
// It is test support, not production code: it imports "testing" and expects
// a fresh, migrated, empty store from newStore for each case.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// Store is the store under test: a store.Store that also reads a session
// by id, revoked or not (store.ErrNotFound when there is none), so that the
// suite can check what a call left behind. The service has no use for that
// read, so it is not part of store.Store; a backend's test file adds it.
// It is the audit log too, since DeleteUser erases the personal data of
// the user's audit events and the suite checks that.
type Store interface {
	store.Store
	store.AuditLog
	Session(ctx context.Context, id string) (store.Session, error)
}

// Run runs the conformance suite against the stores newStore returns. It
// calls newStore once per case; each store must be empty and migrated, and
// newStore should close it when t ends.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"Ping", testPing},
		{"CreateAndReadUser", testCreateAndReadUser},
		{"UserDefaults", testUserDefaults},
		{"UserUniqueness", testUserUniqueness},
		{"UserNotFound", testUserNotFound},
		{"Roles", testRoles},
		{"InvalidRoles", testInvalidRoles},
		{"UpdatePasswordHash", testUpdatePasswordHash},
		{"CreateAndReadSession", testCreateAndReadSession},
		{"SessionErrors", testSessionErrors},
		{"ListSessions", testListSessions},
		{"RevokeSession", testRevokeSession},
		{"RevokeUserSessions", testRevokeUserSessions},
		{"RotateRefresh", testRotateRefresh},
		{"RotateRefreshReplayDoesNotRotate", testReplayDoesNotRotate},
		{"RotateRefreshReuseRevokesFamily", testReuseRevokesFamily},
		{"RotateRefreshChain", testRotateChain},
		{"RotateRefreshConcurrentNoGrace", testConcurrentRotateNoGrace},
		{"RotateRefreshConcurrentGrace", testConcurrentRotateGrace},
		{"CredentialVersion", testCredentialVersion},
		{"CreateSessionAfterCredentialChange", testCreateSessionAfterCredentialChange},
		{"RotateAfterCredentialChange", testRotateAfterCredentialChange},
		{"ConcurrentLoginsAndReset", testConcurrentLoginsAndReset},
		{"OneTimeTokenConsume", testOneTimeTokenConsume},
		{"OneTimeTokenExpiry", testOneTimeTokenExpiry},
		{"OneTimeTokenSupersede", testOneTimeTokenSupersede},
		{"OneTimeTokenErrors", testOneTimeTokenErrors},
		{"OneTimeTokenConcurrentConsume", testOneTimeTokenConcurrentConsume},
		{"SetEmailVerified", testSetEmailVerified},
		{"SetUserDisabled", testSetUserDisabled},
		{"SigningKeys", testSigningKeys},
		{"RetireSigningKeys", testRetireSigningKeys},
		{"RevokeSigningKey", testRevokeSigningKey},
		{"AdvisoryLockExclusion", testAdvisoryLockExclusion},
		{"AdvisoryLockBehaviour", testAdvisoryLockBehaviour},
		{"TimePrecision", testTimePrecision},
		{"TOTPLifecycle", testTOTPLifecycle},
		{"TOTPConcurrentStep", testTOTPConcurrentStep},
		{"RecoveryCodes", testRecoveryCodes},
		{"MFAChallenges", testMFAChallenges},
		{"MFAGoesWithUser", testMFAGoesWithUser},
		{"SessionAuthentication", testSessionAuthentication},
		{"Clients", testClients},
		{"ClientErrors", testClientErrors},
		{"ListClients", testListClients},
		{"RotateClientSecret", testRotateClientSecret},
		{"SetClientDisabled", testSetClientDisabled},
		{"DeleteClient", testDeleteClient},
		{"TouchClient", testTouchClient},
		{"LastLoginAt", testLastLoginAt},
		{"ListUsersPagination", testListUsersPagination},
		{"ListUsersConcurrentCreates", testListUsersConcurrentCreates},
		{"ListUsersFilters", testListUsersFilters},
		{"ListUsersLimit", testListUsersLimit},
		{"DeleteUser", testDeleteUser},
		{"RevocationsRecordAndList", testRevocationsRecordAndList},
		{"RevocationsInvalid", testRevocationsInvalid},
		{"RevocationsPurge", testRevocationsPurge},
		{"RevocationsConcurrentIDs", testRevocationsConcurrentIDs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// base is the suite's fixed "now": microsecond precision on purpose, so that
// every case also checks that backends keep it.
func base() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC) }

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testPing(t *testing.T, s Store) {
	if err := s.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// newUser creates a user with the given id and roles.
func newUser(t *testing.T, s Store, id string, roles ...string) store.User {
	t.Helper()
	u, err := s.CreateUser(ctxT(t), store.User{
		ID:           id,
		Email:        id + "@example.com",
		PasswordHash: "hash-" + id,
		Roles:        roles,
		CreatedAt:    base(),
		UpdatedAt:    base(),
	})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", id, err)
	}
	return u
}

// newSession starts a session of userID issued at iat, expiring ttl later,
// with refresh jti id+"-j0".
func newSession(t *testing.T, s Store, id, userID string, iat time.Time, ttl time.Duration) store.Session {
	t.Helper()
	sess, err := s.CreateSession(ctxT(t), store.NewSession{
		ID:              id,
		UserID:          userID,
		ClientID:        "web",
		UserAgent:       "ua-login",
		IP:              "192.0.2.1",
		RefreshJTI:      id + "-j0",
		RefreshIssuedAt: iat,
		ExpiresAt:       iat.Add(ttl),
	})
	if err != nil {
		t.Fatalf("CreateSession(%s): %v", id, err)
	}
	return sess
}

// wantErr fails t unless err matches want (nil: no error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// same fails t when got and want differ, comparing times with Equal.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := normalize(got), normalize(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

// normalize returns v with every time.Time field in UTC (and nil slices of
// roles made empty) so that reflect.DeepEqual compares instants.
func normalize(v any) any {
	switch x := v.(type) {
	case store.User:
		x.CreatedAt, x.UpdatedAt, x.LastLoginAt = x.CreatedAt.UTC(), x.UpdatedAt.UTC(), x.LastLoginAt.UTC()
		if x.Roles == nil {
			x.Roles = []string{}
		}
		return x
	case store.Session:
		for _, p := range []*time.Time{&x.RefreshIssuedAt, &x.ExpiresAt, &x.RotatedAt, &x.CreatedAt, &x.LastRefreshedAt, &x.RevokedAt} {
			*p = p.UTC()
		}
		return x
	case store.SigningKey:
		for _, p := range []*time.Time{&x.CreatedAt, &x.ActivatesAt, &x.RetiredAt, &x.ExpiresAt} {
			*p = p.UTC()
		}
		return x
	case []store.Session:
		return normalizeAll(x)
	case store.Client:
		for _, p := range []*time.Time{&x.PrevSecretExpiresAt, &x.CreatedAt, &x.UpdatedAt, &x.LastUsedAt} {
			*p = p.UTC()
		}
		return x
	case []store.Client:
		return normalizeAll(x)
	case []store.SigningKey:
		return normalizeAll(x)
	case time.Time:
		return x.UTC()
	}
	return v
}

// normalizeAll normalizes every element of xs; nil and empty compare
// equal.
func normalizeAll[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i := range xs {
		out[i] = normalize(xs[i])
	}
	return out
}

// ids returns the IDs of sessions, in order.
func ids(ss []store.Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func jti(sessionID string, n int) string { return fmt.Sprintf("%s-j%d", sessionID, n) }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
