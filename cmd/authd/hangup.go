package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// reloadKeysOnHangup re-reads the signing keys from the store each time the
// process receives SIGHUP, until ctx ends. `authd keys revoke` runs in a
// process of its own, so a serving replica learns of a revocation at its
// next reload (AUTHD_KEY_RELOAD_INTERVAL); a SIGHUP makes it distrust the
// key at once. The returned function stops listening.
func reloadKeysOnHangup(ctx context.Context, reload func(context.Context) error, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := reload(ctx); err != nil {
					log.LogAttrs(ctx, slog.LevelWarn, "key reload on SIGHUP failed", slog.Any("error", err))
					continue
				}
				log.LogAttrs(ctx, slog.LevelInfo, "signing keys reloaded on SIGHUP")
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		<-done
	}
}
