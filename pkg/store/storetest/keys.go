package storetest

import (
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

func signingKey(id string, created time.Time) store.SigningKey {
	return store.SigningKey{
		ID:               id,
		Algorithm:        "ES256",
		PublicKey:        []byte("public-" + id + "\x00\xff"),
		SealedPrivateKey: []byte("sealed-" + id + "\x00\x01\xfe"),
		CreatedAt:        created,
		ActivatesAt:      created.Add(time.Hour),
	}
}

func testSigningKeys(t *testing.T, s Store) {
	ctx := ctxT(t)
	k1 := signingKey("k1", base())
	k2 := signingKey("k2", base().Add(24*time.Hour))
	k3 := signingKey("k3", base().Add(48*time.Hour))
	k2.Algorithm = "EdDSA"
	old := signingKey("k0", base().Add(-72*time.Hour))
	old.RetiredAt, old.ExpiresAt = base().Add(-48*time.Hour), base().Add(-time.Hour)
	// Inserted out of order: the listing must sort by age, not insertion.
	for _, k := range []store.SigningKey{k3, old, k1, k2} {
		wantErr(t, "CreateSigningKey "+k.ID, s.CreateSigningKey(ctx, k), nil)
	}
	wantErr(t, "duplicate id", s.CreateSigningKey(ctx, signingKey("k2", base())), store.ErrAlreadyExists)

	got, err := s.SigningKeys(ctx, base())
	wantErr(t, "SigningKeys", err, nil)
	same(t, "SigningKeys (expired one left out, oldest first)", got, []store.SigningKey{k1, k2, k3})

	all, err := s.SigningKeys(ctx, base().Add(-2*time.Hour))
	wantErr(t, "SigningKeys earlier", err, nil)
	same(t, "SigningKeys before k0 expired", all, []store.SigningKey{old, k1, k2, k3})
}

func testRetireSigningKeys(t *testing.T, s Store) {
	ctx := ctxT(t)
	keys := []store.SigningKey{signingKey("k1", base()), signingKey("k2", base().Add(time.Hour)), signingKey("k3", base().Add(2*time.Hour))}
	keys[0].RetiredAt, keys[0].ExpiresAt = base().Add(time.Minute), base().Add(48*time.Hour) // retired earlier
	for _, k := range keys {
		wantErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, k), nil)
	}
	at, exp := base().Add(3*time.Hour), base().Add(27*time.Hour)
	wantErr(t, "RetireSigningKeys", s.RetireSigningKeys(ctx, "k3", at, exp), nil)

	want := []store.SigningKey{keys[0], keys[1], keys[2]}
	want[1].RetiredAt, want[1].ExpiresAt = at, exp // k1 keeps its own times, k3 is kept
	cases := []struct {
		name string
		now  time.Time
		want []store.SigningKey
	}{
		{"just after retiring", at, want},
		{"at k2 expiry", exp, []store.SigningKey{want[0], want[2]}},
		{"after k1 expiry", base().Add(48 * time.Hour), []store.SigningKey{want[2]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.SigningKeys(ctx, c.now)
			wantErr(t, "SigningKeys", err, nil)
			same(t, "SigningKeys", got, c.want)
		})
	}
}

func testRevokeSigningKey(t *testing.T, s Store) {
	ctx := ctxT(t)
	k1, k2 := signingKey("k1", base()), signingKey("k2", base().Add(time.Hour))
	for _, k := range []store.SigningKey{k1, k2} {
		wantErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, k), nil)
	}
	first, later := base().Add(2*time.Hour), base().Add(3*time.Hour)
	wantErr(t, "RevokeSigningKey", s.RevokeSigningKey(ctx, "k1", first), nil)
	// Idempotent, and the first time stays.
	wantErr(t, "RevokeSigningKey again", s.RevokeSigningKey(ctx, "k1", later), nil)
	wantErr(t, "RevokeSigningKey unknown", s.RevokeSigningKey(ctx, "nope", first), store.ErrNotFound)

	want := []store.SigningKey{k1, k2}
	want[0].RevokedAt = first
	got, err := s.SigningKeys(ctx, base())
	wantErr(t, "SigningKeys", err, nil)
	same(t, "SigningKeys (revoked key still listed, with its time)", got, want)

	// Retiring keeps the revocation; a revoked key leaves the listing at
	// its expiry like any other.
	at, exp := base().Add(4*time.Hour), base().Add(5*time.Hour)
	wantErr(t, "RetireSigningKeys", s.RetireSigningKeys(ctx, "k2", at, exp), nil)
	want[0].RetiredAt, want[0].ExpiresAt = at, exp
	got, err = s.SigningKeys(ctx, at)
	wantErr(t, "SigningKeys after retiring", err, nil)
	same(t, "SigningKeys after retiring", got, want)
	got, err = s.SigningKeys(ctx, exp)
	wantErr(t, "SigningKeys at expiry", err, nil)
	same(t, "SigningKeys at expiry", got, want[1:])
}
