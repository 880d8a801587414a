// Package service is the part of the examples that is the same on every
// web framework: the Verifier configured from authd's environment, the
// HTTP server's lifecycle and what the protected routes answer.
// examples/nethttp and examples/gin add only their framework's routing;
// a service copying an example copies this file with it.
//
// Configuration, from the environment:
//
//	AUTHD_ISSUER            authd's issuer URL (required); keys come from its discovery document
//	AUTHD_AUDIENCE          the audience tokens must name (default: the issuer, as authd's default)
//	AUTHD_REDIS_URL         authd's Redis, to refuse revoked tokens (optional), in any form
//	                        authd accepts: redis://, rediss://, redis+cluster://h1:p1,h2:p2,
//	                        redis+sentinel://s1:p1,s2:p2/MASTER_NAME[/DB] (pkg/redisurl)
//	AUTHD_REDIS_KEY_PREFIX  authd's denylist prefix (default "authd:dl:")
//	AUTHD_DENYLIST_LAYOUT   authd's key layout: v1+v2 (default) or v2, as authd is set
//	ADDR                    listen address (default: the example's own)
package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/redisurl"
	"github.com/redis/go-redis/v9"
)

// Routes is what an example adds: its framework's router, with the
// protected routes behind v.
type Routes func(v *middleware.Verifier) http.Handler

// Main runs the service until SIGINT or SIGTERM, listening on ADDR or
// addr, and exits 1 on an error.
func Main(addr string, routes Routes) {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Getenv, log, addr, routes); err != nil {
		log.Error("exiting", slog.Any("error", err))
		os.Exit(1)
	}
}

// Run serves routes, behind the verifier getenv describes, until ctx
// ends; addr is the listen address when ADDR is unset.
func Run(ctx context.Context, getenv func(string) string, log *slog.Logger, addr string, routes Routes) error {
	v, closeAll, err := NewVerifier(getenv, log)
	if err != nil {
		return err
	}
	defer closeAll()

	srv := &http.Server{
		Addr:              cmp.Or(getenv("ADDR"), addr),
		Handler:           routes(v),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", slog.String("addr", srv.Addr), slog.String("issuer", getenv("AUTHD_ISSUER")))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// NewVerifier builds the verifier the environment describes, and a func
// that stops it and closes its Redis client.
func NewVerifier(getenv func(string) string, log *slog.Logger) (*middleware.Verifier, func(), error) {
	issuer := getenv("AUTHD_ISSUER")
	if issuer == "" {
		return nil, nil, errors.New("AUTHD_ISSUER is required")
	}
	opts := []middleware.Option{
		middleware.WithIssuer(issuer),
		middleware.WithAudience(cmp.Or(getenv("AUTHD_AUDIENCE"), issuer)),
		middleware.WithDiscovery(),
		middleware.WithLogger(log),
	}
	var client redis.UniversalClient
	if u := getenv("AUTHD_REDIS_URL"); u != "" {
		rcfg, err := redisurl.Parse(u)
		if err != nil {
			return nil, nil, fmt.Errorf("AUTHD_REDIS_URL: must be one of %s: %w", redisurl.Forms, err)
		}
		layout, err := denylist.ParseLayout(cmp.Or(getenv("AUTHD_DENYLIST_LAYOUT"), "v1+v2"))
		if err != nil {
			return nil, nil, fmt.Errorf("AUTHD_DENYLIST_LAYOUT: %w", err)
		}
		client = rcfg.NewClient(redisurl.ClientOptions{DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
		dl := denylist.NewRedis(client, denylist.WithKeyPrefix(cmp.Or(getenv("AUTHD_REDIS_KEY_PREFIX"), denylist.DefaultKeyPrefix)),
			denylist.WithLayout(layout))
		// FailClosed: while Redis is down, answer 503 rather than let a
		// revoked token through.
		opts = append(opts, middleware.WithRevocation(dl, middleware.FailClosed))
	}
	v, err := middleware.NewVerifier(opts...)
	if err != nil {
		if client != nil {
			client.Close()
		}
		return nil, nil, err
	}
	return v, func() {
		v.Close() // stops the background JWKS refresh
		if client != nil {
			client.Close()
		}
	}, nil
}

// Hello is the answer of GET /hello to the holder of c.
func Hello(c *middleware.Claims) string {
	return fmt.Sprintf("hello %s (roles %v, scopes %v, token expires %s)\n", c.Subject, c.Roles, c.Scopes(), c.ExpiresAt.UTC().Format(time.RFC3339))
}

// Admin is the answer of GET /admin to the holder of c.
func Admin(c *middleware.Claims) string {
	return fmt.Sprintf("welcome, admin %s\n", c.Subject)
}
