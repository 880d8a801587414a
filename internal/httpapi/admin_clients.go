package httpapi

import (
	"net/http"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/gin-gonic/gin"
)

// adminClientRoutes registers the service-client part of the admin API on
// g, whose requests already carry a verified token with the admin role.
func (a *API) adminClientRoutes(g *gin.RouterGroup) {
	g.GET("/clients", a.adminListClients)
	g.POST("/clients", a.adminCreateClient)
	g.GET("/clients/:id", a.adminGetClient)
	g.POST("/clients/:id/rotate-secret", a.adminRotateClientSecret)
	g.POST("/clients/:id/disable", a.adminAction(a.svc.DisableClient))
	g.POST("/clients/:id/enable", a.adminAction(a.svc.EnableClient))
	g.DELETE("/clients/:id", a.adminAction(a.svc.DeleteClient))
}

// clientResponse is a client as the admin API shows it: never a secret.
type clientResponse struct {
	ClientID            string     `json:"client_id"`
	Name                string     `json:"name"`
	Scopes              []string   `json:"scopes"`
	Audiences           []string   `json:"audiences"`
	Disabled            bool       `json:"disabled"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
	LastUsedAt          *time.Time `json:"last_used_at"`
	PrevSecretExpiresAt *time.Time `json:"prev_secret_expires_at,omitempty"`
}

// clientSecretResponse adds the secret, shown once (create, rotation).
type clientSecretResponse struct {
	clientResponse
	ClientSecret string `json:"client_secret"`
}

func toClientSecretResponse(cs auth.ClientSecret) clientSecretResponse {
	return clientSecretResponse{clientResponse: toClientResponse(cs.Client), ClientSecret: cs.Secret}
}

func toClientResponse(ci auth.ClientInfo) clientResponse {
	return clientResponse{ClientID: ci.ID, Name: ci.Name, Scopes: ci.Scopes, Audiences: ci.Audiences,
		Disabled: ci.Disabled, CreatedAt: ci.CreatedAt, UpdatedAt: ci.UpdatedAt,
		LastUsedAt: timeOrNull(ci.LastUsedAt), PrevSecretExpiresAt: timeOrNull(ci.PrevSecretExpiresAt)}
}

func (a *API) adminListClients(c *gin.Context) {
	cs, err := a.svc.ListClients(c.Request.Context())
	if err != nil {
		a.writeError(c, err)
		return
	}
	out := make([]clientResponse, len(cs))
	for i, ci := range cs {
		out[i] = toClientResponse(ci)
	}
	writePrivate(c, http.StatusOK, gin.H{"clients": out})
}

func (a *API) adminCreateClient(c *gin.Context) {
	var req struct {
		Name      string   `json:"name" authd:"required"`
		Scopes    []string `json:"scopes"`
		Audiences []string `json:"audiences"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	cs, err := a.svc.CreateClient(c.Request.Context(), actorOf(c),
		auth.NewClient{Name: req.Name, Scopes: req.Scopes, Audiences: req.Audiences})
	if err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusCreated, toClientSecretResponse(cs))
}

func (a *API) adminGetClient(c *gin.Context) {
	ci, err := a.svc.Client(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toClientResponse(ci))
}

func (a *API) adminRotateClientSecret(c *gin.Context) {
	var grace time.Duration
	if c.Request.ContentLength != 0 {
		var req struct {
			Grace string `json:"grace"`
		}
		if !a.decodeJSON(c, &req) {
			return
		}
		if req.Grace != "" {
			d, err := time.ParseDuration(req.Grace)
			if err != nil {
				a.writeError(c, badRequest(`grace is a duration such as "24h"`))
				return
			}
			grace = d
		}
	}
	cs, err := a.svc.RotateClientSecret(c.Request.Context(), actorOf(c), c.Param("id"), grace)
	if err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toClientSecretResponse(cs))
}
