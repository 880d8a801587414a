package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// newClient creates client id at base() with secret digest "h-"+id.
func newClient(t *testing.T, s Store, id string) store.Client {
	t.Helper()
	c := store.Client{
		ID:         id,
		Name:       "client " + id,
		SecretHash: []byte("h-" + id),
		Scopes:     []string{"read", "write"},
		Audiences:  []string{"https://api.example.com", "urn:billing"},
		CreatedAt:  base(),
		UpdatedAt:  base(),
	}
	wantErr(t, "CreateClient("+id+")", s.CreateClient(ctxT(t), c), nil)
	return c
}

// readClient returns client id, which must exist.
func readClient(t *testing.T, s Store, id string) store.Client {
	t.Helper()
	c, err := s.ClientByID(ctxT(t), id)
	wantErr(t, "ClientByID("+id+")", err, nil)
	return c
}

func testClients(t *testing.T, s Store) {
	ctx := ctxT(t)
	cases := []struct {
		name string
		in   store.Client
		want store.Client // zero times: set by the store, checked apart
	}{
		{
			name: "every field",
			in: store.Client{
				ID: "c1", Name: "Billing worker", SecretHash: []byte{0, 1, 2, 0xff},
				PrevSecretHash: []byte{9, 9}, PrevSecretExpiresAt: base().Add(time.Hour + 1500),
				Scopes: []string{"billing:read", "billing:write"}, Audiences: []string{"urn:billing", "https://api.example.com/x"},
				Disabled: true, CreatedAt: base(), UpdatedAt: base().Add(time.Second), LastUsedAt: base().Add(time.Minute),
			},
			want: store.Client{
				ID: "c1", Name: "Billing worker", SecretHash: []byte{0, 1, 2, 0xff},
				PrevSecretHash: []byte{9, 9}, PrevSecretExpiresAt: base().Add(time.Hour + 1000),
				Scopes: []string{"billing:read", "billing:write"}, Audiences: []string{"urn:billing", "https://api.example.com/x"},
				Disabled: true, CreatedAt: base(), UpdatedAt: base().Add(time.Second), LastUsedAt: base().Add(time.Minute),
			},
		},
		{
			name: "defaults",
			in:   store.Client{ID: "c2", SecretHash: []byte("digest")},
			want: store.Client{ID: "c2", SecretHash: []byte("digest"), Scopes: []string{}, Audiences: []string{}},
		},
		{
			name: "order of audiences kept",
			in: store.Client{ID: "c3", SecretHash: []byte("d"), Scopes: []string{"b", "a"},
				Audiences: []string{"urn:z", "urn:a"}, CreatedAt: base(), UpdatedAt: base()},
			want: store.Client{ID: "c3", SecretHash: []byte("d"), Scopes: []string{"b", "a"},
				Audiences: []string{"urn:z", "urn:a"}, CreatedAt: base(), UpdatedAt: base()},
		},
		{
			name: "previous hash without expiry",
			in:   store.Client{ID: "c4", SecretHash: []byte("d"), PrevSecretHash: []byte("p"), CreatedAt: base(), UpdatedAt: base()},
			want: store.Client{ID: "c4", SecretHash: []byte("d"), PrevSecretHash: []byte("p"), Scopes: []string{},
				Audiences: []string{}, CreatedAt: base(), UpdatedAt: base()},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, "CreateClient", s.CreateClient(ctx, c.in), nil)
			got := readClient(t, s, c.in.ID)
			if got.Scopes == nil || got.Audiences == nil {
				t.Errorf("Scopes %#v, Audiences %#v: want non-nil", got.Scopes, got.Audiences)
			}
			if c.want.CreatedAt.IsZero() {
				if got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
					t.Errorf("CreatedAt %v, UpdatedAt %v: want set, and equal", got.CreatedAt, got.UpdatedAt)
				}
				c.want.CreatedAt, c.want.UpdatedAt = got.CreatedAt, got.UpdatedAt
			}
			same(t, "ClientByID", got, c.want)
		})
	}
}

func testClientErrors(t *testing.T, s Store) {
	ctx := ctxT(t)
	newClient(t, s, "c1")
	cases := []struct {
		name     string
		client   store.Client
		sentinel error // nil: refused as invalid, matching no sentinel
	}{
		{"taken id", store.Client{ID: "c1", SecretHash: []byte("other")}, store.ErrAlreadyExists},
		{"no id", store.Client{SecretHash: []byte("d")}, nil},
		{"no secret", store.Client{ID: "c2"}, nil},
		{"scope with a space", store.Client{ID: "c3", SecretHash: []byte("d"), Scopes: []string{"read write"}}, nil},
		{"empty scope", store.Client{ID: "c4", SecretHash: []byte("d"), Scopes: []string{"read", ""}}, nil},
		{"audience with a tab", store.Client{ID: "c5", SecretHash: []byte("d"), Audiences: []string{"urn:a\tb"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.CreateClient(ctx, c.client)
			if c.sentinel != nil {
				wantErr(t, "CreateClient", err, c.sentinel)
			} else if err == nil || errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("CreateClient: %v, want an invalid-argument error", err)
			}
			if c.client.ID != "" && c.client.ID != "c1" {
				if _, err := s.ClientByID(ctx, c.client.ID); !isNotFound(err) {
					t.Fatalf("ClientByID after a refused create: %v, want ErrNotFound", err)
				}
			}
		})
	}
	if got := readClient(t, s, "c1"); string(got.SecretHash) != "h-c1" {
		t.Errorf("a refused duplicate changed the client: secret %q", got.SecretHash)
	}
	_, err := s.ClientByID(ctx, "nobody")
	wantErr(t, "ClientByID(nobody)", err, store.ErrNotFound)
}

func testListClients(t *testing.T, s Store) {
	ctx := ctxT(t)
	got, err := s.ListClients(ctx)
	wantErr(t, "ListClients (none)", err, nil)
	if len(got) != 0 {
		t.Fatalf("ListClients on an empty store = %d clients", len(got))
	}
	// Created out of order: the list is by CreatedAt, then ID.
	for _, c := range []struct {
		id string
		at time.Duration
	}{{"c", 2 * time.Second}, {"a", 3 * time.Second}, {"d", time.Second}, {"b", 2 * time.Second}} {
		err := s.CreateClient(ctx, store.Client{ID: c.id, SecretHash: []byte("d"), CreatedAt: base().Add(c.at)})
		wantErr(t, "CreateClient", err, nil)
	}
	got, err = s.ListClients(ctx)
	wantErr(t, "ListClients", err, nil)
	var order []string
	for _, c := range got {
		order = append(order, c.ID)
		same(t, "listed client "+c.ID, c, readClient(t, s, c.ID))
	}
	if want := []string{"d", "b", "c", "a"}; !slices.Equal(order, want) {
		t.Fatalf("ListClients order = %v, want %v (oldest first, ties by id)", order, want)
	}
}

func testRotateClientSecret(t *testing.T, s Store) {
	ctx := ctxT(t)
	newClient(t, s, "c1")
	newClient(t, s, "c2")
	t1, t2, t3 := base().Add(time.Hour), base().Add(2*time.Hour), base().Add(3*time.Hour)
	steps := []struct {
		name        string
		r           store.SecretRotation
		wantSecret  string
		wantPrev    string // "": none
		wantExpires time.Time
	}{
		{"first rotation keeps the old secret", store.SecretRotation{ClientID: "c1", NewHash: []byte("s1"), PrevExpiresAt: t1.Add(time.Hour), At: t1},
			"s1", "h-c1", t1.Add(time.Hour)},
		{"second rotation drops the first previous", store.SecretRotation{ClientID: "c1", NewHash: []byte("s2"), PrevExpiresAt: t2.Add(time.Minute), At: t2},
			"s2", "s1", t2.Add(time.Minute)},
		{"zero expiry ends the old secret at once", store.SecretRotation{ClientID: "c1", NewHash: []byte("s3"), At: t3},
			"s3", "", time.Time{}},
		{"expiry not after At ends it too", store.SecretRotation{ClientID: "c1", NewHash: []byte("s4"), PrevExpiresAt: t3, At: t3},
			"s4", "", time.Time{}},
		{"grace again after none", store.SecretRotation{ClientID: "c1", NewHash: []byte("s5"), PrevExpiresAt: t3.Add(time.Hour), At: t3},
			"s5", "s4", t3.Add(time.Hour)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantErr(t, "RotateClientSecret", s.RotateClientSecret(ctx, st.r), nil)
			got := readClient(t, s, "c1")
			if string(got.SecretHash) != st.wantSecret {
				t.Errorf("SecretHash = %q, want %q", got.SecretHash, st.wantSecret)
			}
			if string(got.PrevSecretHash) != st.wantPrev || (st.wantPrev == "" && got.PrevSecretHash != nil) {
				t.Errorf("PrevSecretHash = %#v, want %q", got.PrevSecretHash, st.wantPrev)
			}
			same(t, "PrevSecretExpiresAt", got.PrevSecretExpiresAt, st.wantExpires)
			same(t, "UpdatedAt", got.UpdatedAt, st.r.At)
			same(t, "CreatedAt", got.CreatedAt, base())
		})
	}
	other := readClient(t, s, "c2")
	if string(other.SecretHash) != "h-c2" || other.PrevSecretHash != nil {
		t.Errorf("c2 changed by c1's rotations: %+v", other)
	}
	err := s.RotateClientSecret(ctx, store.SecretRotation{ClientID: "nobody", NewHash: []byte("x"), At: t3})
	wantErr(t, "RotateClientSecret(nobody)", err, store.ErrNotFound)
	if err := s.RotateClientSecret(ctx, store.SecretRotation{ClientID: "c1", At: t3}); err == nil || isNotFound(err) {
		t.Errorf("rotation without a new hash: %v, want an invalid-argument error", err)
	}
}

func testSetClientDisabled(t *testing.T, s Store) {
	ctx := ctxT(t)
	newClient(t, s, "c1")
	newClient(t, s, "c2")
	steps := []struct {
		name     string
		disabled bool
		at       time.Time
	}{
		{"disable", true, base().Add(time.Minute)},
		{"disable again", true, base().Add(2 * time.Minute)},
		{"enable", false, base().Add(3 * time.Minute)},
		{"enable again", false, base().Add(4 * time.Minute)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantErr(t, "SetClientDisabled", s.SetClientDisabled(ctx, "c1", st.disabled, st.at), nil)
			got := readClient(t, s, "c1")
			if got.Disabled != st.disabled {
				t.Errorf("Disabled = %v, want %v", got.Disabled, st.disabled)
			}
			same(t, "UpdatedAt", got.UpdatedAt, st.at)
			if string(got.SecretHash) != "h-c1" {
				t.Errorf("SecretHash changed: %q", got.SecretHash)
			}
		})
	}
	if readClient(t, s, "c2").Disabled {
		t.Error("disabling c1 disabled c2")
	}
	wantErr(t, "SetClientDisabled(nobody)", s.SetClientDisabled(ctx, "nobody", true, base()), store.ErrNotFound)
}

func testDeleteClient(t *testing.T, s Store) {
	ctx := ctxT(t)
	newClient(t, s, "c1")
	newClient(t, s, "c2")
	wantErr(t, "DeleteClient", s.DeleteClient(ctx, "c1"), nil)
	_, err := s.ClientByID(ctx, "c1")
	wantErr(t, "ClientByID after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteClient again", s.DeleteClient(ctx, "c1"), store.ErrNotFound)
	wantErr(t, "DeleteClient(nobody)", s.DeleteClient(ctx, "nobody"), store.ErrNotFound)
	for _, call := range []struct {
		name string
		err  error
	}{
		{"RotateClientSecret", s.RotateClientSecret(ctx, store.SecretRotation{ClientID: "c1", NewHash: []byte("x"), At: base()})},
		{"SetClientDisabled", s.SetClientDisabled(ctx, "c1", true, base())},
	} {
		wantErr(t, call.name+" of a deleted client", call.err, store.ErrNotFound)
	}
	wantErr(t, "TouchClient of a deleted client", s.TouchClient(ctx, "c1", base()), nil)
	list, err := s.ListClients(ctx)
	wantErr(t, "ListClients", err, nil)
	if len(list) != 1 || list[0].ID != "c2" {
		t.Fatalf("ListClients after delete = %+v, want c2 alone", list)
	}
	// The id is free again.
	newClient(t, s, "c1")
}

func testTouchClient(t *testing.T, s Store) {
	ctx := ctxT(t)
	newClient(t, s, "c1")
	newClient(t, s, "c2")
	if got := readClient(t, s, "c1"); !got.LastUsedAt.IsZero() {
		t.Fatalf("LastUsedAt of a new client = %v, want zero", got.LastUsedAt)
	}
	t1 := base().Add(time.Hour + 1500)
	steps := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"first use", t1, t1.Truncate(time.Microsecond)},
		{"later use moves it", t1.Add(time.Minute), t1.Add(time.Minute).Truncate(time.Microsecond)},
		{"an earlier use does not move it back", t1, t1.Add(time.Minute).Truncate(time.Microsecond)},
		{"same time again", t1.Add(time.Minute), t1.Add(time.Minute).Truncate(time.Microsecond)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantErr(t, "TouchClient", s.TouchClient(ctx, "c1", st.at), nil)
			got := readClient(t, s, "c1")
			same(t, "LastUsedAt", got.LastUsedAt, st.want)
			same(t, "UpdatedAt (a use is no change of the client)", got.UpdatedAt, base())
		})
	}
	if got := readClient(t, s, "c2"); !got.LastUsedAt.IsZero() {
		t.Errorf("touching c1 touched c2: %v", got.LastUsedAt)
	}
	wantErr(t, "TouchClient(nobody)", s.TouchClient(ctx, "nobody", t1), nil)
	if _, err := s.ClientByID(ctx, "nobody"); !isNotFound(err) {
		t.Errorf("TouchClient created a client: %v", err)
	}
}
