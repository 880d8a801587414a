// Package authdtest runs authd in-process for the tests of the packages
// above internal/app (the end-to-end suite, the load generator). It lives
// apart from internal/testenv, which every layer's tests import, so that
// only those tests link the whole service.
package authdtest

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
)

// Serve opens authd with cfg and serves it on ln until the test ends or
// stop is called. stop, safe to call more than once, shuts it down, waits
// for Serve to return and reports its error.
func Serve(t testing.TB, cfg config.Config, ln net.Listener, log *slog.Logger, opts ...app.Option) (a *app.App, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, log, opts...)
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("open app: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			a.Close()
		})
	}
	t.Cleanup(stop)
	return a, stop
}
