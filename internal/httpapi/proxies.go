package httpapi

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"
)

// trustProxies decides where c.ClientIP() (recorded on sessions, logged)
// comes from. With no trusted proxy it is the TCP peer and forwarding
// headers are ignored, so a client cannot choose the IP it is recorded
// under. With trusted proxies, X-Forwarded-For (then X-Real-IP) is read
// right to left, skipping trusted hops, only when the peer is one of them.
func (a *API) trustProxies(r *gin.Engine) {
	if proxies := a.cfg.TrustedProxies; len(proxies) > 0 {
		err := r.SetTrustedProxies(proxies)
		if err == nil {
			r.ForwardedByClientIP = true
			r.RemoteIPHeaders = []string{"X-Forwarded-For", "X-Real-IP"}
			return
		}
		// config validates the list; should a bad entry get here, trusting
		// nobody is the safe fallback.
		a.log.LogAttrs(context.Background(), slog.LevelError, "invalid trusted proxies; trusting none", slog.Any("error", err))
	}
	_ = r.SetTrustedProxies(nil)
	r.ForwardedByClientIP = false
	r.RemoteIPHeaders = nil
}
