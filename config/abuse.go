package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateLimit is a parsed AUTHD_RATELIMIT_* value: Rate events per Period
// on average, up to Burst of them at once. config imports nothing of
// authd, so internal/app converts it to a ratelimit.Limit.
type RateLimit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// Bounds of a rate limit: a period from a second to a day (longer would
// be a lockout in all but name), and counts a person could mean.
const (
	minLimitPeriod = time.Second
	maxLimitPeriod = 24 * time.Hour
	maxLimitCount  = 1_000_000
)

// ParseRateLimit parses "N/period[:burst]": N events per period (a Go
// duration such as 1m or 1h) on average, and burst of them at once after
// a quiet spell; without ":burst" the burst is N. "20/1m:10" allows 10
// requests at once, then one every 3 s.
func ParseRateLimit(s string) (RateLimit, error) {
	rate, rest, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return RateLimit{}, errors.New("must be N/period[:burst], e.g. 20/1m:10")
	}
	period, burst, hasBurst := strings.Cut(rest, ":")
	var l RateLimit
	var err error
	if l.Rate, err = strconv.Atoi(rate); err != nil || l.Rate < 1 || l.Rate > maxLimitCount {
		return RateLimit{}, fmt.Errorf("the count %q must be a whole number from 1 to %d", rate, maxLimitCount)
	}
	if l.Period, err = time.ParseDuration(period); err != nil || l.Period < minLimitPeriod || l.Period > maxLimitPeriod {
		return RateLimit{}, fmt.Errorf("the period %q must be a duration from 1s to 24h, e.g. 1m", period)
	}
	l.Burst = l.Rate
	if hasBurst {
		if l.Burst, err = strconv.Atoi(burst); err != nil || l.Burst < 1 || l.Burst > maxLimitCount {
			return RateLimit{}, fmt.Errorf("the burst %q must be a whole number from 1 to %d", burst, maxLimitCount)
		}
	}
	return l, nil
}

// RateLimits are every parsed limit: per client IP, and per account.
type RateLimits struct {
	LoginIP, LoginAccount, RegisterIP, TokenIP, ForgotIP, ForgotAccount, EmailVerifyIP, ResetIP RateLimit

	ChangeIP, ChangeAccount RateLimit

	// ClientID and ClientIP are failure budgets (Rate failures per
	// Period, no burst) of client authentication; internal/app turns them into
	// backoff policies.
	ClientID, ClientIP RateLimit

	// PerIP holds the per-client-IP limits of API endpoints by endpoint
	// name (the name in the limiter key "ip:<name>:"), from the rows of
	// rateLimitSettings that name one: the API's rate-limit middleware
	// reads this map, so a new rate-limited endpoint is a setting, a row
	// and its route.
	PerIP map[string]RateLimit
}

// rateLimitSetting is one limit's variable and value, where its parsed
// form goes and, for a per-IP limit of an API endpoint, the endpoint's
// name in RateLimits.PerIP.
type rateLimitSetting struct {
	env, value string
	dst        *RateLimit
	endpoint   string
}

// rateLimitSettings is the table of every limit.
func (c Config) rateLimitSettings(out *RateLimits) []rateLimitSetting {
	return []rateLimitSetting{
		{"AUTHD_RATELIMIT_LOGIN_IP", c.RateLimitLoginIP, &out.LoginIP, "login"},
		{"AUTHD_RATELIMIT_LOGIN_ACCOUNT", c.RateLimitLoginAccount, &out.LoginAccount, ""},
		{"AUTHD_RATELIMIT_REGISTER_IP", c.RateLimitRegisterIP, &out.RegisterIP, "register"},
		{"AUTHD_RATELIMIT_TOKEN_IP", c.RateLimitTokenIP, &out.TokenIP, "token"},
		{"AUTHD_RATELIMIT_FORGOT_IP", c.RateLimitForgotIP, &out.ForgotIP, "forgot"},
		{"AUTHD_RATELIMIT_FORGOT_ACCOUNT", c.RateLimitForgotAccount, &out.ForgotAccount, ""},
		{"AUTHD_RATELIMIT_VERIFY_IP", c.RateLimitEmailVerifyIP, &out.EmailVerifyIP, "verify"},
		{"AUTHD_RATELIMIT_RESET_IP", c.RateLimitResetIP, &out.ResetIP, "reset"},
		{"AUTHD_RATELIMIT_CHANGE_IP", c.RateLimitChangeIP, &out.ChangeIP, "change"},
		{"AUTHD_RATELIMIT_CHANGE_ACCOUNT", c.RateLimitChangeAccount, &out.ChangeAccount, ""},
		{"AUTHD_RATELIMIT_CLIENT_ID", c.RateLimitClientID, &out.ClientID, ""},
		{"AUTHD_RATELIMIT_CLIENT_IP", c.RateLimitClientIP, &out.ClientIP, ""},
	}
}

// RateLimits parses every limit; the error names the first bad variable.
// A configuration returned by Load without error always parses.
func (c Config) RateLimits() (RateLimits, error) {
	out := RateLimits{PerIP: map[string]RateLimit{}}
	for _, s := range c.rateLimitSettings(&out) {
		l, err := ParseRateLimit(s.value)
		if err != nil {
			return RateLimits{}, errors.New(problem(s.env, "%v", err))
		}
		*s.dst = l
		if s.endpoint != "" {
			out.PerIP[s.endpoint] = l
		}
	}
	for _, f := range failureBudgets(out) {
		if f.value.Burst != f.value.Rate {
			return RateLimits{}, errors.New(problem(f.env, errFailureBudgetBurst))
		}
	}
	return out, nil
}

const errFailureBudgetBurst = "a failure budget is N/period, without a burst"

// failureBudgets are the limits that are failure budgets (backoffs), which
// take no burst.
func failureBudgets(l RateLimits) []struct {
	env   string
	value RateLimit
} {
	return []struct {
		env   string
		value RateLimit
	}{{"AUTHD_RATELIMIT_CLIENT_ID", l.ClientID}, {"AUTHD_RATELIMIT_CLIENT_IP", l.ClientIP}}
}

// Bounds of the bcrypt gate and the password policy.
const (
	maxBcryptSlots = 1024
	maxBcryptQueue = 1 << 16
	// minPasswordLength is NIST SP 800-63B §5.1.1.2's floor for chosen
	// passwords; a lower setting would fall short of the standard.
	minPasswordLength = 8
	// maxPasswordLength keeps room under bcrypt's 72 bytes: a longer
	// minimum would refuse most passphrases with any non-ASCII letter.
	maxPasswordLength = 64
)

// abuseChecks are the validation rows of the rate limits, the bcrypt gate,
// the password policy and TLS.
func (c Config) abuseChecks() []check {
	rows := []check{
		{strings.TrimSpace(c.RateLimitKeyPrefix) == "", "AUTHD_RATELIMIT_KEY_PREFIX", "must not be empty"},
		{c.BcryptMaxConcurrent < 0 || c.BcryptMaxConcurrent > maxBcryptSlots, "AUTHD_BCRYPT_MAX_CONCURRENT", fmt.Sprintf("must be 0 (automatic) to %d", maxBcryptSlots)},
		{c.BcryptNice < 0 || c.BcryptNice > 19, "AUTHD_BCRYPT_NICE", "must be 0 (normal priority) to 19"},
		{c.BcryptMaxQueue < 0 || c.BcryptMaxQueue > maxBcryptQueue, "AUTHD_BCRYPT_MAX_QUEUE", fmt.Sprintf("must be 0 (4 × AUTHD_BCRYPT_MAX_CONCURRENT) to %d", maxBcryptQueue)},
		{c.BcryptMaxWait < 10*time.Millisecond || c.BcryptMaxWait > 30*time.Second, "AUTHD_BCRYPT_MAX_WAIT", "must be between 10ms and 30s"},
		{c.PasswordMinLength < minPasswordLength || c.PasswordMinLength > maxPasswordLength, "AUTHD_PASSWORD_MIN_LENGTH",
			fmt.Sprintf("must be between %d (NIST SP 800-63B's minimum) and %d (passwords are at most 72 bytes)", minPasswordLength, maxPasswordLength)},
		{(c.TLSCert == "") != (c.TLSKey == ""), "AUTHD_TLS_CERT", "and AUTHD_TLS_KEY must be set together"},
	}
	var parsed RateLimits
	for _, s := range c.rateLimitSettings(&parsed) {
		l, err := ParseRateLimit(s.value)
		msg := ""
		if err != nil {
			msg = err.Error()
		} else {
			*s.dst = l
		}
		rows = append(rows, check{err != nil, s.env, msg})
	}
	for _, f := range failureBudgets(parsed) {
		rows = append(rows, check{f.value.Burst != f.value.Rate, f.env, errFailureBudgetBurst})
	}
	return rows
}
