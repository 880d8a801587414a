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
)

// openHasher builds the bcrypt gate (a.Gate) and the Hasher behind it,
// on the niced threads of openBcryptPool where they can run.
func (a *App) openHasher() *password.Hasher {
	slots := a.openBcryptPool()
	a.Gate = admission.New(slots, a.bcryptQueue(), a.cfg.BcryptMaxWait)
	hashOpts := []password.HasherOption{password.WithGate(a.Gate)}
	if a.bcryptPool != nil {
		hashOpts = append(hashOpts, password.WithRunner(a.bcryptPool))
	}
	return password.NewHasher(a.cfg.BcryptCost, hashOpts...)
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
func (a *App) openLimits() (auth.Limits, httpapi.RateLimits, error) {
	if !a.cfg.RateLimitEnabled {
		return auth.Limits{}, httpapi.RateLimits{}, nil
	}
	parsed, err := a.cfg.RateLimits()
	if err != nil {
		return auth.Limits{}, httpapi.RateLimits{}, err
	}
	var (
		limiter ratelimit.Limiter
		backoff ratelimit.Backoff
	)
	if a.redis != nil {
		prefix := ratelimit.WithKeyPrefix(a.cfg.RateLimitKeyPrefix)
		limiter = ratelimit.NewRedis(a.redis, prefix)
		backoff, err = ratelimit.NewRedisBackoff(a.redis, ratelimit.DefaultBackoffPolicy(), prefix)
	} else {
		clock := ratelimit.WithClock(a.clock)
		limiter = ratelimit.NewMemory(clock)
		backoff, err = ratelimit.NewMemoryBackoff(ratelimit.DefaultBackoffPolicy(), clock)
	}
	if err != nil {
		return auth.Limits{}, httpapi.RateLimits{}, fmt.Errorf("login backoff: %w", err)
	}
	clientID, err := a.newBackoff(clientBackoff(parsed.ClientID))
	if err != nil {
		return auth.Limits{}, httpapi.RateLimits{}, fmt.Errorf("AUTHD_RATELIMIT_CLIENT_ID: %w", err)
	}
	clientIP, err := a.newBackoff(clientBackoff(parsed.ClientIP))
	if err != nil {
		return auth.Limits{}, httpapi.RateLimits{}, fmt.Errorf("AUTHD_RATELIMIT_CLIENT_IP: %w", err)
	}
	fo := newFailOpen(a.log)
	limiter = failOpenLimiter{limiter, fo}
	backoff = failOpenBackoff{backoff, fo}
	return auth.Limits{Limiter: limiter, Backoff: backoff, LoginAccount: limit(parsed.LoginAccount), ForgotAccount: limit(parsed.ForgotAccount),
			ChangeAccount: limit(parsed.ChangeAccount),
			ClientID:      failOpenBackoff{clientID, fo}, ClientIP: failOpenBackoff{clientIP, fo}},
		httpapi.RateLimits{Limiter: limiter, PerIP: perIP(parsed.PerIP)},
		nil
}

// openBcryptPool decides where bcrypt runs and returns the gate's slot
// count. AUTHD_BCRYPT_MAX_CONCURRENT = 0 means one slot per CPU, each on a
// thread of an admission.NicedPool at AUTHD_BCRYPT_NICE: the kernel gives bcrypt only the CPU
// time requests leave, so a login flood uses every CPU yet /v1/verify,
// refresh and JWKS stay fast and logins reach the bcrypt bound. Where
// threads cannot be niced, bcrypt runs at normal priority on one slot per
// CPU but one, so that a flood always leaves a CPU to the rest (with every
// CPU hashing at normal priority, verification latency grows by an order
// of magnitude: docs/benchmarks.md, "Figures behind design choices"), at
// the price of login throughput. A set value is used as it is, niced where
// possible; so is AUTHD_BCRYPT_NICE = 0 (normal priority).
func (a *App) openBcryptPool() int {
	cpus := runtime.GOMAXPROCS(0)
	slots := a.cfg.BcryptMaxConcurrent
	if slots <= 0 {
		slots = cpus
	}
	reason := "AUTHD_BCRYPT_NICE is 0"
	if a.cfg.BcryptNice > 0 {
		pool, err := admission.NewNicedPool(slots, a.cfg.BcryptNice)
		if err == nil {
			a.bcryptPool = pool
			return slots
		}
		reason = err.Error()
		a.log.Warn("bcrypt runs at normal priority: its threads cannot be niced", slog.String("reason", reason))
	}
	if a.cfg.BcryptMaxConcurrent <= 0 {
		slots = max(1, cpus-1)
	}
	a.log.Debug("bcrypt runs at normal priority", slog.Int("slots", slots), slog.String("reason", reason))
	return slots
}

// BcryptThreads returns how many low-priority threads run bcrypt (0 when it
// runs at normal priority).
func (a *App) BcryptThreads() int {
	if a.bcryptPool == nil {
		return 0
	}
	return a.bcryptPool.Workers()
}

// closeBcryptPool ends the bcrypt threads; call it once nothing hashes.
func (a *App) closeBcryptPool() {
	if a.bcryptPool != nil {
		a.bcryptPool.Close()
	}
}

// bcryptQueue maps AUTHD_BCRYPT_MAX_QUEUE to admission.New's argument: 0
// there means no queue, but in the config it means the default, 4×.
func (a *App) bcryptQueue() int {
	if a.cfg.BcryptMaxQueue == 0 {
		return -1
	}
	return a.cfg.BcryptMaxQueue
}

// newBackoff builds a backoff of policy p where the limiter lives: Redis
// when configured, else in process.
func (a *App) newBackoff(p ratelimit.BackoffPolicy) (ratelimit.Backoff, error) {
	if a.redis != nil {
		return ratelimit.NewRedisBackoff(a.redis, p, ratelimit.WithKeyPrefix(a.cfg.RateLimitKeyPrefix))
	}
	return ratelimit.NewMemoryBackoff(p, ratelimit.WithClock(a.clock))
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
