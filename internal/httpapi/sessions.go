package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

type sessionResponse struct {
	ID              string    `json:"id"`
	CreatedAt       time.Time `json:"created_at"`
	LastRefreshedAt time.Time `json:"last_refreshed_at"`
	UserAgent       string    `json:"user_agent"`
	IP              string    `json:"ip"`
	Current         bool      `json:"current"`
}

func (a *API) sessions(c *gin.Context) {
	list, err := a.svc.Sessions(c.Request.Context(), callerOf(c))
	if err != nil {
		a.writeError(c, err)
		return
	}
	out := make([]sessionResponse, len(list))
	for i, s := range list {
		out[i] = sessionResponse{ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastRefreshedAt: s.LastRefreshedAt.UTC(),
			UserAgent: s.UserAgent, IP: s.IP, Current: s.Current}
	}
	writePrivate(c, http.StatusOK, gin.H{"sessions": out})
}

func (a *API) revokeSession(c *gin.Context) {
	if err := a.svc.RevokeSession(c.Request.Context(), callerOf(c), c.Param("id")); err != nil {
		a.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
