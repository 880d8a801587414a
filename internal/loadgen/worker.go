package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// Endpoint indexes; they follow the order of Scenarios.
const (
	epRegister = iota
	epLogin
	epRefresh
	epMe
	epVerify
	epLogout
	epClientCredentials
	epLoginMFA
	// Unmeasured: the enrolment of login_mfa's users.
	epMFAEnroll
	epMFAConfirm
	numEndpoints
)

// endpoints describes each measured endpoint.
var endpoints = [numEndpoints]struct {
	name   Scenario
	method string
	path   string
}{
	{Register, http.MethodPost, "/v1/register"},
	{Login, http.MethodPost, "/v1/login"},
	{Refresh, http.MethodPost, "/v1/token"},
	{Me, http.MethodGet, "/v1/me"},
	{Verify, http.MethodGet, "/v1/verify"},
	{Logout, http.MethodPost, "/v1/logout"},
	{ClientCredentials, http.MethodPost, "/v1/token"},
	{LoginMFA, http.MethodPost, "/v1/login/mfa"},
	{"mfa_enroll", http.MethodPost, "/v1/mfa/totp"},
	{"mfa_confirm", http.MethodPost, "/v1/mfa/totp/confirm"},
}

// Error classes besides HTTP status codes.
const (
	errTransport = "transport"
	errTimeout   = "timeout"
	errBadBody   = "bad_body"
)

// Back-off after a failure that would otherwise spin a worker (connection
// refused, a session that cannot log in). A 429 or 503 with Retry-After is
// obeyed instead, as a client would, up to maxRetryAfter.
const (
	transportBackoff = 20 * time.Millisecond
	reloginBackoff   = 100 * time.Millisecond
	maxRetryAfter    = time.Second
)

// liveCounters are read by the progress line while workers run.
type liveCounters [numEndpoints]struct{ ok, err atomic.Int64 }

// epStats is one worker's record of one endpoint.
type epStats struct {
	hist *Histogram // latencies of successful requests; nil until one
	errs map[string]int64
}

// worker runs scenarios one request at a time; nothing in it is shared.
type worker struct {
	r        *Runner
	id       int
	rng      *mrand.Rand
	sess     *session
	live     *liveCounters
	stats    [numEndpoints]epStats
	relogins int64
	conn     *directConn // with Config.Dial: the worker's own connection
	buf      bytes.Buffer
	// lastStatus is the status of the last answer (0: none), and
	// retryAfter its Retry-After if it was a 429 or 503 carrying one.
	lastStatus int
	retryAfter time.Duration
}

// call makes one request to endpoint ep and reads the whole answer (so
// the connection is reused). The returned body is valid until the next
// call.
func (w *worker) call(ctx context.Context, ep int, contentType string, body []byte, bearer string) ([]byte, int, error) {
	w.lastStatus, w.retryAfter = 0, 0
	w.buf.Reset()
	if w.r.direct {
		if w.conn == nil {
			w.conn = newDirectConn(w.r.cfg.Dial, w.r.addr, w.r.cfg.Target.Host, w.r.cfg.Client.Timeout)
		}
		a, err := w.conn.roundTrip(ctx, endpoints[ep].method, w.r.paths[ep], contentType, body, bearer, &w.buf)
		if err != nil {
			return nil, 0, err
		}
		w.answered(a.status, a.retryAfter)
		return w.buf.Bytes(), a.status, nil
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, endpoints[ep].method, w.r.urls[ep], rd)
	if err != nil {
		return nil, 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := w.r.cfg.Client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	w.answered(resp.StatusCode, resp.Header.Get("Retry-After"))
	if _, err := w.buf.ReadFrom(io.LimitReader(resp.Body, maxBody)); err != nil {
		return nil, resp.StatusCode, err
	}
	return w.buf.Bytes(), resp.StatusCode, nil
}

// answered records the status of an answer, and its Retry-After if it is
// a 429 or 503 carrying one.
func (w *worker) answered(status int, retryAfter string) {
	w.lastStatus = status
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if secs, err := strconv.Atoi(retryAfter); err == nil && secs >= 0 {
			w.retryAfter = time.Duration(secs) * time.Second
		}
	}
}

// close closes the worker's own connection, if it has one.
func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close()
	}
}

// measure makes one recorded request to endpoint ep: a success is the
// status want and, when valid is given, a body it accepts.
func (w *worker) measure(ctx context.Context, ep int, contentType string, body []byte, bearer string, want int, valid func([]byte) bool) ([]byte, int, bool) {
	start := time.Now()
	b, status, err := w.call(ctx, ep, contentType, body, bearer)
	lat := time.Since(start)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, 0, false // interrupted: not a result of the server
	case err != nil:
		class := errTransport
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			class = errTimeout
		}
		w.fail(ep, class)
		return nil, 0, false
	case status != want:
		w.fail(ep, strconv.Itoa(status))
		return b, status, false
	case valid != nil && !valid(b):
		w.fail(ep, errBadBody)
		return b, status, false
	}
	s := &w.stats[ep]
	if s.hist == nil {
		s.hist = new(Histogram)
	}
	s.hist.Record(lat)
	if w.live != nil {
		w.live[ep].ok.Add(1)
	}
	return b, status, true
}

func (w *worker) fail(ep int, class string) {
	s := &w.stats[ep]
	if s.errs == nil {
		s.errs = map[string]int64{}
	}
	s.errs[class]++
	if w.live != nil {
		w.live[ep].err.Add(1)
	}
}

// run runs scenario sc once.
func (w *worker) run(ctx context.Context, sc Scenario, deadline time.Time) {
	r := w.r
	switch sc {
	case Register:
		body := credentialsBody(r.email("r", r.regSeq.Add(1)), r.password)
		if _, _, ok := w.measure(ctx, epRegister, "application/json", body, "", http.StatusCreated, nil); !ok {
			w.backoff(ctx, deadline, transportBackoff)
		}
	case Login:
		if _, _, ok := w.measure(ctx, epLogin, "application/json", r.users[w.rng.IntN(len(r.users))], "", http.StatusOK, validTokens); !ok {
			w.backoff(ctx, deadline, transportBackoff)
		}
	case Logout:
		b, _, ok := w.measure(ctx, epLogin, "application/json", r.users[w.rng.IntN(len(r.users))], "", http.StatusOK, validTokens)
		if !ok {
			w.backoff(ctx, deadline, transportBackoff)
			return
		}
		access, _ := tokenFields(b)
		if _, _, ok := w.measure(ctx, epLogout, "", nil, access, http.StatusNoContent, nil); !ok {
			w.backoff(ctx, deadline, transportBackoff)
		}
	case Refresh:
		if !w.ensureSession(ctx, deadline) {
			return
		}
		form := "grant_type=refresh_token&refresh_token=" + url.QueryEscape(w.sess.refresh)
		b, _, ok := w.measure(ctx, epRefresh, "application/x-www-form-urlencoded", []byte(form), "", http.StatusOK, validTokens)
		if !ok {
			// The chain may be broken (or rotated without our seeing the
			// answer): start a new one.
			w.sess.stale = true
			return
		}
		w.sess.access, w.sess.refresh = tokenFields(b)
	case ClientCredentials:
		if _, _, ok := w.measure(ctx, epClientCredentials, "application/x-www-form-urlencoded", r.clientGrant, "", http.StatusOK, validAccessToken); !ok {
			w.backoff(ctx, deadline, transportBackoff)
		}
	case LoginMFA:
		body, ok := r.nextMFA()
		if !ok {
			return // the prepared tokens are spent; the worker stops
		}
		if _, _, ok := w.measure(ctx, epLoginMFA, "application/json", body, "", http.StatusOK, validTokens); !ok {
			w.backoff(ctx, deadline, transportBackoff)
		}
	case Me, Verify:
		if !w.ensureSession(ctx, deadline) {
			return
		}
		ep := epMe
		if sc == Verify {
			ep = epVerify
		}
		if _, status, ok := w.measure(ctx, ep, "", nil, w.sess.access, http.StatusOK, nil); status == http.StatusUnauthorized {
			// The token died (expired, revoked). Other failures are the
			// server's trouble, which a new login would not help.
			w.sess.stale = true
		} else if !ok {
			w.backoff(ctx, deadline, transportBackoff)
		}
	}
}

// ensureSession logs the worker's session in again (unrecorded: it is
// setup, not the measured call) when the last call found it dead.
func (w *worker) ensureSession(ctx context.Context, deadline time.Time) bool {
	if w.sess == nil {
		return false
	}
	if !w.sess.stale {
		return true
	}
	if err := w.login(ctx, w.sess); err != nil {
		w.backoff(ctx, deadline, reloginBackoff)
		return false
	}
	w.relogins++
	return true
}

// login logs session s in as its user, unrecorded.
func (w *worker) login(ctx context.Context, s *session) error {
	b, status, err := w.call(ctx, epLogin, "application/json", w.r.users[s.user], "")
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if status != http.StatusOK || !validTokens(b) {
		return fmt.Errorf("login: status %d: %.200s", status, b)
	}
	s.access, s.refresh = tokenFields(b)
	s.stale = false
	return nil
}

// backoff sleeps d, or the last answer's Retry-After (at most
// maxRetryAfter) if it had one, or less if the deadline or ctx comes first.
func (w *worker) backoff(ctx context.Context, deadline time.Time, d time.Duration) {
	if w.retryAfter > 0 {
		d = min(w.retryAfter, maxRetryAfter)
	}
	d = min(d, time.Until(deadline))
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// credentialsBody is the JSON body of /v1/register and /v1/login.
func credentialsBody(email, password string) []byte {
	b, _ := json.Marshal(struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}{email, password})
	return b
}

// validTokens reports whether b is a token response with both tokens.
func validTokens(b []byte) bool {
	a, r := tokenFields(b)
	return a != "" && r != ""
}

// validAccessToken reports whether b is a token response with an access
// token (a client's has no refresh token).
func validAccessToken(b []byte) bool {
	if jsonString(b, `"access_token":"`) != "" {
		return true
	}
	var t struct {
		Access string `json:"access_token"`
	}
	return json.Unmarshal(b, &t) == nil && t.Access != ""
}

// tokenFields returns the access and refresh tokens of a token response.
// JWTs hold no characters JSON escapes, so a scan for the two fields is
// enough, and keeps the load tool's CPU (which the server shares) low; a
// response laid out otherwise goes through encoding/json.
func tokenFields(b []byte) (access, refresh string) {
	access, refresh = jsonString(b, `"access_token":"`), jsonString(b, `"refresh_token":"`)
	if access != "" && refresh != "" {
		return access, refresh
	}
	var t struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if json.Unmarshal(b, &t) != nil {
		return "", ""
	}
	return t.Access, t.Refresh
}

// jsonString returns the string after key up to the next quote, or "" if
// key is absent or the value holds an escape.
func jsonString(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	v := b[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 || bytes.IndexByte(v[:j], '\\') >= 0 {
		return ""
	}
	return string(v[:j])
}
