package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/audit"
	"github.com/authd/authd/pkg/store"
)

// openAudit starts the audit trail writer and returns it with its close,
// which writes the queued events within the shutdown timeout and must run
// before the store closes. The writer is the first of the service's event
// sinks, so every event the service records lands there, the admin
// commands' included.
func openAudit(cfg config.Config, st store.AuditLog, log *slog.Logger, clock func() time.Time) (*audit.Writer, func() error) {
	w := audit.NewWriter(st, log, clock)
	return w, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "audit events left unwritten at shutdown", slog.Any("error", err))
		}
		return nil
	}
}
