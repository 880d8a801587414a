package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/authd/authd/pkg/store"
	"github.com/gin-gonic/gin"
)

// adminRoutes registers the admin API on g, whose requests already carry
// a verified token with the admin role.
func (a *API) adminRoutes(g *gin.RouterGroup) {
	g.GET("/users", a.adminListUsers)
	g.POST("/users", a.adminCreateUser)
	g.GET("/users/:id", a.adminUser)
	g.DELETE("/users/:id", a.adminAction(a.svc.DeleteUser))
	g.POST("/users/:id/disable", a.adminAction(a.svc.DisableUser))
	g.POST("/users/:id/enable", a.adminAction(a.svc.EnableUser))
	g.POST("/users/:id/logout", a.adminAction(a.svc.LogoutUser))
	g.DELETE("/users/:id/mfa", a.adminAction(a.svc.ResetMFA))
	g.PUT("/users/:id/roles/:role", a.adminRoleAction(a.svc.GrantRole))
	g.DELETE("/users/:id/roles/:role", a.adminRoleAction(a.svc.RevokeRole))
	g.GET("/audit", a.adminAudit)
}

// actorOf is the admin making the request: the token's subject, from the
// request's device.
func actorOf(c *gin.Context) auth.Actor {
	claims, _ := ginmw.ClaimsFrom(c)
	return auth.Actor{UserID: claims.Subject, Device: deviceOf(c)}
}

// adminUserResponse is a user as the admin API shows one.
type adminUserResponse struct {
	ID            string     `json:"id"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	Disabled      bool       `json:"disabled"`
	Roles         []string   `json:"roles"`
	CreatedAt     time.Time  `json:"created_at"`
	LastLoginAt   *time.Time `json:"last_login_at"` // null: never
}

type adminUserDetailResponse struct {
	adminUserResponse
	Sessions int `json:"sessions"`
}

func adminUser(u store.User) adminUserResponse {
	out := adminUserResponse{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Disabled: u.Disabled,
		Roles: u.Roles, CreatedAt: u.CreatedAt.UTC(), LastLoginAt: timeOrNull(u.LastLoginAt.UTC())}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	return out
}

// timeOrNull is an optional time of a response: null when it is zero
// (never happened).
func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// nextCursor is a page's next_cursor: null on the last page.
func nextCursor(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *API) adminListUsers(c *gin.Context) {
	q, err := readQuery(c, "cursor", "limit", "email_prefix", "role", "disabled")
	if err != nil {
		a.writeError(c, err)
		return
	}
	f := auth.UserFilter{Cursor: q["cursor"], EmailPrefix: q["email_prefix"], Role: q["role"]}
	if f.Limit, err = queryLimit(q["limit"]); err != nil {
		a.writeError(c, err)
		return
	}
	if f.Disabled, err = queryBool("disabled", q["disabled"]); err != nil {
		a.writeError(c, err)
		return
	}
	page, err := a.svc.ListUsers(c.Request.Context(), f)
	if err != nil {
		a.writeError(c, err)
		return
	}
	users := make([]adminUserResponse, len(page.Users))
	for i, u := range page.Users {
		users[i] = adminUser(u)
	}
	writePrivate(c, http.StatusOK, gin.H{"users": users, "next_cursor": nextCursor(page.NextCursor)})
}

func (a *API) adminUser(c *gin.Context) {
	d, err := a.svc.UserDetail(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusOK, adminUserDetailResponse{adminUserResponse: adminUser(d.User), Sessions: d.Sessions})
}

func (a *API) adminCreateUser(c *gin.Context) {
	var req struct {
		Email         string   `json:"email" authd:"required"`
		Password      *string  `json:"password"`
		Roles         []string `json:"roles"`
		EmailVerified bool     `json:"email_verified"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	in := auth.NewUser{Email: req.Email, Roles: req.Roles, EmailVerified: req.EmailVerified}
	if req.Password != nil {
		if *req.Password == "" {
			a.writeError(c, badRequest("password, when given, must not be empty; leave it out to mail an invitation"))
			return
		}
		in.Password = *req.Password
	}
	u, err := a.svc.CreateUser(c.Request.Context(), actorOf(c), in)
	if err != nil {
		a.writeError(c, err)
		return
	}
	c.Header("Location", "/v1/admin/users/"+u.ID)
	writePrivate(c, http.StatusCreated, adminUser(u))
}

// adminAction answers 204 after an action on the user or client named by
// the id in the path.
func (a *API) adminAction(do func(ctx context.Context, actor auth.Actor, id string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := do(c.Request.Context(), actorOf(c), c.Param("id")); err != nil {
			a.writeError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// adminRoleAction answers 204 after a grant or revocation of the role in
// the path; both are idempotent.
func (a *API) adminRoleAction(do func(ctx context.Context, actor auth.Actor, userID, role string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := do(c.Request.Context(), actorOf(c), c.Param("id"), c.Param("role")); err != nil {
			a.writeError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

type auditEventResponse struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Type      string    `json:"type"`
	Outcome   string    `json:"outcome"`
	UserID    string    `json:"user_id"`
	ActorID   string    `json:"actor_id"`
	SessionID string    `json:"session_id"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Detail    string    `json:"detail"`
}

func (a *API) adminAudit(c *gin.Context) {
	q, err := readQuery(c, "user_id", "type", "since", "cursor", "limit")
	if err != nil {
		a.writeError(c, err)
		return
	}
	f := auth.AuditFilter{UserID: q["user_id"], Type: q["type"], Cursor: q["cursor"]}
	if f.Limit, err = queryLimit(q["limit"]); err != nil {
		a.writeError(c, err)
		return
	}
	if s := q["since"]; s != "" {
		if f.Since, err = time.Parse(time.RFC3339, s); err != nil {
			a.writeError(c, badRequest("since must be an RFC 3339 time, e.g. 2026-01-02T03:04:05Z"))
			return
		}
	}
	page, err := a.svc.AuditEvents(c.Request.Context(), f)
	if err != nil {
		a.writeError(c, err)
		return
	}
	events := make([]auditEventResponse, len(page.Events))
	for i, e := range page.Events {
		events[i] = auditEventResponse{ID: e.ID, At: e.At.UTC(), Type: e.Type, Outcome: e.Outcome, UserID: e.UserID,
			ActorID: e.ActorID, SessionID: e.SessionID, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail}
	}
	writePrivate(c, http.StatusOK, gin.H{"events": events, "next_cursor": nextCursor(page.NextCursor)})
}

// readQuery returns the named query parameters (absent: ""), refusing
// one given twice: which of two values a proxy in front read is
// anyone's guess.
func readQuery(c *gin.Context, names ...string) (map[string]string, error) {
	all := c.Request.URL.Query()
	out := make(map[string]string, len(names))
	for _, n := range names {
		vs := all[n]
		if len(vs) > 1 {
			return nil, badRequest("query parameter " + n + " is repeated")
		}
		if len(vs) == 1 {
			out[n] = vs[0]
		}
	}
	return out, nil
}

// queryLimit parses a page size; the service checks its range.
func queryLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, badRequest("limit must be an integer between 1 and 200")
	}
	return n, nil
}

// queryBool parses an optional true/false filter.
func queryBool(name, s string) (*bool, error) {
	switch s {
	case "":
		return nil, nil
	case "true", "false":
		b := s == "true"
		return &b, nil
	}
	return nil, badRequest(name + " must be true or false")
}
