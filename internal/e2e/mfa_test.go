package e2e_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/pkg/middleware"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// step is one RFC 6238 time step.
const step = 30 * time.Second

// totpCode computes the code of secret at t, as an authenticator app
// would.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolMFA turns TOTP on through the API with the user's token and returns
// the secret and the recovery codes; the clock then moves past the
// confirming step.
func (s *server) enrolMFA(access string) (string, []string) {
	s.t.Helper()
	r := s.bearer("POST", "/v1/mfa/totp", access, nil).want(s.t, http.StatusOK)
	m := r.JSON(s.t)
	secret, uri := m["secret"].(string), m["otpauth_uri"].(string)
	// The issuer is the host name of AUTHD_ISSUER (http://localhost:8080).
	if !strings.HasPrefix(uri, "otpauth://totp/localhost:") || !strings.Contains(uri, "secret="+secret) || !strings.Contains(uri, "issuer=localhost&") && !strings.HasSuffix(uri, "issuer=localhost") {
		s.t.Fatalf("otpauth_uri %q", uri)
	}
	png, err := base64.StdEncoding.DecodeString(m["qr_png"].(string))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		s.t.Fatalf("qr_png is not a base64 PNG: %v", err)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		s.t.Fatal("the secret is cacheable")
	}
	codes := s.bearer("POST", "/v1/mfa/totp/confirm", access, map[string]string{"code": totpCode(s.t, secret, s.Clock.Now())}).
		want(s.t, http.StatusOK).JSON(s.t)["recovery_codes"].([]any)
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = c.(string)
	}
	if len(out) != 10 {
		s.t.Fatalf("%d recovery codes", len(out))
	}
	s.Clock.Advance(step)
	return secret, out
}

// mfaChallenge logs in with the password and expects mfa_required.
func (s *server) mfaChallenge(email string) string {
	s.t.Helper()
	r := s.postJSON("/v1/login", map[string]string{"email": email, "password": pw})
	r.wantError(s.t, http.StatusForbidden, "mfa_required")
	m := r.JSON(s.t)
	if m["expires_in"].(float64) != 300 || !slices.Equal(toStrings(m["mfa_methods"]), []string{"totp", "recovery_code"}) || m["access_token"] != nil {
		s.t.Fatalf("mfa_required body %s", r.Body)
	}
	return m["mfa_token"].(string)
}

func (s *server) loginMFA(mfaToken, field, code string) response {
	s.t.Helper()
	return s.postJSON("/v1/login/mfa", map[string]string{"mfa_token": mfaToken, field: code})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func amrOfToken(t testing.TB, access string) []string { return toStrings(claims(t, access)["amr"]) }

// Enrol, confirm, a login asking for the second factor, the MFA step and
// its amr; a replayed code; the code window; recovery codes; the 6th
// attempt after 5 wrong codes; notice mail; GET /v1/me.
func TestMFALoginFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, sink := startMailing(t, b, newClock(), nil)
		const email = "mfa-flow@example.com"
		tk := s.signedUp(email)
		nextMail(t, sink, email, "Confirm your email")
		if got := amrOfToken(t, tk.AccessToken); !slices.Equal(got, []string{"pwd"}) {
			t.Fatalf("password login amr %v", got)
		}
		secret, codes := s.enrolMFA(tk.AccessToken)
		nextMail(t, sink, email, "Two-factor authentication was turned on")
		me := s.get("/v1/me", tk.AccessToken).want(t, http.StatusOK).JSON(t)["mfa"].(map[string]any)
		if me["totp"] != true || me["recovery_codes_left"].(float64) != 10 {
			t.Fatalf("me.mfa %v", me)
		}

		ok := func(r response) tokens {
			t.Helper()
			r.want(t, http.StatusOK)
			return decodeTokens(t, r)
		}
		s.Clock.Advance(10 * step)
		code := totpCode(t, secret, s.Clock.Now())
		got := ok(s.loginMFA(s.mfaChallenge(email), "code", code))
		if amr := amrOfToken(t, got.AccessToken); !slices.Equal(amr, []string{"pwd", "otp"}) {
			t.Fatalf("amr %v", amr)
		}
		s.loginMFA(s.mfaChallenge(email), "code", code).wantError(t, http.StatusBadRequest, "invalid_code")

		for _, tc := range []struct {
			name   string
			offset time.Duration
			status int
		}{
			{"previous step", -step, http.StatusOK},
			{"next step", step, http.StatusOK},
			{"two steps back", -2 * step, http.StatusBadRequest},
			{"two steps ahead", 2 * step, http.StatusBadRequest},
		} {
			s.Clock.Advance(10 * step)
			r := s.loginMFA(s.mfaChallenge(email), "code", totpCode(t, secret, s.Clock.Now().Add(tc.offset)))
			if r.Status != tc.status {
				t.Fatalf("%s: %d %s", tc.name, r.Status, r.Body)
			}
		}

		rc := ok(s.loginMFA(s.mfaChallenge(email), "recovery_code", codes[0]))
		if amr := amrOfToken(t, rc.AccessToken); !slices.Equal(amr, []string{"pwd", "rcode"}) {
			t.Fatalf("recovery amr %v", amr)
		}
		s.loginMFA(s.mfaChallenge(email), "recovery_code", codes[0]).wantError(t, http.StatusBadRequest, "invalid_code")

		s.Clock.Advance(10 * step)
		tok := s.mfaChallenge(email)
		for range 5 {
			s.loginMFA(tok, "code", "000000").wantError(t, http.StatusBadRequest, "invalid_code")
		}
		s.loginMFA(tok, "code", totpCode(t, secret, s.Clock.Now())).wantTokenError(t)
		// The token does not outlive AUTHD_MFA_TOKEN_TTL.
		tok = s.mfaChallenge(email)
		s.Clock.Advance(5 * time.Minute)
		s.loginMFA(tok, "code", totpCode(t, secret, s.Clock.Now())).wantTokenError(t)

		// New recovery codes need a current code; the old set stops.
		s.Clock.Advance(10 * step)
		cur := ok(s.loginMFA(s.mfaChallenge(email), "code", totpCode(t, secret, s.Clock.Now())))
		s.Clock.Advance(step)
		fresh := toStrings(s.bearer("POST", "/v1/mfa/recovery-codes", cur.AccessToken,
			map[string]string{"code": totpCode(t, secret, s.Clock.Now())}).want(t, http.StatusOK).JSON(t)["recovery_codes"])
		s.loginMFA(s.mfaChallenge(email), "recovery_code", codes[1]).wantError(t, http.StatusBadRequest, "invalid_code")
		ok(s.loginMFA(s.mfaChallenge(email), "recovery_code", fresh[0]))
	})
}

// sameAnswer fails unless two responses have the same status, body and
// headers (but Date).
func sameAnswer(t *testing.T, a, b response) {
	t.Helper()
	if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
		t.Fatalf("%d %s vs %d %s", a.Status, a.Body, b.Status, b.Body)
	}
	ha, hb := a.Header.Clone(), b.Header.Clone()
	for _, h := range []http.Header{ha, hb} {
		h.Del("Date")
		h.Del("X-Request-Id")
	}
	for k := range ha {
		if !slices.Equal(ha[k], hb[k]) {
			t.Fatalf("header %s: %q vs %q", k, ha[k], hb[k])
		}
	}
	if len(ha) != len(hb) {
		t.Fatalf("headers %v vs %v", ha, hb)
	}
}

// A wrong password looks the same with and without a second factor; the
// second factor is turned off only with the password and a code.
func TestMFAWrongPasswordAndDisable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, sink := startMailing(t, b, newClock(), nil)
		with, without := s.signedUp("mfa-with@example.com"), s.signedUp("mfa-without@example.com")
		nextMail(t, sink, "mfa-with@example.com", "Confirm your email")
		nextMail(t, sink, "mfa-without@example.com", "Confirm your email")
		secret, codes := s.enrolMFA(with.AccessToken)
		nextMail(t, sink, "mfa-with@example.com", "turned on")
		sameAnswer(t,
			s.postJSON("/v1/login", map[string]string{"email": "mfa-with@example.com", "password": "wrong password!"}),
			s.postJSON("/v1/login", map[string]string{"email": "mfa-without@example.com", "password": "wrong password!"}))
		_ = without

		del := func(body map[string]string) response {
			return s.bearer("DELETE", "/v1/mfa/totp", with.AccessToken, body)
		}
		del(map[string]string{"password": "wrong password!", "code": totpCode(t, secret, s.Clock.Now())}).
			wantError(t, http.StatusUnauthorized, "invalid_credentials")
		del(map[string]string{"password": pw}).wantError(t, http.StatusBadRequest, "invalid_request")
		del(map[string]string{"password": pw, "code": "000000"}).wantError(t, http.StatusBadRequest, "invalid_code")
		del(map[string]string{"code": totpCode(t, secret, s.Clock.Now())}).wantError(t, http.StatusBadRequest, "invalid_request")
		// Another session of the user ends; the caller's stays.
		other := s.postJSON("/v1/login/mfa", map[string]string{"mfa_token": s.mfaChallenge("mfa-with@example.com"), "recovery_code": codes[0]})
		otherTk := decodeTokens(t, other.want(t, http.StatusOK))
		del(map[string]string{"password": pw, "code": totpCode(t, secret, s.Clock.Now())}).want(t, http.StatusNoContent)
		nextMail(t, sink, "mfa-with@example.com", "turned off")
		s.refresh(otherTk.RefreshToken).wantError(t, http.StatusBadRequest, "invalid_grant")
		s.get("/v1/me", with.AccessToken).want(t, http.StatusOK)
		s.login("mfa-with@example.com", pw) // password alone again
	})
}

// A role of AUTHD_MFA_REQUIRED_ROLES without a second factor gets an
// enrolment token and no tokens; the token enrols, and the next login asks
// for the code. An admin reset removes the second factor, ends the
// sessions, is audited and mailed.
func TestMFARequiredRoleAndAdminReset(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, sink := startMailing(t, b, newClock(), func(cfg *config.Config) { cfg.MFARequiredRoles = "ops" })
		const email = "mfa-ops@example.com"
		id := userID(t, s.signedUp(email))
		nextMail(t, sink, email, "Confirm your email")
		if err := s.App.Store().GrantRole(t.Context(), id, "ops"); err != nil {
			t.Fatal(err)
		}
		r := s.postJSON("/v1/login", map[string]string{"email": email, "password": pw})
		r.wantError(t, http.StatusForbidden, "mfa_enrollment_required")
		enrol := r.str(t, "mfa_token")
		if r.JSON(t)["access_token"] != nil {
			t.Fatal("tokens without a second factor")
		}
		// The enrolment token is not a login token.
		s.loginMFA(enrol, "code", "123456").wantTokenError(t)
		m := s.postJSON("/v1/mfa/totp", map[string]string{"mfa_token": enrol}).want(t, http.StatusOK).JSON(t)
		secret := m["secret"].(string)
		s.postJSON("/v1/mfa/totp/confirm", map[string]string{"mfa_token": enrol, "code": totpCode(t, secret, s.Clock.Now())}).
			want(t, http.StatusOK)
		nextMail(t, sink, email, "turned on")
		s.postJSON("/v1/mfa/totp", map[string]string{"mfa_token": enrol}).wantTokenError(t) // spent
		s.Clock.Advance(step)
		tk := decodeTokens(t, s.loginMFA(s.mfaChallenge(email), "code", totpCode(t, secret, s.Clock.Now())).want(t, http.StatusOK))

		admin, adminID := s.asAdmin("mfa-admin@example.com")
		nextMail(t, sink, "mfa-admin@example.com", "Confirm your email")
		s.admin("DELETE", "/v1/admin/users/"+id+"/mfa", admin, nil).want(t, http.StatusNoContent)
		nextMail(t, sink, email, "turned off")
		s.refresh(tk.RefreshToken).wantError(t, http.StatusBadRequest, "invalid_grant")
		s.admin("DELETE", "/v1/admin/users/no-such-user/mfa", admin, nil).want(t, http.StatusNotFound)
		// Without a second factor again, the role asks for enrolment.
		s.postJSON("/v1/login", map[string]string{"email": email, "password": pw}).
			wantError(t, http.StatusForbidden, "mfa_enrollment_required")
		rows := s.waitAudit(admin, id, func(rows []auditRow) bool { return hasRow(rows, "mfa_reset", "", adminID) })
		for _, typ := range []string{"mfa_enroll", "mfa_confirm", "mfa_verify"} {
			if !slices.ContainsFunc(rows, func(r auditRow) bool { return r.typ == typ && r.outcome == "success" }) {
				t.Errorf("no %s event: %+v", typ, rows)
			}
		}
	})
}

// Step-up: a resource server requiring otp refuses a password-only token
// with the RFC 9470 challenge, and accepts the token of /v1/mfa/verify;
// the admin API does the same with AUTHD_ADMIN_REQUIRE_MFA. Failures,
// successes and recovery-code use are audited.
func TestMFAStepUpAndAdminRequireMFA(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), func(cfg *config.Config) { cfg.AdminRequireMFA = true })
		admin, adminID := s.asAdmin("mfa-stepup@example.com")
		if amr := amrOfToken(t, admin); !slices.Equal(amr, []string{"pwd"}) {
			t.Fatalf("amr %v", amr)
		}
		stepUpChallenge := func(r response) {
			t.Helper()
			r.want(t, http.StatusUnauthorized)
			if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_user_authentication"`) || !strings.Contains(h, `acr_values`) {
				t.Fatalf("WWW-Authenticate %q", h)
			}
		}
		stepUpChallenge(s.admin("GET", "/v1/admin/users", admin, nil))

		v, err := middleware.NewVerifier(middleware.WithIssuer(s.Config.Issuer), middleware.WithAudience(s.Config.EffectiveAudience()),
			middleware.WithJWKSURL(s.URL+"/.well-known/jwks.json"), middleware.WithClock(s.Clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		rs := httptest.NewServer(v.Handler(middleware.RequireAMR("otp")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
		}))))
		t.Cleanup(rs.Close)
		callRS := func(tok string) response {
			t.Helper()
			req, _ := http.NewRequest("GET", rs.URL, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return readResponse(t, resp)
		}
		stepUpChallenge(callRS(admin))

		secret, codes := s.enrolMFA(admin) // enrolment is not an admin route
		s.bearer("POST", "/v1/mfa/verify", admin, map[string]string{"code": "000000"}).wantError(t, http.StatusBadRequest, "invalid_code")
		up := decodeTokens(t, s.bearer("POST", "/v1/mfa/verify", admin, map[string]string{"code": totpCode(t, secret, s.Clock.Now())}).
			want(t, http.StatusOK))
		c := claims(t, up.AccessToken)
		if amr := toStrings(c["amr"]); !slices.Equal(amr, []string{"pwd", "otp"}) || int64(c["auth_time"].(float64)) != s.Clock.Now().Unix() {
			t.Fatalf("stepped-up claims %v", c)
		}
		callRS(up.AccessToken).want(t, http.StatusOK)
		stepUpChallenge(callRS(admin)) // the pre-step-up token still lacks otp
		s.admin("GET", "/v1/admin/users", up.AccessToken, nil).want(t, http.StatusOK)
		// The refresh token stays valid and keeps the stepped-up amr.
		ref := decodeTokens(t, s.refresh(up.RefreshToken).want(t, http.StatusOK))
		if amr := amrOfToken(t, ref.AccessToken); !slices.Equal(amr, []string{"pwd", "otp"}) {
			t.Fatalf("refreshed amr %v", amr)
		}
		s.Clock.Advance(step)
		s.loginMFA(s.mfaChallenge("mfa-stepup@example.com"), "code", "000000").wantError(t, http.StatusBadRequest, "invalid_code")
		rc := decodeTokens(t, s.loginMFA(s.mfaChallenge("mfa-stepup@example.com"), "recovery_code", codes[0]).want(t, http.StatusOK))
		// rcode is not otp: the admin API asks for a step-up.
		stepUpChallenge(s.admin("GET", "/v1/admin/users", rc.AccessToken, nil))
		s.waitAudit(ref.AccessToken, adminID, func(rows []auditRow) bool {
			return slices.ContainsFunc(rows, func(r auditRow) bool {
				return r.typ == "mfa_verify" && r.outcome == "failure" && r.detail == "invalid_code"
			}) &&
				slices.ContainsFunc(rows, func(r auditRow) bool { return r.typ == "mfa_verify" && r.outcome == "success" && r.detail == "step_up" }) &&
				slices.ContainsFunc(rows, func(r auditRow) bool { return r.typ == "mfa_recovery_code_used" })
		})
	})
}

// A name of AUTHD_MFA_REQUIRED_ROLES outside the role grammar stops authd
// at start, before anything is opened, as AUTHD_ADMIN_ROLE does.
func TestMFARequiredRolesValidatedAtStart(t *testing.T) {
	cfg := testConfig()
	cfg.DataDir = t.TempDir()
	cfg.MFARequiredRoles = "ops, Not A Role"
	_, err := app.Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "AUTHD_MFA_REQUIRED_ROLES") {
		t.Fatalf("err = %v, want one naming AUTHD_MFA_REQUIRED_ROLES", err)
	}
}
