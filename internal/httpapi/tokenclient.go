package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/gin-gonic/gin"
)

// postedClient is the client_secret_post authentication of a token
// request body: client_id and client_secret parameters.
type postedClient struct {
	id, secret string
	hasSecret  bool
}

// tokenClient decodes the client authentication of a token request:
// client_secret_basic (an Authorization: Basic header, form-urlencoded id
// and secret per RFC 6749 §2.3.1) or client_secret_post (client_secret in
// the body). Both at once is invalid_request (RFC 6749 §2.3: one method
// per request), and so is a body client_id that differs from the Basic
// one. A client_id without a secret is a public client naming itself (a
// refresh of a user's session): no client authentication. An
// Authorization header of another scheme is not client authentication
// and is left alone, as before service clients existed.
func tokenClient(r *http.Request, post postedClient) (auth.ClientCredentials, error) {
	values := r.Header.Values("Authorization")
	basic := false
	for _, v := range values {
		scheme, _, _ := strings.Cut(v, " ")
		basic = basic || strings.EqualFold(scheme, "Basic")
	}
	if !basic {
		if !post.hasSecret {
			return auth.ClientCredentials{}, nil
		}
		return auth.ClientCredentials{ID: post.id, Secret: post.secret, RawID: post.id, RawSecret: post.secret,
			Method: auth.AuthMethodPost}, nil
	}
	p, err := readClientCredentials(r)
	switch {
	case errors.Is(err, errClientRequest):
		return auth.ClientCredentials{}, badRequest("the request has more than one Authorization header")
	case err != nil:
		return auth.ClientCredentials{}, &auth.Error{Kind: auth.ErrInvalidClient, Description: "the Basic client credentials are malformed"}
	case post.hasSecret:
		return auth.ClientCredentials{}, badRequest("use one client authentication method: HTTP Basic or client_secret in the body, not both")
	case post.id != "" && post.id != p.id && post.id != p.rawID:
		return auth.ClientCredentials{}, badRequest("client_id differs from the HTTP Basic client id")
	}
	return auth.ClientCredentials{ID: p.id, Secret: p.secret, RawID: p.rawID, RawSecret: p.rawSecret,
		Method: auth.AuthMethodBasic}, nil
}

// usersOnly refuses a service client's token on an endpoint about a
// user's account or sessions: 403 insufficient_scope. It runs after
// ginmw.Authenticate.
func usersOnly(c *gin.Context) {
	if claims, ok := ginmw.ClaimsFrom(c); ok && claims.IsClient() {
		c.Header("WWW-Authenticate", `Bearer error="insufficient_scope"`)
		writeCode(c, http.StatusForbidden, auth.ErrForbidden.Error(), "this endpoint is for users; a service client's token cannot use it")
		return
	}
	c.Next()
}
