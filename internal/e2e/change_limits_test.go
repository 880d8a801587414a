package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/config"
)

// changeFrom posts a password change with access as if from client IP ip.
func (s *server) changeFrom(ip, access, current, next string) response {
	s.t.Helper()
	body := fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, current, next)
	return s.do("POST", "/v1/password/change", "application/json", body,
		map[string]string{"X-Forwarded-For": ip, "Authorization": "Bearer " + access})
}

// With one access token, guessing the current password is cut short: 30
// wrong guesses from one IP run at most the backoff's five bcrypts, the
// 31st attempt, with the right password, is refused before it is hashed,
// and the failures count in the account's login backoff, so logins from
// that network are slowed down by them too.
func TestPasswordChangeGuessingIsLimited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := abuseConfig(t, b)
		s := start(t, cfg, newClock())
		s.register("guess@example.com", pw).want(t, http.StatusCreated)
		tk := decodeTokens(t, s.attempt("192.0.2.1", "guess@example.com", pw).want(t, http.StatusOK))

		const attacker = "203.0.113.9"
		before := s.bcrypts()
		var unauthorized, limited int
		for i := range 30 {
			r := s.changeFrom(attacker, tk.AccessToken, fmt.Sprintf("guess number %d", i), newPW)
			switch r.Status {
			case http.StatusUnauthorized:
				r.wantError(t, http.StatusUnauthorized, "invalid_credentials")
				unauthorized++
			case http.StatusTooManyRequests:
				r.wantRateLimited(t)
				limited++
			default:
				t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
			}
		}
		ran := s.bcrypts() - before
		if unauthorized > 5 || ran != uint64(unauthorized) {
			t.Fatalf("30 wrong guesses: %d answered 401 after %d bcrypts, %d answered 429; want at most 5 bcrypts, one per 401",
				unauthorized, ran, limited)
		}
		before = s.bcrypts()
		s.changeFrom(attacker, tk.AccessToken, pw, newPW).wantRateLimited(t)
		if ran := s.bcrypts() - before; ran != 0 {
			t.Fatalf("the 31st attempt ran %d bcrypts, want none", ran)
		}
		t.Logf("30 wrong guesses: %d answered 401 after bcrypt, %d answered 429 without; the right password then: 429", unauthorized, limited)

		// The guesses count in the login backoff of that network: one more
		// failed login there starts the delay, which a right password then
		// meets; elsewhere the owner logs in with the unchanged password.
		s.attempt(attacker, "guess@example.com", "wrong horse battery").wantError(t, http.StatusUnauthorized, "invalid_credentials")
		s.attempt(attacker, "guess@example.com", pw).wantRateLimited(t)
		s.attempt("198.51.100.4", "guess@example.com", pw).want(t, http.StatusOK)
	})
}

// The per-IP limit of password change answers before the token and the
// body are read; the per-account one stops guesses spread over networks,
// which the backoff (per network) does not.
func TestPasswordChangeLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := abuseConfig(t, b)
		cfg.RateLimitChangeIP = "60/1h:3"
		cfg.RateLimitChangeAccount = "60/1h:4"
		s := start(t, cfg, newClock())
		tk := s.signedUp("spread@example.com")

		for range 3 {
			s.do("POST", "/v1/password/change", "application/json", `{not json`, map[string]string{"X-Forwarded-For": "192.0.2.50"}).
				want(t, http.StatusUnauthorized) // no token
		}
		s.do("POST", "/v1/password/change", "application/json", `{not json`, map[string]string{"X-Forwarded-For": "192.0.2.50"}).
			wantRateLimited(t)

		before := s.bcrypts()
		var unauthorized int
		for i := range 12 {
			r := s.changeFrom(fmt.Sprintf("203.0.%d.1", i), tk.AccessToken, "wrong horse battery", newPW)
			switch r.Status {
			case http.StatusUnauthorized:
				unauthorized++
			case http.StatusTooManyRequests:
				r.wantRateLimited(t)
			default:
				t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
			}
		}
		if ran := s.bcrypts() - before; unauthorized != 4 || ran != 4 {
			t.Fatalf("12 guesses from 12 networks: %d answered 401 after %d bcrypts; want the account's burst of 4", unauthorized, ran)
		}
	})
}

// Sixteen concurrent password changes by one user, sent without pause,
// never hold more than one bcrypt in the gate (the rest answer 429 at
// once), so another user's logins meanwhile are served, not refused with
// 503. The rate limits are off: only the gate's per-user cap is at work.
// The wait is the longest allowed, so that the queue's room, not how slow
// bcrypt is here (the race detector slows it tenfold), decides: without
// the cap the flood keeps the queue full and a login is refused at once.
func TestPasswordChangeFloodDoesNotStarveLogins(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), func(cfg *config.Config) { cfg.BcryptMaxWait = 30 * time.Second })
		tk := s.signedUp("flooder@example.com")
		s.register("bystander@example.com", pw).want(t, http.StatusCreated)

		ctx, cancel := context.WithCancel(context.Background())
		body := `{"current_password":"wrong horse battery","new_password":"` + newPW + `"}`
		f := startFlood(ctx, t, floodSpec{workers: 16, timeout: time.Minute, what: "password change",
			request: func(ctx context.Context) *http.Request {
				req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/v1/password/change", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
				return req
			},
		})
		// The flood keeps the CPUs busy too (the race detector makes each
		// request costly), so a login may take long; it must not be refused.
		patient := &http.Client{Timeout: 2 * time.Minute}
		var logins []int
		for range 4 {
			req, _ := http.NewRequest("POST", s.URL+"/v1/login",
				strings.NewReader(`{"email":"bystander@example.com","password":"`+pw+`"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := patient.Do(req)
			if err != nil {
				cancel()
				f.wg.Wait()
				t.Fatalf("login during the flood: %v", err)
			}
			logins = append(logins, readResponse(t, resp).Status)
		}
		cancel()
		f.wg.Wait()

		counts := map[int]int64{}
		f.statuses.Range(func(k, v any) bool { counts[k.(int)] = v.(*atomic.Int64).Load(); return true })
		st := s.App.Gate().Stats()
		t.Logf("password changes by one user: %v (status: count); gate %+v; the other user's logins: %v", counts, st, logins)
		for i, status := range logins {
			if status != http.StatusOK {
				t.Errorf("login %d of another user during the flood: %d, want 200", i, status)
			}
		}
		if len(counts) != 2 || counts[http.StatusUnauthorized] == 0 || counts[http.StatusTooManyRequests] == 0 || st.OwnerBusy == 0 {
			t.Errorf("the flood's answers %v, owner-busy refusals %d: want 401s and 429s only", counts, st.OwnerBusy)
		}
	})
}
