package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/gin-gonic/gin"
)

// credentials is the body of register and login.
type credentials struct {
	Email    string `json:"email" authd:"required"`
	Password string `json:"password" authd:"required"`
}

type userResponse struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	CreatedAt     time.Time `json:"created_at"`
}

type meResponse struct {
	userResponse
	Roles []string    `json:"roles"`
	MFA   mfaResponse `json:"mfa"`
}

// mfaResponse is the second-factor state of GET /v1/me.
type mfaResponse struct {
	TOTP              bool `json:"totp"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	// A service client's answer has no refresh token (RFC 6749 §4.4.3)
	// and names the granted scope.
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresIn int64  `json:"refresh_expires_in,omitempty"`
	Scope            string `json:"scope,omitempty"`
}

func (a *API) register(c *gin.Context) {
	var req credentials
	if !a.decodeJSON(c, &req) {
		return
	}
	u, err := a.svc.Register(c.Request.Context(), req.Email, req.Password, deviceOf(c))
	if err != nil {
		a.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, userResponse{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt.UTC()})
}

func (a *API) login(c *gin.Context) {
	var req credentials
	if !a.decodeJSON(c, &req) {
		return
	}
	if req.Email == "" || req.Password == "" {
		a.writeError(c, badRequest("email and password are required"))
		return
	}
	tokens, err := a.svc.Login(c.Request.Context(), req.Email, req.Password, deviceOf(c))
	if err != nil {
		a.writeError(c, err)
		return
	}
	writeTokens(c, tokens)
}

// token is the RFC 6749 §3.2 token endpoint: it decodes the request and
// the client authentication (client_secret_basic or client_secret_post)
// and the service dispatches on its grant type.
func (a *API) token(c *gin.Context) {
	req := auth.TokenRequest{Device: deviceOf(c)}
	var post postedClient
	switch mediaType(c) {
	case "application/x-www-form-urlencoded":
		body, err := readBody(c)
		if err != nil {
			a.answerBodyError(c, err)
			return
		}
		// RFC 8707 lets resource repeat; audience likewise. The service
		// decides what several values mean.
		form, err := parseFormRepeatable(body, "resource", "audience")
		if err != nil {
			a.writeError(c, badRequest(err.Error()))
			return
		}
		req.GrantType, req.RefreshToken, req.Scope = form.Get("grant_type"), form.Get("refresh_token"), form.Get("scope")
		req.Audiences, req.Resources = form["audience"], form["resource"]
		post = postedClient{id: form.Get("client_id"), secret: form.Get("client_secret"), hasSecret: form.Has("client_secret")}
	case "application/json":
		var body struct {
			GrantType    string `json:"grant_type"`
			RefreshToken string `json:"refresh_token"`
			Scope        string `json:"scope"`
			Audience     string `json:"audience"`
			Resource     string `json:"resource"`
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if !a.decodeJSON(c, &body) {
			return
		}
		req.GrantType, req.RefreshToken, req.Scope = body.GrantType, body.RefreshToken, body.Scope
		if body.Audience != "" {
			req.Audiences = []string{body.Audience}
		}
		if body.Resource != "" {
			req.Resources = []string{body.Resource}
		}
		post = postedClient{id: body.ClientID, secret: body.ClientSecret, hasSecret: body.ClientSecret != ""}
	default:
		writeCode(c, http.StatusUnsupportedMediaType, "invalid_request",
			"Content-Type must be application/x-www-form-urlencoded or application/json")
		return
	}
	cc, err := tokenClient(c.Request, post)
	if err != nil {
		a.writeError(c, err)
		return
	}
	req.Client = cc
	tokens, err := a.svc.Token(c.Request.Context(), req)
	if err != nil {
		a.writeError(c, err)
		return
	}
	writeTokens(c, tokens)
}

func (a *API) logout(c *gin.Context) {
	scope := c.Query("scope")
	if c.Request.ContentLength != 0 && mediaType(c) == "application/json" {
		var req struct {
			Scope string `json:"scope"`
		}
		if !a.decodeJSON(c, &req) {
			return
		}
		if req.Scope != "" && scope != "" && req.Scope != scope {
			a.writeError(c, badRequest("scope differs between query and body"))
			return
		}
		if req.Scope != "" {
			scope = req.Scope
		}
	}
	s, err := auth.ParseLogoutScope(scope)
	if err != nil {
		a.writeError(c, err)
		return
	}
	err = a.svc.Logout(c.Request.Context(), callerOf(c), s)
	if err != nil {
		a.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) me(c *gin.Context) {
	claims, _ := ginmw.ClaimsFrom(c)
	u, err := a.svc.Me(c.Request.Context(), claims.Subject)
	if err != nil {
		a.writeError(c, err)
		return
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	st, err := a.svc.MFAStatus(c.Request.Context(), u.ID)
	if err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusOK, meResponse{
		userResponse: userResponse{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt.UTC()},
		Roles:        roles,
		MFA:          mfaResponse{TOTP: st.TOTP, RecoveryCodesLeft: st.RecoveryCodesLeft},
	})
}

func (a *API) jwks(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age="+itoa(int64(a.cfg.JWKSMaxAge/time.Second)))
	if a.cfg.OnJWKS != nil {
		a.cfg.OnJWKS()
	}
	c.Data(http.StatusOK, "application/jwk-set+json", a.keys.JWKS())
}

// discovery serves RFC 8414 metadata and the members OIDC Discovery 1.0
// §3 requires; only fields that are true are listed. There is no
// authorization endpoint, so no response type is supported: the list is
// empty, not the "code" a client would then try.
func (a *API) discovery(c *gin.Context) {
	iss := a.cfg.Issuer
	c.Header("Cache-Control", "public, max-age=3600")
	doc := gin.H{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"token_endpoint":                        iss + "/v1/token",
		"grant_types_supported":                 auth.GrantTypes(),
		"token_endpoint_auth_methods_supported": auth.TokenEndpointAuthMethods(),
		"response_types_supported":              []string{},
		// middleware.DiscoveryAccessTokenLifetime: verifiers bound exp - iat by it.
		"authd_access_token_lifetime": int64(a.cfg.AccessTTL / time.Second),
		"subject_types_supported":     []string{"public"},
		// authd issues no ID tokens, but OIDC libraries (go-oidc among
		// them) take their verifier's algorithms from this member and
		// assume RS256 without it: it lists what the published keys sign.
		"id_token_signing_alg_values_supported": a.publishedAlgorithms(),
	}
	// Introspection always takes a service client's access token with
	// the scope authd:introspect (RFC 8414 §2 lets an access token type
	// name a method), and the configured credential when there is one.
	doc["introspection_endpoint"] = iss + "/v1/introspect"
	methods := []string{"Bearer"}
	if a.introspection.enabled {
		methods = append([]string{"client_secret_basic"}, methods...)
	}
	doc["introspection_endpoint_auth_methods_supported"] = methods
	c.JSON(http.StatusOK, doc)
}

// publishedAlgorithms lists the algorithms of the keys in the JWKS, each
// once, in the order of the keys.
func (a *API) publishedAlgorithms() []string {
	var set struct {
		Keys []struct {
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	algs := []string{}
	if err := json.Unmarshal(a.keys.JWKS(), &set); err != nil {
		return algs
	}
	for _, k := range set.Keys {
		if k.Alg != "" && !slices.Contains(algs, k.Alg) {
			algs = append(algs, k.Alg)
		}
	}
	return algs
}

func (a *API) ready(c *gin.Context) {
	failed := map[string]string{}
	for _, ch := range a.checks {
		ctx, cancel := context.WithTimeout(c.Request.Context(), a.cfg.ReadyTimeout)
		if err := ch.Ping(ctx); err != nil {
			failed[ch.Name] = "unavailable"
		}
		cancel()
	}
	if len(failed) > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "failed": failed})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// writePrivate answers status with v as JSON marked Cache-Control:
// no-store: the body is the caller's own (account data, sessions, tokens,
// secrets), which no browser or shared cache may keep.
func writePrivate(c *gin.Context, status int, v any) {
	c.Header("Cache-Control", "no-store")
	c.JSON(status, v)
}

func writeTokens(c *gin.Context, t *auth.Tokens) {
	c.Header("Pragma", "no-cache")
	writePrivate(c, http.StatusOK, tokenResponse{
		AccessToken:      t.AccessToken,
		TokenType:        "Bearer",
		ExpiresIn:        int64(t.AccessExpiresIn / time.Second),
		RefreshToken:     t.RefreshToken,
		RefreshExpiresIn: int64(t.RefreshExpiresIn / time.Second),
		Scope:            t.Scope,
	})
}

// deviceOf records the device details of a request.
func deviceOf(c *gin.Context) auth.Device {
	ua := c.Request.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return auth.Device{UserAgent: strings.ToValidUTF8(ua, ""), IP: c.ClientIP()}
}
