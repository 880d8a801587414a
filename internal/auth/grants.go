package auth

import (
	"context"
	"slices"
	"strings"
)

// TokenRequest is a token endpoint request (RFC 6749 §3.2) as the
// transport decoded it: the service decides what its grant type means.
type TokenRequest struct {
	GrantType    string
	RefreshToken string
	Device       Device
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
	{name: "refresh_token", authMethods: []string{"none"}, issue: (*Service).refreshGrant},
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

func (s *Service) refreshGrant(ctx context.Context, r TokenRequest) (*Tokens, error) {
	return s.Refresh(ctx, r.RefreshToken, r.Device)
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
