package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/store"
	"github.com/gin-gonic/gin"
)

// forwardAuth is the forward-auth endpoint (/v1/verify) for nginx auth_request, Traefik
// ForwardAuth and Envoy ext_authz (HTTP). It is stateless: signature, claims
// and the denylist, never the database, so it keeps answering while the
// store is down. Any method and any sub-path are accepted because Envoy
// forwards the original method and appends the original path.
func (a *API) forwardAuth(c *gin.Context) {
	claims, err := a.verifier.Authenticate(c.Request)
	if err != nil {
		_ = c.Error(err)
		middleware.WriteError(c.Writer, err)
		c.Abort()
		return
	}
	h := c.Writer.Header()
	h.Set("X-Auth-Subject", claims.Subject)
	h.Set("X-Auth-Roles", strings.Join(gatewayRoles(claims.Roles), ","))
	h.Set("X-Auth-Scope", claims.Scope)
	h.Set("X-Auth-Session", claims.SessionID)
	h.Set("Cache-Control", "no-store")
	c.Status(http.StatusOK)
}

// gatewayRoles are the roles a gateway is told (X-Auth-Roles, and the
// "roles" of introspection): those of the token, leaving out any name
// outside store.ValidateRole's grammar. Every path that grants a role
// checks it, but roles stored by older releases were not checked, and a
// gateway must never read "viewer,admin" as two roles (nor re-join names
// into a header of its own) or receive a control character in a header.
// Dropping the bad name, not refusing the token, keeps its owner's valid
// roles working while an admin revokes it. Never nil.
func gatewayRoles(roles []string) []string {
	valid := make([]string, 0, len(roles))
	for _, r := range roles {
		if store.ValidateRole(r) == nil {
			valid = append(valid, r)
		}
	}
	return valid
}

// introspect is RFC 7662 token introspection for gateways that prefer
// asking to verifying. Only access tokens can be active; anything invalid,
// expired, revoked or of another type is {"active":false}.
//
// The caller authenticates with the configured HTTP Basic credential
// (AUTHD_INTROSPECTION_CLIENT_*), or with a Bearer access token of a
// service client holding the scope authd:introspect; either way no store
// is read.
func (a *API) introspect(c *gin.Context) {
	if !a.introspectionCaller(c) {
		return
	}
	if mediaType(c) != "application/x-www-form-urlencoded" {
		writeCode(c, http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	form, ok := a.decodeForm(c)
	if !ok {
		return
	}
	raw := form.Get("token")
	if raw == "" {
		a.writeError(c, badRequest("token is required"))
		return
	}
	c.Header("Cache-Control", "no-store")
	claims, err := a.verifier.Verify(c.Request.Context(), raw)
	switch {
	case errors.Is(err, middleware.ErrUnavailable):
		// Answering inactive would log users out because Redis blinked.
		_ = c.Error(err)
		middleware.WriteError(c.Writer, err)
		c.Abort()
		return
	case err != nil:
		c.JSON(http.StatusOK, gin.H{"active": false})
		return
	}
	resp := gin.H{
		"active":     true,
		"token_type": "Bearer",
		"iss":        claims.Issuer,
		"sub":        claims.Subject,
		"aud":        claims.Audience,
		"client_id":  claims.ClientID,
		"exp":        claims.ExpiresAt.Unix(),
		"iat":        claims.IssuedAt.Unix(),
		"jti":        claims.TokenID,
		"sid":        claims.SessionID,
		"roles":      gatewayRoles(claims.Roles),
	}
	if claims.Scope != "" {
		resp["scope"] = claims.Scope
	}
	c.JSON(http.StatusOK, resp)
}

// introspectionCaller authenticates the caller of /v1/introspect and
// answers the request itself when it fails. A Bearer token must be a
// service client's with the scope authd:introspect: an invalid one is 401
// invalid_token, another valid one 403 insufficient_scope. Anything else
// goes to the configured Basic credential.
func (a *API) introspectionCaller(c *gin.Context) bool {
	values := c.Request.Header.Values("Authorization")
	if len(values) != 1 {
		return authenticateClient(c, a.introspection, "authd introspection")
	}
	scheme, _, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return authenticateClient(c, a.introspection, "authd introspection")
	}
	claims, err := a.verifier.Authenticate(c.Request)
	if err != nil {
		_ = c.Error(err)
		middleware.WriteError(c.Writer, err)
		c.Abort()
		return false
	}
	if !claims.IsClient() || !claims.HasScope(auth.ScopeIntrospect) {
		c.Header("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+auth.ScopeIntrospect+`"`)
		writeCode(c, http.StatusForbidden, auth.ErrForbidden.Error(), "introspection needs a service client's token with the scope "+auth.ScopeIntrospect)
		return false
	}
	return true
}
