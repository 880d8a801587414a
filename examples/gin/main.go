// Command gin is a small gin microservice that accepts authd access
// tokens: GET /hello for any signed-in user, GET /admin for users with the
// "admin" role. It reads the same environment as examples/nethttp.
//
//	AUTHD_ISSUER            authd's issuer URL (required); keys come from its discovery document
//	AUTHD_AUDIENCE          the audience tokens must name (default: the issuer)
//	AUTHD_REDIS_URL         authd's Redis, to refuse revoked tokens (optional), in any form
//	                        authd accepts: redis://, rediss://, redis+cluster://h1:p1,h2:p2,
//	                        redis+sentinel://s1:p1,s2:p2/MASTER_NAME[/DB] (pkg/redisurl)
//	AUTHD_REDIS_KEY_PREFIX  authd's denylist prefix (default "authd:dl:")
//	AUTHD_DENYLIST_LAYOUT   authd's key layout: v1+v2 (default) or v2, as authd is set
//	ADDR                    listen address (default ":8082")
package main

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
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/authd/authd/pkg/redisurl"
	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, log); err != nil {
		log.Error("exiting", slog.Any("error", err))
		os.Exit(1)
	}
}

// newVerifier builds the verifier the environment describes, and a func
// that stops it and closes its Redis client.
func newVerifier(getenv func(string) string, log *slog.Logger) (*middleware.Verifier, func(), error) {
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

// run serves until ctx ends.
func run(ctx context.Context, getenv func(string) string, log *slog.Logger) error {
	v, closeAll, err := newVerifier(getenv, log)
	if err != nil {
		return err
	}
	defer closeAll()

	gin.SetMode(gin.ReleaseMode)
	srv := &http.Server{
		Addr:              cmp.Or(getenv("ADDR"), ":8082"),
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

// routes protects the /hello and /admin routes with v.
func routes(v *middleware.Verifier) http.Handler {
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	authed := r.Group("/", ginmw.Authenticate(v))
	authed.GET("/hello", func(c *gin.Context) {
		claims, _ := ginmw.ClaimsFrom(c)
		c.JSON(http.StatusOK, gin.H{"hello": claims.Subject, "roles": claims.Roles, "scopes": claims.Scopes()})
	})
	authed.GET("/admin", ginmw.RequireRoles("admin"), func(c *gin.Context) {
		claims, _ := ginmw.ClaimsFrom(c)
		c.JSON(http.StatusOK, gin.H{"admin": claims.Subject})
	})
	return r
}
