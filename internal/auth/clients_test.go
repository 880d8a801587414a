package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/ratelimittest"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
)

// clientFixture is a Service on SQLite with a test clock, an in-process
// denylist on that clock, an event recorder, and a verifier of its access
// tokens as a resource server would build it.
type clientFixture struct {
	fixture
	clk    *ratelimittest.Clock
	dl     *denylist.Memory
	events *recorder
}

func newClientFixture(t *testing.T, opts ...func(*auth.Config)) clientFixture {
	t.Helper()
	clk := ratelimittest.NewClock()
	dl := denylist.NewMemory(denylist.WithClock(clk.Now))
	rec := &recorder{}
	f := newFixture(t, dl, 10, append([]func(*auth.Config){func(c *auth.Config) {
		c.Clock, c.Events = clk.Now, rec
	}}, opts...)...)
	return clientFixture{fixture: f, clk: clk, dl: dl, events: rec}
}

// verify checks raw as a resource server of audience aud would.
func (f clientFixture) verify(t *testing.T, raw string, aud ...string) (*middleware.Claims, error) {
	t.Helper()
	v, err := middleware.NewVerifier(middleware.WithIssuer("https://auth.example"), middleware.WithAudience(aud...),
		middleware.WithKeySet(f.keys), middleware.WithRevocation(f.dl, middleware.FailClosed),
		middleware.WithMaxTokenLifetime(15*time.Minute), middleware.WithClock(f.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	return v.Verify(context.Background(), raw)
}

var admin = auth.Actor{UserID: "00000000-0000-4000-8000-000000000001", Device: auth.Device{IP: "192.0.2.9", UserAgent: "test"}}

func (f clientFixture) create(t *testing.T, nc auth.NewClient) auth.ClientSecret {
	t.Helper()
	cs, err := f.svc.CreateClient(context.Background(), admin, nc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func basic(id, secret string) auth.ClientCredentials {
	return auth.ClientCredentials{ID: id, Secret: secret, RawID: id, RawSecret: secret, Method: auth.AuthMethodBasic}
}

func grant(f clientFixture, cc auth.ClientCredentials, mod ...func(*auth.TokenRequest)) (*auth.Tokens, error) {
	r := auth.TokenRequest{GrantType: "client_credentials", Client: cc, Device: auth.Device{IP: "198.51.100.7"}}
	for _, m := range mod {
		m(&r)
	}
	return f.svc.Token(context.Background(), r)
}

func TestCreateClientValidates(t *testing.T) {
	f := newClientFixture(t)
	long := strings.Repeat("a", 65)
	tests := []struct {
		name string
		nc   auth.NewClient
		ok   bool
	}{
		{"plain", auth.NewClient{Name: "billing", Scopes: []string{"read", "write"}}, true},
		{"no scopes", auth.NewClient{Name: "billing"}, true},
		{"colon and slash scopes", auth.NewClient{Name: "b", Scopes: []string{"authd:introspect", "api/read"}}, true},
		{"empty name", auth.NewClient{Name: ""}, false},
		{"control in name", auth.NewClient{Name: "a\nb"}, false},
		{"long name", auth.NewClient{Name: strings.Repeat("n", 101)}, false},
		{"space in scope", auth.NewClient{Name: "b", Scopes: []string{"a b"}}, false},
		{"quote in scope", auth.NewClient{Name: "b", Scopes: []string{`a"`}}, false},
		{"backslash in scope", auth.NewClient{Name: "b", Scopes: []string{`a\`}}, false},
		{"non-ASCII scope", auth.NewClient{Name: "b", Scopes: []string{"lesen-ä"}}, false},
		{"empty scope", auth.NewClient{Name: "b", Scopes: []string{""}}, false},
		{"long scope", auth.NewClient{Name: "b", Scopes: []string{long}}, false},
		{"too many scopes", auth.NewClient{Name: "b", Scopes: numbered("s", 33)}, false},
		{"empty audience", auth.NewClient{Name: "b", Audiences: []string{""}}, false},
		{"space in audience", auth.NewClient{Name: "b", Audiences: []string{"a b"}}, false},
		{"long audience", auth.NewClient{Name: "b", Audiences: []string{strings.Repeat("x", 256)}}, false},
		{"too many audiences", auth.NewClient{Name: "b", Audiences: numbered("https://a", 17)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := f.svc.CreateClient(context.Background(), admin, tt.nc)
			if !tt.ok {
				if !errors.Is(err, auth.ErrInvalidRequest) {
					t.Fatalf("err = %v, want ErrInvalidRequest", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !auth.IsClientID(cs.Client.ID) || len(cs.Secret) != 43 {
				t.Fatalf("id %q secret length %d", cs.Client.ID, len(cs.Secret))
			}
		})
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strings.Repeat("x", i+1)
	}
	return out
}

// A client without audiences gets the configured one; its id is not a
// UUID and two clients get different ids and secrets; the store keeps no
// secret; creation is audited with the actor.
func TestCreateClientDefaultsAndAudit(t *testing.T) {
	f := newClientFixture(t)
	a := f.create(t, auth.NewClient{Name: "one"})
	b := f.create(t, auth.NewClient{Name: "two"})
	if !slices.Equal(a.Client.Audiences, []string{"api"}) || len(a.Client.Scopes) != 0 {
		t.Fatalf("defaults: %+v", a.Client)
	}
	if a.Client.ID == b.Client.ID || a.Secret == b.Secret || !strings.HasPrefix(a.Client.ID, "svc_") {
		t.Fatalf("ids %q %q", a.Client.ID, b.Client.ID)
	}
	stored, err := f.store.ClientByID(context.Background(), a.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored.SecretHash), a.Secret) || len(stored.SecretHash) != 32 {
		t.Fatalf("stored secret hash has length %d", len(stored.SecretHash))
	}
	ev := f.events.last(t)
	if ev.Type != auth.EventClientCreated || ev.UserID != b.Client.ID || ev.ActorID != admin.UserID || ev.IP != admin.Device.IP {
		t.Fatalf("event %+v", ev)
	}
}

func TestClientCredentialsGrant(t *testing.T) {
	f := newClientFixture(t)
	cs := f.create(t, auth.NewClient{Name: "billing", Scopes: []string{"read", "write", "admin:x"},
		Audiences: []string{"https://billing.example", "api"}})
	id, secret := cs.Client.ID, cs.Secret
	tests := []struct {
		name      string
		cc        auth.ClientCredentials
		mod       func(*auth.TokenRequest)
		wantErr   error
		wantScope string
		wantAud   string
	}{
		{name: "defaults", cc: basic(id, secret), wantScope: "read write admin:x", wantAud: "https://billing.example"},
		{name: "post", cc: auth.ClientCredentials{ID: id, Secret: secret, RawID: id, RawSecret: secret, Method: auth.AuthMethodPost},
			wantScope: "read write admin:x", wantAud: "https://billing.example"},
		{name: "subset of scopes", cc: basic(id, secret), mod: func(r *auth.TokenRequest) { r.Scope = "write  read write" },
			wantScope: "write read", wantAud: "https://billing.example"},
		{name: "audience", cc: basic(id, secret), mod: func(r *auth.TokenRequest) { r.Audiences = []string{"api"} },
			wantScope: "read write admin:x", wantAud: "api"},
		{name: "resource", cc: basic(id, secret), mod: func(r *auth.TokenRequest) { r.Resources = []string{"api"} },
			wantScope: "read write admin:x", wantAud: "api"},
		{name: "audience equals resource", cc: basic(id, secret),
			mod:       func(r *auth.TokenRequest) { r.Resources, r.Audiences = []string{"api"}, []string{"api"} },
			wantScope: "read write admin:x", wantAud: "api"},
		{name: "same resource twice", cc: basic(id, secret),
			mod:       func(r *auth.TokenRequest) { r.Resources = []string{"api", "api"} },
			wantScope: "read write admin:x", wantAud: "api"},
		{name: "raw spelling only matches", cc: auth.ClientCredentials{ID: "x", Secret: "y", RawID: id, RawSecret: secret, Method: auth.AuthMethodBasic},
			wantScope: "read write admin:x", wantAud: "https://billing.example"},
		{name: "scope not allowed", cc: basic(id, secret), mod: func(r *auth.TokenRequest) { r.Scope = "read delete" }, wantErr: auth.ErrInvalidScope},
		{name: "audience not allowed", cc: basic(id, secret), mod: func(r *auth.TokenRequest) { r.Audiences = []string{"https://other"} }, wantErr: auth.ErrInvalidTarget},
		{name: "two resources", cc: basic(id, secret), mod: func(r *auth.TokenRequest) { r.Resources = []string{"api", "https://billing.example"} }, wantErr: auth.ErrInvalidTarget},
		{name: "audience differs from resource", cc: basic(id, secret),
			mod: func(r *auth.TokenRequest) {
				r.Resources, r.Audiences = []string{"api"}, []string{"https://billing.example"}
			}, wantErr: auth.ErrInvalidRequest},
		{name: "wrong secret", cc: basic(id, secret+"x"), wantErr: auth.ErrInvalidClient},
		{name: "empty secret", cc: basic(id, ""), wantErr: auth.ErrInvalidClient},
		{name: "unknown well-formed id", cc: basic("svc_"+strings.Repeat("a", 26), secret), wantErr: auth.ErrInvalidClient},
		{name: "malformed id", cc: basic("../etc", secret), wantErr: auth.ErrInvalidClient},
		{name: "no client authentication", cc: auth.ClientCredentials{}, wantErr: auth.ErrInvalidClient},
		{name: "refresh_token parameter", cc: basic(id, secret), mod: func(r *auth.TokenRequest) { r.RefreshToken = "x" }, wantErr: auth.ErrInvalidRequest},
		{name: "client on the refresh grant", cc: basic(id, secret),
			mod: func(r *auth.TokenRequest) { r.GrantType, r.RefreshToken = "refresh_token", "x" }, wantErr: auth.ErrUnauthorizedClient},
		{name: "unknown grant", cc: basic(id, secret), mod: func(r *auth.TokenRequest) { r.GrantType = "password" }, wantErr: auth.ErrUnsupportedGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod := tt.mod
			if mod == nil {
				mod = func(*auth.TokenRequest) {}
			}
			tok, err := grant(f, tt.cc, mod)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken != "" || tok.RefreshExpiresIn != 0 || tok.AccessExpiresIn != 15*time.Minute || tok.Scope != tt.wantScope {
				t.Fatalf("tokens %+v", tok)
			}
			c, err := f.verify(t, tok.AccessToken, tt.wantAud)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != id || c.ClientID != id || c.SessionID != "" || len(c.Roles) != 0 || c.Scope != tt.wantScope ||
				!slices.Equal(c.Audience, []string{tt.wantAud}) || !c.IsClient() {
				t.Fatalf("claims %+v", c)
			}
		})
	}
}

// A user's token is never taken for a client's.
func TestUserTokenIsNotClient(t *testing.T) {
	f := newClientFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Register(ctx, "u@example.com", "correct horse battery", auth.Device{}); err != nil {
		t.Fatal(err)
	}
	tok, err := f.svc.Login(ctx, "u@example.com", "correct horse battery", auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.verify(t, tok.AccessToken, "api")
	if err != nil {
		t.Fatal(err)
	}
	if c.IsClient() {
		t.Fatalf("user claims %+v taken for a client's", c)
	}
}

func TestClientSecretRotationGrace(t *testing.T) {
	f := newClientFixture(t)
	ctx := context.Background()
	cs := f.create(t, auth.NewClient{Name: "svc"})
	for _, g := range []time.Duration{-time.Second, 31 * 24 * time.Hour} {
		if _, err := f.svc.RotateClientSecret(ctx, admin, cs.Client.ID, g); !errors.Is(err, auth.ErrInvalidRequest) {
			t.Fatalf("grace %s: %v", g, err)
		}
	}
	if _, err := f.svc.RotateClientSecret(ctx, admin, "svc_"+strings.Repeat("b", 26), time.Hour); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	rot, err := f.svc.RotateClientSecret(ctx, admin, cs.Client.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rot.Secret == cs.Secret || rot.Client.PrevSecretExpiresAt.IsZero() {
		t.Fatalf("rotation %+v", rot.Client)
	}
	for _, s := range []string{cs.Secret, rot.Secret} {
		if _, err := grant(f, basic(cs.Client.ID, s)); err != nil {
			t.Fatalf("within the grace: %v", err)
		}
	}
	f.clk.Advance(time.Hour + time.Second)
	if _, err := grant(f, basic(cs.Client.ID, cs.Secret)); !errors.Is(err, auth.ErrInvalidClient) {
		t.Fatalf("old secret after the grace: %v", err)
	}
	if _, err := grant(f, basic(cs.Client.ID, rot.Secret)); err != nil {
		t.Fatal(err)
	}
	// Grace 0 ends the replaced secret at once.
	again, err := f.svc.RotateClientSecret(ctx, admin, cs.Client.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grant(f, basic(cs.Client.ID, rot.Secret)); !errors.Is(err, auth.ErrInvalidClient) {
		t.Fatalf("secret replaced with grace 0: %v", err)
	}
	if _, err := grant(f, basic(cs.Client.ID, again.Secret)); err != nil {
		t.Fatal(err)
	}
	ev := f.events.last(t)
	if ev.Type != auth.EventClientCredentials || ev.Outcome != auth.OutcomeSuccess || ev.UserID != cs.Client.ID {
		t.Fatalf("grant event %+v", ev)
	}
}

// Disable and delete refuse the client's live tokens at once, and new
// grants; enable lets it obtain new tokens, not revive old ones.
func TestDisableAndDeleteClientRevokeTokens(t *testing.T) {
	f := newClientFixture(t)
	ctx := context.Background()
	cs := f.create(t, auth.NewClient{Name: "svc"})
	tok, err := grant(f, basic(cs.Client.ID, cs.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify(t, tok.AccessToken, "api"); err != nil {
		t.Fatal(err)
	}
	// Same second as the grant: the cutoff still covers it.
	if err := f.svc.DisableClient(ctx, admin, cs.Client.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify(t, tok.AccessToken, "api"); !errors.Is(err, middleware.ErrRevoked) {
		t.Fatalf("token of a disabled client: %v", err)
	}
	if _, err := grant(f, basic(cs.Client.ID, cs.Secret)); !errors.Is(err, auth.ErrInvalidClient) {
		t.Fatalf("grant of a disabled client: %v", err)
	}
	if ev := f.events.last(t); ev.Detail != "client_disabled" {
		t.Fatalf("refusal event %+v", ev)
	}
	f.clk.Advance(2 * time.Second)
	if err := f.svc.EnableClient(ctx, admin, cs.Client.ID); err != nil {
		t.Fatal(err)
	}
	fresh, err := grant(f, basic(cs.Client.ID, cs.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify(t, fresh.AccessToken, "api"); err != nil {
		t.Fatalf("token after enable: %v", err)
	}
	if _, err := f.verify(t, tok.AccessToken, "api"); !errors.Is(err, middleware.ErrRevoked) {
		t.Fatalf("old token after enable: %v", err)
	}
	if err := f.svc.DeleteClient(ctx, admin, cs.Client.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify(t, fresh.AccessToken, "api"); !errors.Is(err, middleware.ErrRevoked) {
		t.Fatalf("token of a deleted client: %v", err)
	}
	if _, err := f.svc.Client(ctx, cs.Client.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("deleted client: %v", err)
	}
	for name, act := range map[string]func(context.Context, auth.Actor, string) error{
		"disable": f.svc.DisableClient, "enable": f.svc.EnableClient, "delete": f.svc.DeleteClient,
	} {
		if err := act(ctx, admin, cs.Client.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("%s of a deleted client: %v", name, err)
		}
	}
	var types []string
	for _, e := range f.events.events {
		if strings.HasPrefix(e.Type, "client_") && e.Type != auth.EventClientCredentials {
			if e.ActorID != admin.UserID {
				t.Errorf("%s without the actor", e.Type)
			}
			types = append(types, e.Type)
		}
	}
	want := []string{auth.EventClientCreated, auth.EventClientDisabled, auth.EventClientEnabled, auth.EventClientDeleted}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

// last_used_at is written at most once a minute.
func TestClientLastUsedIsCoarse(t *testing.T) {
	f := newClientFixture(t)
	ctx := context.Background()
	cs := f.create(t, auth.NewClient{Name: "svc"})
	lastUsed := func() time.Time {
		c, err := f.svc.Client(ctx, cs.Client.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.LastUsedAt
	}
	if !lastUsed().IsZero() {
		t.Fatal("new client already used")
	}
	if _, err := grant(f, basic(cs.Client.ID, cs.Secret)); err != nil {
		t.Fatal(err)
	}
	first := lastUsed()
	if first.IsZero() {
		t.Fatal("grant did not record last use")
	}
	f.clk.Advance(30 * time.Second)
	if _, err := grant(f, basic(cs.Client.ID, cs.Secret)); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last use written again after 30s: %v → %v", first, got)
	}
	f.clk.Advance(31 * time.Second)
	if _, err := grant(f, basic(cs.Client.ID, cs.Secret)); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.After(first) {
		t.Fatalf("last use not written after a minute: %v", got)
	}
}

// Failed client authentications are delayed per client id and per IP,
// before the store is read: while the delay lasts even the right secret
// gets 429.
func TestClientAuthenticationBackoff(t *testing.T) {
	tests := []struct {
		name string
		// fail makes one failed attempt; then try is refused while the
		// delay lasts.
		fail, try func(id, secret string) auth.ClientCredentials
		ip        bool
	}{
		{name: "per client id", fail: func(id, s string) auth.ClientCredentials { return basic(id, s+"x") },
			try: func(id, s string) auth.ClientCredentials { return basic(id, s) }},
		{name: "per ip", ip: true,
			fail: func(id, s string) auth.ClientCredentials { return basic("svc_"+strings.Repeat("c", 26), s) },
			try:  func(id, s string) auth.ClientCredentials { return basic(id, s) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := ratelimittest.NewClock()
			policy := ratelimit.BackoffPolicy{Free: 3, Base: time.Second, Max: time.Minute, Window: time.Hour}
			byID, _ := ratelimit.NewMemoryBackoff(policy, ratelimit.WithClock(clk.Now))
			byIP, _ := ratelimit.NewMemoryBackoff(policy, ratelimit.WithClock(clk.Now))
			f := newClientFixture(t, func(c *auth.Config) {
				c.Clock = clk.Now
				if tt.ip {
					c.Limits = auth.Limits{ClientIP: byIP}
				} else {
					c.Limits = auth.Limits{ClientID: byID}
				}
			})
			cs := f.create(t, auth.NewClient{Name: "svc"})
			for i := range 4 {
				if _, err := grant(f, tt.fail(cs.Client.ID, cs.Secret)); !errors.Is(err, auth.ErrInvalidClient) {
					t.Fatalf("failure %d: %v", i, err)
				}
			}
			_, err := grant(f, tt.try(cs.Client.ID, cs.Secret))
			var e *auth.Error
			if !errors.Is(err, auth.ErrRateLimited) || !errors.As(err, &e) || e.RetryAfter != 2*time.Second {
				t.Fatalf("during the delay: %v", err)
			}
			if ev := f.events.last(t); ev.Detail != "rate_limited" {
				t.Fatalf("event %+v", ev)
			}
			clk.Advance(2 * time.Second)
			if _, err := grant(f, tt.try(cs.Client.ID, cs.Secret)); err != nil {
				t.Fatalf("after the delay: %v", err)
			}
		})
	}
}

func TestTokenEndpointAuthMethodsListClientMethods(t *testing.T) {
	if !slices.Contains(auth.GrantTypes(), "client_credentials") {
		t.Fatalf("grant types %v", auth.GrantTypes())
	}
	m := auth.TokenEndpointAuthMethods()
	if !slices.Contains(m, "client_secret_basic") || !slices.Contains(m, "client_secret_post") || !slices.Contains(m, "none") {
		t.Fatalf("auth methods %v", m)
	}
}
