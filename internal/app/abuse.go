package app

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/password/breached"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/redis/go-redis/v9"
)

// hashing is the hashing part of the server: the bcrypt gate that admits
// every computation (AUTHD_BCRYPT_MAX_*), the niced threads it runs on
// where they can run (nil otherwise), and the Hasher behind both.
type hashing struct {
	gate   *admission.Gate
	pool   *admission.NicedPool
	hasher *password.Hasher
}

// openHashing builds the gate and the Hasher behind it, on the niced
// threads of openBcryptPool where they can run. close ends the threads.
func openHashing(cfg config.Config, log *slog.Logger) *hashing {
	h := &hashing{}
	var slots int
	slots, h.pool = openBcryptPool(cfg, log)
	h.gate = admission.New(slots, bcryptQueue(cfg), cfg.BcryptMaxWait)
	hashOpts := []password.HasherOption{password.WithGate(h.gate)}
	if h.pool != nil {
		hashOpts = append(hashOpts, password.WithRunner(h.pool))
	}
	h.hasher = password.NewHasher(cfg.BcryptCost, hashOpts...)
	return h
}

// threads returns how many low-priority threads run bcrypt (0 when it runs
// at normal priority).
func (h *hashing) threads() int {
	if h.pool == nil {
		return 0
	}
	return h.pool.Workers()
}

// close ends the bcrypt threads; call it once nothing hashes.
func (h *hashing) close() error {
	if h.pool != nil {
		h.pool.Close()
	}
	return nil
}

// passwordPolicy is the policy of new passwords; the breached list starts
// loading in the background.
func passwordPolicy(cfg config.Config) password.Policy {
	return password.Policy{MinLength: cfg.PasswordMinLength, Breached: breached.Contains}
}

// openLimits builds, when enabled, the limiter and the login and client
// backoffs, in Redis if AUTHD_REDIS_URL is set, all failing open: the
// service's per-account limits and the API's per-IP ones. Disabled, both
// are zero values, which limit nothing.
func openLimits(cfg config.Config, log *slog.Logger, clock func() time.Time, rdb redis.UniversalClient) (auth.Limits, httpapi.RateLimits, error) {
	if !cfg.RateLimitEnabled {
		return auth.Limits{}, httpapi.RateLimits{}, nil
	}
	parsed, err := cfg.RateLimits()
	if err != nil {
		return auth.Limits{}, httpapi.RateLimits{}, err
	}
	// The backoffs live where the limiter lives: Redis when configured,
	// else in the process.
	newBackoff := func(p ratelimit.BackoffPolicy) (ratelimit.Backoff, error) {
		if rdb != nil {
			return ratelimit.NewRedisBackoff(rdb, p, ratelimit.WithKeyPrefix(cfg.RateLimitKeyPrefix))
		}
		return ratelimit.NewMemoryBackoff(p, ratelimit.WithClock(clock))
	}
	var limiter ratelimit.Limiter
	if rdb != nil {
		limiter = ratelimit.NewRedis(rdb, ratelimit.WithKeyPrefix(cfg.RateLimitKeyPrefix))
	} else {
		limiter = ratelimit.NewMemory(ratelimit.WithClock(clock))
	}
	backoff, err := newBackoff(ratelimit.DefaultBackoffPolicy())
	if err != nil {
		return auth.Limits{}, httpapi.RateLimits{}, fmt.Errorf("login backoff: %w", err)
	}
	clientID, err := newBackoff(clientBackoff(parsed.ClientID))
	if err != nil {
		return auth.Limits{}, httpapi.RateLimits{}, fmt.Errorf("AUTHD_RATELIMIT_CLIENT_ID: %w", err)
	}
	clientIP, err := newBackoff(clientBackoff(parsed.ClientIP))
	if err != nil {
		return auth.Limits{}, httpapi.RateLimits{}, fmt.Errorf("AUTHD_RATELIMIT_CLIENT_IP: %w", err)
	}
	fo := newFailOpen(log)
	limiter = failOpenLimiter{limiter, fo}
	backoff = failOpenBackoff{backoff, fo}
	return auth.Limits{Limiter: limiter, Backoff: backoff, LoginAccount: limit(parsed.LoginAccount), ForgotAccount: limit(parsed.ForgotAccount),
			ChangeAccount: limit(parsed.ChangeAccount),
			ClientID:      failOpenBackoff{clientID, fo}, ClientIP: failOpenBackoff{clientIP, fo}},
		httpapi.RateLimits{Limiter: limiter, PerIP: perIP(parsed.PerIP)},
		nil
}

// openBcryptPool decides where bcrypt runs and returns the gate's slot
// count and the niced pool (nil at normal priority). AUTHD_BCRYPT_MAX_CONCURRENT = 0 means one slot per CPU, each on a
// thread of an admission.NicedPool at AUTHD_BCRYPT_NICE: the kernel gives bcrypt only the CPU
// time requests leave, so a login flood uses every CPU yet /v1/verify,
// refresh and JWKS stay fast and logins reach the bcrypt bound. Where
// threads cannot be niced, bcrypt runs at normal priority on one slot per
// CPU but one, so that a flood always leaves a CPU to the rest (with every
// CPU hashing at normal priority, verification latency grows by an order
// of magnitude: docs/benchmarks.md, "Figures behind design choices"), at
// the price of login throughput. A set value is used as it is, niced where
// possible; so is AUTHD_BCRYPT_NICE = 0 (normal priority).
func openBcryptPool(cfg config.Config, log *slog.Logger) (int, *admission.NicedPool) {
	cpus := runtime.GOMAXPROCS(0)
	slots := cfg.BcryptMaxConcurrent
	if slots <= 0 {
		slots = cpus
	}
	reason := "AUTHD_BCRYPT_NICE is 0"
	if cfg.BcryptNice > 0 {
		pool, err := admission.NewNicedPool(slots, cfg.BcryptNice)
		if err == nil {
			return slots, pool
		}
		reason = err.Error()
		log.Warn("bcrypt runs at normal priority: its threads cannot be niced", slog.String("reason", reason))
	}
	if cfg.BcryptMaxConcurrent <= 0 {
		slots = max(1, cpus-1)
	}
	log.Debug("bcrypt runs at normal priority", slog.Int("slots", slots), slog.String("reason", reason))
	return slots, nil
}

// bcryptQueue maps AUTHD_BCRYPT_MAX_QUEUE to admission.New's argument: 0
// there means no queue, but in the config it means the default, 4×.
func bcryptQueue(cfg config.Config) int {
	if cfg.BcryptMaxQueue == 0 {
		return -1
	}
	return cfg.BcryptMaxQueue
}

// clientBackoff is the backoff policy of a client failure budget
// (AUTHD_RATELIMIT_CLIENT_*, "N/period"): N failures are free, each
// further one doubles a wait from 2 s up to 15 minutes, and the count
// restarts after a period without a failure.
func clientBackoff(l config.RateLimit) ratelimit.BackoffPolicy {
	return ratelimit.BackoffPolicy{Free: l.Rate, Base: time.Second, Max: 15 * time.Minute, Window: l.Period}
}

// perIP converts the per-endpoint limits of the config.
func perIP(ls map[string]config.RateLimit) map[string]ratelimit.Limit {
	out := make(map[string]ratelimit.Limit, len(ls))
	for name, l := range ls {
		out[name] = limit(l)
	}
	return out
}

// limit converts a parsed config limit.
func limit(l config.RateLimit) ratelimit.Limit {
	return ratelimit.Limit{Rate: l.Rate, Period: l.Period, Burst: l.Burst}
}
