package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
)

// Credential stuffing from many networks against one account: every
// attempt comes from another /24, so no per-IP budget or backoff stops it;
// the account's own limit does. Past its burst every attempt is a 429 that
// ran no bcrypt; a correct login from a new IP works once the limit has
// refilled.
func TestStuffingManyIPsOneAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := abuseConfig(t, b)
		cfg.RateLimitLoginAccount = "60/1m:5" // one attempt a second after a burst of 5
		s := start(t, cfg, newClock())
		s.register("vic@example.com", pw).want(t, http.StatusCreated)

		before, began := s.bcrypts(), time.Now()
		var unauthorized, limited int
		var retry time.Duration
		for i := range 50 {
			r := s.attempt(fmt.Sprintf("203.0.%d.7", i), "vic@example.com", "wrong horse battery")
			switch r.Status {
			case http.StatusUnauthorized:
				unauthorized++
			case http.StatusTooManyRequests:
				limited++
				retry = r.wantRateLimited(t)
			default:
				t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
			}
		}
		ran := s.bcrypts() - before
		// The burst, plus one a second on Redis's real clock.
		bound := uint64(5 + time.Since(began)/time.Second + 1)
		if ran != uint64(unauthorized) || ran > bound || limited < 50-int(bound) {
			t.Fatalf("bcrypt ran %d times for %d 401s and %d 429s; want at most %d", ran, unauthorized, limited, bound)
		}
		t.Logf("50 attempts from 50 networks: %d answered 401 after bcrypt, %d answered 429 without", unauthorized, limited)

		s.wait(cfg, retry)
		s.attempt("192.0.2.200", "vic@example.com", pw).want(t, http.StatusOK)
	})
}

// Repeated failures from one network slow that network's next attempts
// down (429 without bcrypt, even with the right password), but not the
// owner's attempts from elsewhere; waiting out the delay or a success
// resets it, and so does a completed password reset.
func TestLoginBackoffPerNetwork(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := abuseConfig(t, b)
		cfg.RateLimitLoginIP, cfg.RateLimitLoginAccount = "1000/1m:1000", "1000/1m:1000" // the backoff alone
		mails := withMail(t, &cfg)
		s := start(t, cfg, newClock())
		s.signUp(mails, "ivy@example.com")

		// Five free failures, then the sixth imposes 2 s.
		for i := range 6 {
			s.attempt(fmt.Sprintf("198.51.100.%d", i+1), "ivy@example.com", "wrong horse battery").
				wantError(t, http.StatusUnauthorized, "invalid_credentials")
		}
		before := s.bcrypts()
		retry := s.attempt("198.51.100.99", "ivy@example.com", pw).wantRateLimited(t)
		if retry != 2*time.Second {
			t.Errorf("Retry-After %s, want 2s after the first failure past the free ones", retry)
		}
		s.attempt("198.51.100.99", "ivy@example.com", "wrong horse battery").wantRateLimited(t)
		if n := s.bcrypts() - before; n != 0 {
			t.Fatalf("%d bcrypt computations during the backoff", n)
		}
		// An unknown email is slowed down exactly like a known one: the
		// backoff is keyed on the address, and its failures count too.
		for i := range 6 {
			s.attempt(fmt.Sprintf("198.51.100.%d", i+1), "ghost@example.com", "wrong horse battery").want(t, http.StatusUnauthorized)
		}
		if got := s.attempt("198.51.100.99", "ghost@example.com", pw).wantRateLimited(t); got != retry {
			t.Errorf("unknown email: Retry-After %s, known one %s", got, retry)
		}
		// The owner, elsewhere, is not slowed down.
		s.attempt("203.0.113.5", "ivy@example.com", pw).want(t, http.StatusOK)

		// A completed password reset from the slowed network clears it.
		s.postFrom("198.51.100.1", "/v1/password/forgot", map[string]string{"email": "ivy@example.com"}).want(t, http.StatusAccepted)
		tok := tokenFrom(t, nextMail(t, mails, "ivy@example.com", "Reset"), "/reset-password")
		s.postFrom("198.51.100.1", "/v1/password/reset", map[string]string{"token": tok, "password": newPW}).want(t, http.StatusNoContent)
		s.attempt("198.51.100.1", "ivy@example.com", newPW).want(t, http.StatusOK)

		// Failures again; waiting out the delay lets a success through,
		// which forgets the failures: the next one is free again.
		for range 6 {
			s.attempt("198.51.100.2", "ivy@example.com", "wrong horse battery").want(t, http.StatusUnauthorized)
		}
		retry = s.attempt("198.51.100.2", "ivy@example.com", newPW).wantRateLimited(t)
		s.wait(cfg, retry)
		s.attempt("198.51.100.2", "ivy@example.com", newPW).want(t, http.StatusOK)
		s.attempt("198.51.100.2", "ivy@example.com", "wrong horse battery").want(t, http.StatusUnauthorized)
		s.attempt("198.51.100.2", "ivy@example.com", newPW).want(t, http.StatusOK)
	})
}

// Password spraying from one IP over many accounts: the IP's login budget
// stops it, before the body is even read; other IPs are unaffected.
func TestSprayingOneIPManyAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := abuseConfig(t, b)
		// The IP limit alone; slow to refill, so that a slow machine on
		// Redis's real clock sees the same answers.
		cfg.RateLimitLoginIP, cfg.RateLimitLoginAccount = "10/1h:10", "1000/1m:1000"
		s := start(t, cfg, newClock())

		before, began := s.bcrypts(), time.Now()
		var limited int
		for i := range 30 {
			r := s.attempt("192.0.2.66", fmt.Sprintf("user%d@example.com", i), "Summer2024!")
			if r.Status == http.StatusTooManyRequests {
				r.wantRateLimited(t)
				limited++
			} else {
				r.wantError(t, http.StatusUnauthorized, "invalid_credentials")
			}
		}
		// The burst of 10, plus one every 6 min on Redis's real clock.
		allowed := 10 + int(time.Since(began)/(6*time.Minute)) + 1
		if ran := s.bcrypts() - before; limited < 30-allowed || ran != uint64(30-limited) {
			t.Fatalf("%d of 30 limited, bcrypt ran %d times; want at most %d allowed", limited, ran, allowed)
		}
		// Refused before decoding: a huge, malformed body is still a 429.
		big := `{"email":"` + strings.Repeat("x", 100<<10)
		s.do("POST", "/v1/login", "application/json", big, map[string]string{"X-Forwarded-For": "192.0.2.66"}).wantRateLimited(t)
		s.attempt("192.0.2.67", "user1@example.com", "Summer2024!").want(t, http.StatusUnauthorized)
		// IPv6 clients are counted per /64: another address of the same
		// /64 shares the budget.
		for i := range 10 {
			s.attempt(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprintf("v6user%d@example.com", i), "Summer2024!").want(t, http.StatusUnauthorized)
		}
		s.attempt("2001:db8:1:2:ffff::1", "user1@example.com", "Summer2024!").wantRateLimited(t)
		s.attempt("2001:db8:1:3::1", "user1@example.com", "Summer2024!").want(t, http.StatusUnauthorized)

		if cfg.RedisURL != "" {
			// The documented key layout: rate:<prefix>ip:<endpoint>:<ip or /64>.
			rdb, _ := testenv.Redis(t)
			key := "rate:" + cfg.RateLimitKeyPrefix + "ip:login:2001:db8:1:2::/64"
			if n, err := rdb.Exists(context.Background(), key).Result(); err != nil || n != 1 {
				t.Errorf("key %s: exists=%d, %v", key, n, err)
			}
		}
	})
}

// A registration flood from one IP is refused at the IP's budget.
func TestRegistrationFlood(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := abuseConfig(t, b)
		cfg.RateLimitRegisterIP = "20/1h:10"
		s := start(t, cfg, newClock())
		var created, limited int
		for i := range 15 {
			r := s.postFrom("192.0.2.10", "/v1/register", map[string]string{"email": fmt.Sprintf("bot%d@example.com", i), "password": pw})
			switch r.Status {
			case http.StatusCreated:
				created++
			default:
				r.wantRateLimited(t)
				limited++
			}
		}
		if created != 10 || limited != 5 {
			t.Fatalf("%d created, %d limited; want 10 and 5", created, limited)
		}
		s.postFrom("192.0.2.11", "/v1/register", map[string]string{"email": "human@example.com", "password": pw}).want(t, http.StatusCreated)
	})
}

// Forgot-password floods: per client IP, and per address whatever the IP
// (known or unknown address alike, so the 429 says nothing about accounts).
func TestForgotPasswordFlood(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := abuseConfig(t, b)
		cfg.RateLimitForgotIP = "10/1h:5"
		cfg.RateLimitForgotAccount = "5/1h:3"
		s := start(t, cfg, newClock())
		s.register("kim@example.com", pw).want(t, http.StatusCreated)

		for _, email := range []string{"kim@example.com", "nobody@example.com"} {
			for i := range 5 {
				r := s.postFrom(fmt.Sprintf("203.0.%d.1", 100+i), "/v1/password/forgot", map[string]string{"email": email})
				if i < 3 {
					r.want(t, http.StatusAccepted)
				} else {
					r.wantRateLimited(t)
				}
			}
		}
		for i := range 8 {
			r := s.postFrom("192.0.2.20", "/v1/password/forgot", map[string]string{"email": fmt.Sprintf("a%d@example.com", i)})
			if i < 5 {
				r.want(t, http.StatusAccepted)
			} else {
				r.wantRateLimited(t)
			}
		}
	})
}

// With the limiter's Redis gone, authd fails open: logins and
// registrations are served (the bcrypt gate still bounds their cost)
// instead of every user being locked out.
func TestRateLimitsFailOpen(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimitEnabled = true
	cfg.DataDir = t.TempDir()
	var stopRedis func()
	cfg.RedisURL, stopRedis = privateRedis(t)
	s := start(t, cfg, newClock())
	s.register("ola@example.com", pw).want(t, http.StatusCreated)
	stopRedis()
	began := time.Now()
	s.register("ola2@example.com", pw).want(t, http.StatusCreated)
	for range 3 {
		s.postJSON("/v1/login", map[string]string{"email": "ola@example.com", "password": "wrong horse battery"}).want(t, http.StatusUnauthorized)
		s.login("ola@example.com", pw)
	}
	// Redis is skipped for a second after each failure, so an outage
	// costs a dial a second, not several per request.
	t.Logf("7 requests with the limiter's Redis down: %s", time.Since(began))
}
