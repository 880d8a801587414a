package auth

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/authd/authd/pkg/store"
)

// TokenRequest is a token endpoint request (RFC 6749 §3.2) as the
// transport decoded it: the service decides what its grant type means.
type TokenRequest struct {
	GrantType    string
	RefreshToken string
	// Client is the client authentication the request carried, if any.
	Client ClientCredentials
	// Scope is the requested scope, space-separated (RFC 6749 §3.3).
	Scope string
	// Audiences and Resources are the values of the audience and RFC
	// 8707 resource parameters, each as often as it was sent.
	Audiences []string
	Resources []string
	Device    Device
}

// grantType is one grant the token endpoint offers.
type grantType struct {
	name string
	// authMethods are the token endpoint authentication methods (RFC
	// 8414 token_endpoint_auth_methods_supported) the grant takes.
	authMethods []string
	issue       func(s *Service, ctx context.Context, r TokenRequest) (*Tokens, error)
}

// grantTypes is the one table of the token endpoint: Token dispatches
// through it and discovery lists what it holds. First-party login with a
// password is POST /v1/login, never a grant here (RFC 9700 §2.4).
var grantTypes = []grantType{
	{name: "refresh_token", authMethods: []string{AuthMethodNone}, issue: (*Service).refreshGrant},
	{name: "client_credentials", authMethods: []string{AuthMethodBasic, AuthMethodPost}, issue: (*Service).clientCredentialsGrant},
}

// Token answers a token endpoint request with the grant it names.
func (s *Service) Token(ctx context.Context, r TokenRequest) (*Tokens, error) {
	if r.GrantType == "" {
		return nil, fail(ErrInvalidRequest, "grant_type is required")
	}
	for _, g := range grantTypes {
		if g.name == r.GrantType {
			return g.issue(s, ctx, r)
		}
	}
	return nil, fail(ErrUnsupportedGrant, "grant_type must be "+strings.Join(GrantTypes(), " or ")+"; log in with POST /v1/login")
}

// refreshGrant rotates a user's refresh token. Client authentication is
// refused rather than ignored: service clients have no refresh tokens,
// and a secret sent along is a client misconfigured.
func (s *Service) refreshGrant(ctx context.Context, r TokenRequest) (*Tokens, error) {
	if r.Client.Present() {
		return nil, fail(ErrUnauthorizedClient, "service clients have no refresh tokens: use grant_type=client_credentials")
	}
	return s.Refresh(ctx, r.RefreshToken, r.Device)
}

// clientCredentialsGrant is RFC 6749 §4.4: a service client's access token,
// for the scope (default: every allowed scope) and the one audience
// (default: the client's first) it asks for.
func (s *Service) clientCredentialsGrant(ctx context.Context, r TokenRequest) (*Tokens, error) {
	if !r.Client.Present() {
		// RFC 6749 §5.2: a missing client authentication is invalid_client.
		return nil, errBadClient
	}
	if r.RefreshToken != "" {
		return nil, fail(ErrInvalidRequest, "refresh_token is not a parameter of grant_type=client_credentials")
	}
	p, err := s.authenticateClient(ctx, r.Client, r.Device)
	if err != nil {
		return nil, err
	}
	c := p.Client
	ev := deviceEvent(EventClientCredentials, OutcomeFailure, r.Device)
	ev.UserID = c.ID
	scopes, err := grantedScopes(c, r.Scope)
	if err == nil {
		var aud string
		if aud, err = grantedAudience(c, r.Audiences, r.Resources); err == nil {
			now := s.cfg.Clock()
			var t *Tokens
			if t, err = s.mintClient(c, scopes, aud, now); err == nil {
				s.touchClient(ctx, c, now)
				ev.Outcome = OutcomeSuccess
				s.record(ctx, ev)
				return t, nil
			}
			return nil, err
		}
	}
	var e *Error
	if errors.As(err, &e) {
		ev.Detail = e.Kind.Error()
	}
	s.record(ctx, ev)
	return nil, err
}

// grantedScopes is the scope of a client's token: the requested scopes,
// each of which the client must be allowed, or every allowed one.
func grantedScopes(c *store.Client, requested string) ([]string, error) {
	if strings.TrimSpace(requested) == "" {
		return c.Scopes, nil
	}
	var out []string
	for sc := range strings.FieldsSeq(requested) {
		if !slices.Contains(c.Scopes, sc) {
			return nil, fail(ErrInvalidScope, "a requested scope is not allowed for this client")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// grantedAudience is the one audience of a client's token: the audience or
// resource parameter (both may be sent if they agree), which must be one
// of the client's audiences, or its first. Several different values are
// invalid_target: one audience per token.
func grantedAudience(c *store.Client, audiences, resources []string) (string, error) {
	aud, res := dedupe(audiences), dedupe(resources)
	if len(aud) > 1 || len(res) > 1 {
		return "", fail(ErrInvalidTarget, "a token is for one audience: send one audience or resource")
	}
	var want string
	switch {
	case len(aud) == 1 && len(res) == 1 && aud[0] != res[0]:
		return "", fail(ErrInvalidRequest, "audience and resource name different audiences")
	case len(aud) == 1:
		want = aud[0]
	case len(res) == 1:
		want = res[0]
	default:
		if len(c.Audiences) == 0 {
			return "", fail(ErrInvalidTarget, "the client has no audience")
		}
		return c.Audiences[0], nil
	}
	if !slices.Contains(c.Audiences, want) {
		return "", fail(ErrInvalidTarget, "the requested audience is not allowed for this client")
	}
	return want, nil
}

// GrantTypes lists the grant types Token accepts, for discovery.
func GrantTypes() []string {
	names := make([]string, len(grantTypes))
	for i, g := range grantTypes {
		names[i] = g.name
	}
	return names
}

// TokenEndpointAuthMethods lists the client authentication methods the
// grants take, each once, for discovery.
func TokenEndpointAuthMethods() []string {
	var methods []string
	for _, g := range grantTypes {
		for _, m := range g.authMethods {
			if !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
	}
	return methods
}
