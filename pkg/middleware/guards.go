package middleware

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// reqKind is what a Requirement looks at.
type reqKind uint8

const (
	kindRoles reqKind = iota + 1
	kindScopes
	kindAMR
	kindFreshAuth
)

// Requirement is an authorization rule over verified claims: all or any
// of a list of roles or scopes. Build one with AllRoles, AnyRole,
// AllScopes or AnyScope; Require and ginmw.Require enforce it. The zero
// Requirement and one with an empty list are never met, so that a
// misconfigured guard refuses rather than lets everyone through.
type Requirement struct {
	kind   reqKind
	any    bool
	values []string
	// maxAge bounds the age of auth_time (FreshAuth).
	maxAge time.Duration
	now    func() time.Time
}

// AllRoles requires every one of roles in the token's roles claim.
func AllRoles(roles ...string) Requirement {
	return Requirement{kind: kindRoles, values: slices.Clone(roles)}
}

// AnyRole requires at least one of roles in the token's roles claim.
func AnyRole(roles ...string) Requirement {
	return Requirement{kind: kindRoles, any: true, values: slices.Clone(roles)}
}

// AllScopes requires every one of scopes in the token's scope claim.
func AllScopes(scopes ...string) Requirement {
	return Requirement{kind: kindScopes, values: slices.Clone(scopes)}
}

// AnyScope requires at least one of scopes in the token's scope claim.
func AnyScope(scopes ...string) Requirement {
	return Requirement{kind: kindScopes, any: true, values: slices.Clone(scopes)}
}

// AuthMethods requires every one of methods in the token's amr claim
// (RFC 8176), such as AuthMethods("otp") for a second factor. Unmet, it
// is the RFC 9470 step-up challenge: 401 insufficient_user_authentication
// with acr_values naming the methods, so that the client has the user
// authenticate again with them (authd: POST /v1/mfa/verify).
func AuthMethods(methods ...string) Requirement {
	return Requirement{kind: kindAMR, values: slices.Clone(methods)}
}

// FreshAuth requires the user to have authenticated (auth_time) at most
// maxAge ago by the system clock; a token without auth_time fails it.
// Unmet, it is the RFC 9470 challenge with max_age. A maxAge that is not
// positive is never met.
func FreshAuth(maxAge time.Duration) Requirement {
	return Requirement{kind: kindFreshAuth, maxAge: maxAge, now: time.Now}
}

// Check returns nil when c meets r, ErrNoToken when c is nil (no verified
// token reached the guard), and an *InsufficientError, which matches
// ErrInsufficientScope, otherwise.
func (r Requirement) Check(c *Claims) error {
	if c == nil {
		return ErrNoToken
	}
	if r.met(c) {
		return nil
	}
	return &InsufficientError{Requirement: r}
}

func (r Requirement) met(c *Claims) bool {
	if r.kind == kindFreshAuth {
		return r.maxAge > 0 && !c.AuthTime.IsZero() && r.now().Sub(c.AuthTime) <= r.maxAge
	}
	if r.kind == 0 || len(r.values) == 0 {
		return false
	}
	has := c.HasRole
	switch r.kind {
	case kindScopes:
		has = c.HasScope
	case kindAMR:
		has = c.HasAMR
	}
	if r.any {
		return slices.ContainsFunc(r.values, has)
	}
	for _, v := range r.values {
		if !has(v) {
			return false
		}
	}
	return true
}

// String describes r for logs, such as "all of roles [admin ops]".
func (r Requirement) String() string {
	var b strings.Builder
	if r.any {
		b.WriteString("one of ")
	} else {
		b.WriteString("all of ")
	}
	switch r.kind {
	case kindRoles:
		b.WriteString("roles [")
	case kindScopes:
		b.WriteString("scopes [")
	case kindAMR:
		b.WriteString("authentication methods [")
	case kindFreshAuth:
		return "authentication within " + r.maxAge.String()
	default:
		return "unset requirement"
	}
	b.WriteString(strings.Join(r.values, " "))
	b.WriteByte(']')
	return b.String()
}

// InsufficientError is the error of an unmet Requirement: the token is
// valid but lacks a role or scope, which matches ErrInsufficientScope and
// is answered 403, or its user authentication is too weak or too old,
// which matches ErrInsufficientAuthentication and is answered 401 (see
// ResponseFor).
type InsufficientError struct {
	// Requirement is the rule the token did not meet.
	Requirement Requirement
}

// Error implements error.
func (e *InsufficientError) Error() string {
	if e.stepUp() {
		return "middleware: insufficient user authentication: the token lacks " + e.Requirement.String()
	}
	return "middleware: insufficient scope: the token lacks " + e.Requirement.String()
}

// Is makes the error match ErrInsufficientScope, or
// ErrInsufficientAuthentication for AuthMethods and FreshAuth.
func (e *InsufficientError) Is(target error) bool {
	if e.stepUp() {
		return target == ErrInsufficientAuthentication
	}
	return target == ErrInsufficientScope
}

// stepUp reports whether the unmet requirement is about how the user
// authenticated rather than what the token grants.
func (e *InsufficientError) stepUp() bool {
	return e.Requirement.kind == kindAMR || e.Requirement.kind == kindFreshAuth
}

// challengeParams are the RFC 9470 parameters of a step-up challenge.
func (r Requirement) challengeParams() string {
	switch r.kind {
	case kindAMR:
		var valid []string
		for _, m := range r.values {
			if validScopeToken(m) {
				valid = append(valid, m)
			}
		}
		if len(valid) > 0 {
			return `, acr_values="` + strings.Join(valid, " ") + `"`
		}
	case kindFreshAuth:
		if r.maxAge > 0 {
			return `, max_age="` + strconv.FormatInt(int64(r.maxAge/time.Second), 10) + `"`
		}
	}
	return ""
}

// Require returns net/http middleware that passes a request on only when
// the claims in its context (put there by Verifier.Handler, which must run
// first) meet every one of reqs; otherwise it answers 401 (no claims) or
// 403 insufficient_scope. Guards compose: Require(a, b) is
// Require(a)∘Require(b).
func Require(reqs ...Requirement) func(http.Handler) http.Handler {
	reqs = slices.Clone(reqs)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := ClaimsFrom(r.Context())
			if err := Authorize(c, reqs...); err != nil {
				WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Authorize checks c against every one of reqs and returns the first
// failure: ErrNoToken when c is nil, else an *InsufficientError. No
// requirement at all is a failure too: a guard with nothing to check is a
// mistake, and it fails closed. Adapters other than net/http call it.
func Authorize(c *Claims, reqs ...Requirement) error {
	if c == nil {
		return ErrNoToken
	}
	if len(reqs) == 0 {
		return &InsufficientError{}
	}
	for _, req := range reqs {
		if err := req.Check(c); err != nil {
			return err
		}
	}
	return nil
}

// RequireRoles is Require(AllRoles(roles...)): the token must carry every
// one of roles.
func RequireRoles(roles ...string) func(http.Handler) http.Handler {
	return Require(AllRoles(roles...))
}

// RequireAnyRole is Require(AnyRole(roles...)): the token must carry at
// least one of roles.
func RequireAnyRole(roles ...string) func(http.Handler) http.Handler {
	return Require(AnyRole(roles...))
}

// RequireScopes is Require(AllScopes(scopes...)): the token's scope must
// list every one of scopes.
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return Require(AllScopes(scopes...))
}

// RequireAMR is Require(AuthMethods(methods...)): the user must have
// authenticated with every one of methods (amr), else the RFC 9470
// step-up challenge.
func RequireAMR(methods ...string) func(http.Handler) http.Handler {
	return Require(AuthMethods(methods...))
}

// RequireFreshAuth is Require(FreshAuth(maxAge)): the user must have
// authenticated at most maxAge ago (auth_time), else the RFC 9470
// challenge with max_age.
func RequireFreshAuth(maxAge time.Duration) func(http.Handler) http.Handler {
	return Require(FreshAuth(maxAge))
}

// RequireAnyScope is Require(AnyScope(scopes...)): the token's scope must
// list at least one of scopes.
func RequireAnyScope(scopes ...string) func(http.Handler) http.Handler {
	return Require(AnyScope(scopes...))
}
