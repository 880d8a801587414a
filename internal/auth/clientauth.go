package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/authd/authd/pkg/store"
)

// errBadClient is the one answer to a missing, unknown, wrong or disabled
// client (RFC 6749 §5.2).
var errBadClient = fail(ErrInvalidClient, "client authentication failed")

// dummyDigest stands in for an unknown client's secret digest, so that an
// unknown id costs the same comparisons as a known one.
var dummyDigest = secretDigest("authd: no such client")

// ClientCredentials are a client's id and secret as a request presented
// them.
type ClientCredentials struct {
	// ID and Secret are as RFC 6749 §2.3.1 defines them (for HTTP Basic:
	// form-urlencoded, then decoded).
	ID, Secret string
	// RawID and RawSecret are as sent, before that decoding; clients that
	// do not form-urlencode keep working. Equal to ID and Secret for
	// client_secret_post.
	RawID, RawSecret string
	// Method is client_secret_basic or client_secret_post.
	Method string
}

// Token endpoint authentication methods (RFC 8414).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none"
)

// Present reports whether any client credential was sent.
func (c ClientCredentials) Present() bool { return c.Method != "" }

// authenticateClient is the client_credentials grant's first step: the
// client these credentials name, enabled, whose current secret, or
// previous one within its grace, they carry. Every failure is the same
// ErrInvalidClient. Before any store read, a client id or client IP whose
// failures are over their budget is answered ErrRateLimited.
func (s *Service) authenticateClient(ctx context.Context, cc ClientCredentials, device Device) (Principal, error) {
	ev := deviceEvent(EventClientCredentials, OutcomeFailure, device)
	ids := dedupe([]string{cc.ID, cc.RawID})
	if err := s.throttleClient(ctx, ids, device.IP); err != nil {
		ev.Detail = detailRateLimited
		s.record(ctx, ev)
		return Principal{}, err
	}
	var (
		c     store.Client
		found bool
	)
	for _, id := range ids {
		if !IsClientID(id) {
			continue
		}
		got, err := s.store.ClientByID(ctx, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return Principal{}, err
		}
		c, found = got, true
		break
	}
	current, prev := dummyDigest, dummyDigest
	if found {
		current = c.SecretHash
		if len(c.PrevSecretHash) > 0 && c.PrevSecretExpiresAt.After(s.cfg.Clock()) {
			prev = c.PrevSecretHash
		}
	}
	// Both spellings of the secret against both digests, always.
	match := digestMatches(cc.Secret, current) | digestMatches(cc.RawSecret, current) |
		digestMatches(cc.Secret, prev) | digestMatches(cc.RawSecret, prev)
	if !found || match != 1 || c.Disabled {
		ev.UserID = c.ID
		switch {
		case !found:
			ev.Detail = "unknown_client"
		case c.Disabled && match == 1:
			ev.Detail = "client_disabled"
		default:
			ev.Detail = "invalid_secret"
		}
		if !(c.Disabled && match == 1) {
			s.clientFailed(ctx, c.ID, device.IP)
		}
		s.record(ctx, ev)
		return Principal{}, errBadClient
	}
	return Principal{Client: &c}, nil
}

// digestMatches compares SHA-256(secret) with want in constant time; 1 on
// a match.
func digestMatches(secret string, want []byte) int {
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want)
}

// touchClient records the client's use when the stored time is older than
// clientTouchInterval: coarse, so that a grant is one store read. A
// failure is logged, not returned: the token is issued either way.
func (s *Service) touchClient(ctx context.Context, c *store.Client, now time.Time) {
	if !c.LastUsedAt.IsZero() && now.Sub(c.LastUsedAt) < clientTouchInterval {
		return
	}
	if err := s.store.TouchClient(ctx, c.ID, now); err != nil && !errors.Is(err, context.Canceled) {
		s.cfg.Logger.WarnContext(ctx, "recording a client's last use failed", "client_id", c.ID, "error", err)
	}
}
