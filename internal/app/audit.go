package app

import (
	"context"
	"log/slog"

	"github.com/authd/authd/internal/audit"
	"github.com/authd/authd/internal/auth"
)

// openAudit starts the audit trail writer and makes it the first of the
// service's event sinks (a.events); other sinks (metrics) are appended to
// a.events before the service is built. Every event the service records
// lands there, the admin calls of the CLI included (it opens an App too).
func (a *App) openAudit() {
	a.Audit = audit.NewWriter(a.Store, a.log, a.clock)
	a.events = append(auth.EventSinks{a.Audit}, a.events...)
}

// closeAudit writes the queued events within the shutdown timeout; it runs
// before the store closes.
func (a *App) closeAudit() {
	if a.Audit == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.Audit.Close(ctx); err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "audit events left unwritten at shutdown", slog.Any("error", err))
	}
}
