package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authd/authd/pkg/store"
)

// ClientStore is the part of pkg/store the service uses for service
// clients.
type ClientStore interface {
	CreateClient(ctx context.Context, c store.Client) error
	ClientByID(ctx context.Context, id string) (store.Client, error)
	ListClients(ctx context.Context) ([]store.Client, error)
	RotateClientSecret(ctx context.Context, r store.SecretRotation) error
	SetClientDisabled(ctx context.Context, id string, disabled bool, at time.Time) error
	DeleteClient(ctx context.Context, id string) error
	TouchClient(ctx context.Context, id string, at time.Time) error
}

// Client ids are "svc_" and 26 characters of lower-case base32 (RFC 4648
// alphabet, no padding): 128 random bits, URL-safe, and never confusable
// with a user id, which is a UUID (hyphens, hex digits only).
const clientIDPrefix = "svc_"

var clientIDPattern = regexp.MustCompile(`^svc_[a-z2-7]{26}$`)

var clientIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// IsClientID reports whether id has the form of a service client's id.
func IsClientID(id string) bool { return clientIDPattern.MatchString(id) }

func newClientID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return clientIDPrefix + strings.ToLower(clientIDEncoding.EncodeToString(b))
}

// newClientSecret returns 256 random bits, base64url (43 characters).
func newClientSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secretDigest is what the store keeps of a client secret: its SHA-256.
// The secret has 256 random bits, so neither a slow nor a keyed hash would
// protect anything more.
func secretDigest(secret string) []byte {
	d := sha256.Sum256([]byte(secret))
	return d[:]
}

// Bounds of what a client is registered with.
const (
	maxClientNameLength = 100
	maxClientScopes     = 32
	maxScopeLength      = 64
	maxClientAudiences  = 16
	maxAudienceLength   = 255
	// MaxSecretGrace bounds how long a replaced secret keeps working.
	MaxSecretGrace = 30 * 24 * time.Hour
	// clientTouchInterval: last_used_at is written at most this often
	// per client, so that a grant costs one store read and no write.
	clientTouchInterval = time.Minute
)

// ScopeIntrospect lets a client's token call /v1/introspect.
const ScopeIntrospect = "authd:introspect"

// NewClient is what a client is created with. Empty Audiences means the
// service's configured audience (AUTHD_AUDIENCE).
type NewClient struct {
	Name      string
	Scopes    []string
	Audiences []string
}

// ClientInfo is a client as shown to admins: never its secret or digest.
type ClientInfo struct {
	ID         string
	Name       string
	Scopes     []string
	Audiences  []string
	Disabled   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastUsedAt time.Time
	// PrevSecretExpiresAt is until when the secret the last rotation
	// replaced keeps working; zero when none does.
	PrevSecretExpiresAt time.Time
}

// ClientSecret is a client's id and a new secret, shown once.
type ClientSecret struct {
	Client ClientInfo
	Secret string
}

func clientInfo(c store.Client, now time.Time) ClientInfo {
	info := ClientInfo{
		ID: c.ID, Name: c.Name, Scopes: nonNil(c.Scopes), Audiences: nonNil(c.Audiences),
		Disabled: c.Disabled, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), LastUsedAt: c.LastUsedAt,
	}
	if !info.LastUsedAt.IsZero() {
		info.LastUsedAt = info.LastUsedAt.UTC()
	}
	if len(c.PrevSecretHash) > 0 && c.PrevSecretExpiresAt.After(now) {
		info.PrevSecretExpiresAt = c.PrevSecretExpiresAt.UTC()
	}
	return info
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// validScope reports whether s is one RFC 6749 §3.3 scope token
// (NQCHAR: %x21 / %x23-5B / %x5D-7E, so no space, quote or backslash),
// at most maxScopeLength bytes.
func validScope(s string) bool {
	if s == "" || len(s) > maxScopeLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// validAudience reports whether a is an audience a client may be given:
// 1 to maxAudienceLength bytes of visible ASCII (URIs, or names such as
// "billing-api"); no space, since audiences are stored space-separated.
func validAudience(a string) bool {
	if a == "" || len(a) > maxAudienceLength {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] < 0x21 || a[i] > 0x7e {
			return false
		}
	}
	return true
}

func validClientName(n string) bool {
	if n == "" || len(n) > maxClientNameLength || !utf8.ValidString(n) {
		return false
	}
	for _, r := range n {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// dedupe returns s without repeats, in first-seen order.
func dedupe(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Service) checkNewClient(nc NewClient) (NewClient, error) {
	if !validClientName(nc.Name) {
		return nc, fail(ErrInvalidRequest, fmt.Sprintf("a client name is 1 to %d bytes of UTF-8 without control characters", maxClientNameLength))
	}
	var err error
	nc.Scopes, err = checkClientList(nc.Scopes, maxClientScopes, validScope,
		fmt.Sprintf("a client has at most %d scopes", maxClientScopes),
		fmt.Sprintf("a scope is 1 to %d visible ASCII characters other than \" and \\ (RFC 6749 §3.3)", maxScopeLength))
	if err != nil {
		return nc, err
	}
	if len(nc.Audiences) == 0 {
		nc.Audiences = []string{s.cfg.Audience}
	}
	nc.Audiences, err = checkClientList(nc.Audiences, maxClientAudiences, validAudience,
		fmt.Sprintf("a client has at most %d audiences", maxClientAudiences),
		fmt.Sprintf("an audience is 1 to %d visible ASCII characters", maxAudienceLength))
	if err != nil {
		return nc, err
	}
	return nc, nil
}

// checkClientList is the rule for a client's scopes and audiences: repeats
// dropped, at most maxLen entries, each valid. tooMany and invalid are the
// descriptions of the two refusals.
func checkClientList(list []string, maxLen int, valid func(string) bool, tooMany, invalid string) ([]string, error) {
	list = dedupe(list)
	if len(list) > maxLen {
		return nil, fail(ErrInvalidRequest, tooMany)
	}
	for _, v := range list {
		if !valid(v) {
			return nil, fail(ErrInvalidRequest, invalid)
		}
	}
	return list, nil
}

// clientEvent starts an audit event about a client: the client's id is
// the event's UserID, the trail's subject column (client ids never look
// like user ids), and the admin who acted its ActorID.
func clientEvent(typ, clientID string, actor Actor) Event {
	ev := deviceEvent(typ, OutcomeSuccess, actor.Device)
	ev.UserID, ev.ActorID = clientID, actor.UserID
	return ev
}

// CreateClient registers a service client and returns it with its secret,
// which is shown this once: the store keeps only its digest.
func (s *Service) CreateClient(ctx context.Context, actor Actor, nc NewClient) (ClientSecret, error) {
	nc, err := s.checkNewClient(nc)
	if err != nil {
		return ClientSecret{}, err
	}
	secret := newClientSecret()
	now := s.cfg.Clock()
	c := store.Client{
		ID: newClientID(), Name: nc.Name, SecretHash: secretDigest(secret),
		Scopes: nc.Scopes, Audiences: nc.Audiences, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		return ClientSecret{}, fmt.Errorf("auth: create client: %w", err)
	}
	c, err = s.store.ClientByID(ctx, c.ID)
	if err != nil {
		return ClientSecret{}, fmt.Errorf("auth: read created client: %w", err)
	}
	s.record(ctx, clientEvent(EventClientCreated, c.ID, actor))
	return ClientSecret{Client: clientInfo(c, now), Secret: secret}, nil
}

// ListClients returns every client, oldest first.
func (s *Service) ListClients(ctx context.Context) ([]ClientInfo, error) {
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock()
	out := make([]ClientInfo, len(cs))
	for i, c := range cs {
		out[i] = clientInfo(c, now)
	}
	return out, nil
}

// Client returns one client; an unknown id is ErrNotFound.
func (s *Service) Client(ctx context.Context, id string) (ClientInfo, error) {
	c, err := s.clientByID(ctx, id)
	if err != nil {
		return ClientInfo{}, err
	}
	return clientInfo(c, s.cfg.Clock()), nil
}

var errNoClient = fail(ErrNotFound, "no such client")

// clientErr is a store error about a client as the service reports it:
// the store's not-found is errNoClient, anything else unchanged.
func clientErr(err error) error {
	if isNotFound(err) {
		return errNoClient
	}
	return err
}

func (s *Service) clientByID(ctx context.Context, id string) (store.Client, error) {
	if !IsClientID(id) {
		return store.Client{}, errNoClient
	}
	c, err := s.store.ClientByID(ctx, id)
	return c, clientErr(err)
}

// RotateClientSecret gives a client a new secret, returned this once. The
// replaced secret keeps working for grace (0 ends it now; at most
// MaxSecretGrace), so that a fleet can move to the new one without an
// outage; a secret replaced earlier and still in its grace stops at once.
func (s *Service) RotateClientSecret(ctx context.Context, actor Actor, id string, grace time.Duration) (ClientSecret, error) {
	if grace < 0 || grace > MaxSecretGrace {
		return ClientSecret{}, fail(ErrInvalidRequest, "grace is from 0 to 720h")
	}
	if _, err := s.clientByID(ctx, id); err != nil {
		return ClientSecret{}, err
	}
	secret := newClientSecret()
	now := s.cfg.Clock()
	r := store.SecretRotation{ClientID: id, NewHash: secretDigest(secret), At: now}
	if grace > 0 {
		r.PrevExpiresAt = now.Add(grace)
	}
	if err := clientErr(s.store.RotateClientSecret(ctx, r)); err != nil {
		return ClientSecret{}, err
	}
	c, err := s.store.ClientByID(ctx, id)
	if err != nil {
		return ClientSecret{}, err
	}
	ev := clientEvent(EventClientSecretRotated, id, actor)
	ev.Detail = "grace:" + grace.String()
	s.record(ctx, ev)
	return ClientSecret{Client: clientInfo(c, now), Secret: secret}, nil
}

// DisableClient stops a client from obtaining tokens and refuses the ones
// it holds at once (a per-subject cutoff on the denylist, as for a user).
// Disabling twice is harmless.
func (s *Service) DisableClient(ctx context.Context, actor Actor, id string) error {
	if _, err := s.clientByID(ctx, id); err != nil {
		return err
	}
	now := s.cfg.Clock()
	if err := clientErr(s.store.SetClientDisabled(ctx, id, true, now)); err != nil {
		return err
	}
	if err := s.revokeClientTokens(ctx, id, now); err != nil {
		return failWith(ErrUnavailable, "the client is disabled but its tokens could not be revoked; retry", err)
	}
	s.record(ctx, clientEvent(EventClientDisabled, id, actor))
	return nil
}

// EnableClient lets a disabled client obtain tokens again; the tokens it
// held when disabled stay refused (as do any issued in that same second).
func (s *Service) EnableClient(ctx context.Context, actor Actor, id string) error {
	if _, err := s.clientByID(ctx, id); err != nil {
		return err
	}
	if err := clientErr(s.store.SetClientDisabled(ctx, id, false, s.cfg.Clock())); err != nil {
		return err
	}
	s.record(ctx, clientEvent(EventClientEnabled, id, actor))
	return nil
}

// DeleteClient deletes a client and refuses its live tokens at once. The
// denylist is written first: a failure there leaves the client in place,
// so that the call can be retried.
func (s *Service) DeleteClient(ctx context.Context, actor Actor, id string) error {
	if _, err := s.clientByID(ctx, id); err != nil {
		return err
	}
	now := s.cfg.Clock()
	if err := s.store.SetClientDisabled(ctx, id, true, now); err != nil && !isNotFound(err) {
		return err
	}
	if err := s.revokeClientTokens(ctx, id, now); err != nil {
		return failWith(ErrUnavailable, "the client's tokens could not be revoked, so it was disabled, not deleted; retry", err)
	}
	if err := clientErr(s.store.DeleteClient(ctx, id)); err != nil {
		return err
	}
	s.record(ctx, clientEvent(EventClientDeleted, id, actor))
	return nil
}

// revokeClientTokens refuses every token of the client issued at or before
// now. The denylist's cutoff compares whole seconds (iat < cutoff), and a
// client's tokens have no sid to catch those of the current second, so the
// cutoff is the next second.
func (s *Service) revokeClientTokens(ctx context.Context, id string, now time.Time) error {
	cutoff := now.Truncate(time.Second).Add(time.Second)
	return s.denylist.RevokeUserBefore(ctx, id, cutoff, s.revocationHorizon(now).Add(time.Second))
}
