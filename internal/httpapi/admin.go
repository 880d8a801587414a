package httpapi

import "github.com/gin-gonic/gin"

// adminRoutes registers the admin API on g, whose requests already carry
// a verified token with the admin role.
func (a *API) adminRoutes(g *gin.RouterGroup) {
	_ = g
}
