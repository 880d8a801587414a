package auth_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/mfa"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/ratelimittest"
	"github.com/authd/authd/internal/testclock"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// mfaFixture is a service with a TOTP sealer, a settable clock, "root" as
// a role that requires a second factor, and its events and mail recorded.
type mfaFixture struct {
	fixture
	clock  *testclock.Clock
	events *recorder
	mail   *mailbox
}

var mfaDevice = auth.Device{IP: "203.0.113.9", UserAgent: "app/1"}

const mfaPW = "correct horse battery"

func newMFAFixture(t *testing.T) mfaFixture {
	t.Helper()
	// On a step boundary, so that offsets of whole steps are exact.
	now := time.Now().Truncate(mfa.Period)
	f := mfaFixture{clock: testclock.New(now), events: &recorder{}, mail: &mailbox{}}
	sealer, err := mfa.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.fixture = newFixture(t, denylist.NewMemory(denylist.WithClock(f.clock.Now)), 4, func(c *auth.Config) {
		c.Clock, c.Events, c.Outbox = f.clock.Now, f.events, f.mail
		c.MFA = auth.MFAConfig{Sealer: sealer, RequiredRoles: []string{"root"}}
	})
	return f
}

// user creates an account with roles.
func (f mfaFixture) user(t *testing.T, email string, roles ...string) store.User {
	t.Helper()
	u, err := f.svc.CreateUser(context.Background(), auth.Actor{Device: auth.Device{UserAgent: "cli"}},
		auth.NewUser{Email: email, Password: mfaPW, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// code is the TOTP code of secret at the fixture's clock plus steps.
func (f mfaFixture) code(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, f.clock.Now().Add(time.Duration(steps)*mfa.Period),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled gives u a confirmed TOTP and returns its secret and recovery
// codes.
func (f mfaFixture) enrolled(t *testing.T, u store.User) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e := auth.Enrollee{Caller: auth.Caller{UserID: u.ID, Device: mfaDevice}}
	enr, err := f.svc.EnrollTOTP(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.ConfirmTOTP(ctx, e, f.code(t, enr.Secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("%d recovery codes, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	f.clock.Advance(mfa.Period) // the confirming step is spent
	return enr.Secret, codes
}

// challenge logs u in with the password and returns the mfa_token.
func (f mfaFixture) challenge(t *testing.T, email string) string {
	t.Helper()
	_, err := f.svc.Login(context.Background(), email, mfaPW, mfaDevice)
	var e *auth.Error
	if !errors.As(err, &e) || !errors.Is(err, auth.ErrMFARequired) || e.MFA == nil {
		t.Fatalf("login: %v, want mfa_required with a token", err)
	}
	if !reflect.DeepEqual(e.MFA.Methods, []string{"totp", "recovery_code"}) || e.MFA.ExpiresIn != auth.DefaultMFATokenTTL {
		t.Fatalf("challenge %+v", e.MFA)
	}
	return e.MFA.Token
}

func amrOf(t *testing.T, tk *auth.Tokens) []string {
	t.Helper()
	var out []string
	for _, v := range payloadOf(t, tk.AccessToken)["amr"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

// The second step accepts the code of the current step and of one step
// either side, once each; two steps away is refused.
func TestLoginMFACodeWindowAndReplay(t *testing.T) {
	f := newMFAFixture(t)
	u := f.user(t, "skew@example.com")
	secret, _ := f.enrolled(t, u)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		steps int
		ok    bool
	}{
		{"current step", 0, true},
		{"previous step", -1, true},
		{"next step", 1, true},
		{"two steps back", -2, false},
		{"two steps ahead", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Advance(10 * mfa.Period) // past any step accepted so far
			tk, err := f.svc.LoginMFA(ctx, f.challenge(t, u.Email), f.code(t, secret, tc.steps), "", mfaDevice)
			if !tc.ok {
				if !errors.Is(err, auth.ErrInvalidCode) {
					t.Fatalf("err %v, want invalid_code", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := amrOf(t, tk); !reflect.DeepEqual(got, []string{"pwd", "otp"}) {
				t.Fatalf("amr %v", got)
			}
			// The same code again, with a fresh token: replayed.
			if _, err := f.svc.LoginMFA(ctx, f.challenge(t, u.Email), f.code(t, secret, tc.steps), "", mfaDevice); !errors.Is(err, auth.ErrInvalidCode) {
				t.Fatalf("replay: %v, want invalid_code", err)
			}
		})
	}
}

// Five wrong codes are answered invalid_code; then the token is dead,
// even for the right code. A token is single use and bound to the
// client's network.
func TestLoginMFATokenLife(t *testing.T) {
	f := newMFAFixture(t)
	u := f.user(t, "life@example.com")
	secret, _ := f.enrolled(t, u)
	ctx := context.Background()

	tok := f.challenge(t, u.Email)
	for i := range auth.MaxMFAFailures {
		if _, err := f.svc.LoginMFA(ctx, tok, "000000", "", mfaDevice); !errors.Is(err, auth.ErrInvalidCode) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	if _, err := f.svc.LoginMFA(ctx, tok, f.code(t, secret, 0), "", mfaDevice); !errors.Is(err, auth.ErrInvalidOneTimeToken) {
		t.Fatalf("after %d failures: %v, want the token dead", auth.MaxMFAFailures, err)
	}

	other := auth.Device{IP: "198.51.100.1", UserAgent: "elsewhere"}
	sameNet := auth.Device{IP: "203.0.113.200", UserAgent: "app/1"}
	tok = f.challenge(t, u.Email)
	if _, err := f.svc.LoginMFA(ctx, tok, f.code(t, secret, 0), "", other); !errors.Is(err, auth.ErrInvalidOneTimeToken) {
		t.Fatalf("from another network: %v", err)
	}
	if _, err := f.svc.LoginMFA(ctx, tok, f.code(t, secret, 0), "", sameNet); err != nil {
		t.Fatalf("from the same /24: %v", err)
	}
	f.clock.Advance(mfa.Period)
	if _, err := f.svc.LoginMFA(ctx, tok, f.code(t, secret, 0), "", mfaDevice); !errors.Is(err, auth.ErrInvalidOneTimeToken) {
		t.Fatalf("second use: %v", err)
	}
	tok = f.challenge(t, u.Email)
	f.clock.Advance(auth.DefaultMFATokenTTL)
	if _, err := f.svc.LoginMFA(ctx, tok, f.code(t, secret, 0), "", mfaDevice); !errors.Is(err, auth.ErrInvalidOneTimeToken) {
		t.Fatalf("expired: %v", err)
	}
	for _, bad := range []struct{ tok, code, rcode string }{
		{"", "123456", ""}, {tok, "", ""}, {tok, "123456", "abcd-efgh-jkmn-pqrs"}, {"not-a-token", "123456", ""},
	} {
		if _, err := f.svc.LoginMFA(ctx, bad.tok, bad.code, bad.rcode, mfaDevice); err == nil {
			t.Fatalf("%+v accepted", bad)
		}
	}
}

// A recovery code logs in once (amr rcode, an event), then never again.
func TestRecoveryCodeSingleUse(t *testing.T) {
	f := newMFAFixture(t)
	u := f.user(t, "rcode@example.com")
	_, codes := f.enrolled(t, u)
	ctx := context.Background()
	// Typed as people do: upper case, no dashes.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", ""))
	tk, err := f.svc.LoginMFA(ctx, f.challenge(t, u.Email), "", typed, mfaDevice)
	if err != nil {
		t.Fatal(err)
	}
	if got := amrOf(t, tk); !reflect.DeepEqual(got, []string{"pwd", "rcode"}) {
		t.Fatalf("amr %v", got)
	}
	if _, err := f.svc.LoginMFA(ctx, f.challenge(t, u.Email), "", codes[3], mfaDevice); !errors.Is(err, auth.ErrInvalidCode) {
		t.Fatalf("second use: %v", err)
	}
	st, err := f.svc.MFAStatus(ctx, u.ID)
	if err != nil || !st.TOTP || st.RecoveryCodesLeft != mfa.RecoveryCodeCount-1 {
		t.Fatalf("status %+v, %v", st, err)
	}
	if !f.events.has(auth.EventMFARecoveryCodeUsed, u.ID) {
		t.Fatal("no recovery-code event")
	}
}

// A role of RequiredRoles without a second factor gets an enrolment token
// and no session; the token enrols, and the next login asks for a code.
func TestRequiredRoleEnforcement(t *testing.T) {
	f := newMFAFixture(t)
	u := f.user(t, "root@example.com", "root")
	ctx := context.Background()
	_, err := f.svc.Login(ctx, u.Email, mfaPW, mfaDevice)
	var e *auth.Error
	if !errors.As(err, &e) || !errors.Is(err, auth.ErrMFAEnrollmentRequired) || e.MFA == nil || len(e.MFA.Methods) != 0 {
		t.Fatalf("login: %v, want mfa_enrollment_required", err)
	}
	if sess, _ := f.store.ListSessions(ctx, u.ID, f.clock.Now()); len(sess) != 0 {
		t.Fatalf("%d sessions, want none", len(sess))
	}
	// The enrolment token is not a login token, nor usable elsewhere.
	if _, err := f.svc.LoginMFA(ctx, e.MFA.Token, "123456", "", mfaDevice); !errors.Is(err, auth.ErrInvalidOneTimeToken) {
		t.Fatalf("enrolment token at the login step: %v", err)
	}
	en := auth.Enrollee{Caller: auth.Caller{Device: mfaDevice}, EnrollToken: e.MFA.Token}
	enr, err := f.svc.EnrollTOTP(ctx, en)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ConfirmTOTP(ctx, en, f.code(t, enr.Secret, 0)); err != nil {
		t.Fatal(err)
	}
	// Spent by the confirmation.
	if _, err := f.svc.EnrollTOTP(ctx, en); !errors.Is(err, auth.ErrInvalidOneTimeToken) {
		t.Fatalf("token after confirm: %v", err)
	}
	f.challenge(t, u.Email)
	// No token at all: refused.
	if _, err := f.svc.EnrollTOTP(ctx, auth.Enrollee{Caller: auth.Caller{Device: mfaDevice}}); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("no token: %v", err)
	}
}

// A session from before a required role was granted stops refreshing;
// one with a second factor goes on.
func TestRequiredRoleEndsPasswordOnlyRefresh(t *testing.T) {
	f := newMFAFixture(t)
	ctx := context.Background()
	plain, second := f.user(t, "plain@example.com"), f.user(t, "second@example.com")
	_, codes := f.enrolled(t, second)
	tk, err := f.svc.Login(ctx, plain.Email, mfaPW, mfaDevice)
	if err != nil {
		t.Fatal(err)
	}
	tk2, err := f.svc.LoginMFA(ctx, f.challenge(t, second.Email), "", codes[0], mfaDevice)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{plain, second} {
		if err := f.store.GrantRole(ctx, u.ID, "root"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Refresh(ctx, tk.RefreshToken, mfaDevice); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("password-only refresh: %v, want invalid_grant", err)
	}
	if _, err := f.svc.Refresh(ctx, tk2.RefreshToken, mfaDevice); err != nil {
		t.Fatalf("refresh with a second factor: %v", err)
	}
}

// A second enrolment replaces a pending secret: a code of the first no
// longer confirms. A confirmed TOTP cannot be enrolled over.
func TestEnrolmentReplacesPendingSecret(t *testing.T) {
	f := newMFAFixture(t)
	u := f.user(t, "pending@example.com")
	ctx := context.Background()
	e := auth.Enrollee{Caller: auth.Caller{UserID: u.ID, Device: mfaDevice}}
	first, err := f.svc.EnrollTOTP(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.svc.EnrollTOTP(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if first.Secret == second.Secret || !strings.HasPrefix(second.URI, "otpauth://totp/") || len(second.QRPNG) == 0 {
		t.Fatalf("enrolments %q %q %q", first.Secret, second.Secret, second.URI)
	}
	if _, err := f.svc.ConfirmTOTP(ctx, e, f.code(t, first.Secret, 0)); !errors.Is(err, auth.ErrInvalidCode) {
		t.Fatalf("first secret's code: %v", err)
	}
	if _, err := f.svc.ConfirmTOTP(ctx, e, f.code(t, second.Secret, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.EnrollTOTP(ctx, e); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("enrol over a confirmed TOTP: %v", err)
	}
	if !f.events.has(auth.EventMFAEnroll, u.ID) || !f.events.has(auth.EventMFAConfirm, u.ID) {
		t.Fatal("enrol and confirm are not audited")
	}
	if !f.mail.has(t, "Two-factor authentication was turned on") {
		t.Fatal("no notice mailed")
	}
}

// Turning the second factor off needs the password and a code.
func TestDisableNeedsPasswordAndCode(t *testing.T) {
	f := newMFAFixture(t)
	u := f.user(t, "off@example.com")
	secret, codes := f.enrolled(t, u)
	ctx := context.Background()
	c := auth.Caller{UserID: u.ID, Device: mfaDevice}
	for _, tc := range []struct {
		name            string
		pw, code, rcode string
		want            error
	}{
		{"no password", "", f.code(t, secret, 0), "", auth.ErrInvalidRequest},
		{"no code", mfaPW, "", "", auth.ErrInvalidRequest},
		{"both codes", mfaPW, f.code(t, secret, 0), codes[0], auth.ErrInvalidRequest},
		{"wrong password", "wrong password!", f.code(t, secret, 0), "", auth.ErrInvalidCredentials},
		{"wrong code", mfaPW, "000000", "", auth.ErrInvalidCode},
		{"wrong recovery code", mfaPW, "", "0000-0000-0000-0000", auth.ErrInvalidCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.svc.DisableTOTP(ctx, c, tc.pw, tc.code, tc.rcode); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	if err := f.svc.DisableTOTP(ctx, c, mfaPW, f.code(t, secret, 0), ""); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.svc.MFAStatus(ctx, u.ID); st.TOTP {
		t.Fatal("still on")
	}
	if _, err := f.svc.Login(ctx, u.Email, mfaPW, mfaDevice); err != nil {
		t.Fatalf("password login after disable: %v", err)
	}
	if !f.mail.has(t, "Two-factor authentication was turned off") || !f.events.has(auth.EventMFADisabled, u.ID) {
		t.Fatal("no notice or event")
	}
}

// A wrong password answers the same whether or not the account has a
// second factor.
func TestWrongPasswordHidesMFA(t *testing.T) {
	f := newMFAFixture(t)
	with, without := f.user(t, "with@example.com"), f.user(t, "without@example.com")
	f.enrolled(t, with)
	ctx := context.Background()
	_, e1 := f.svc.Login(ctx, with.Email, "wrong password!", mfaDevice)
	_, e2 := f.svc.Login(ctx, without.Email, "wrong password!", mfaDevice)
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
		t.Fatalf("%v vs %v", e1, e2)
	}
}

// Step-up records otp on the same session: the refresh token stays valid
// and its next access token keeps the stepped-up amr and auth_time.
func TestStepUp(t *testing.T) {
	f := newMFAFixture(t)
	u := f.user(t, "step@example.com")
	ctx := context.Background()
	tk, err := f.svc.Login(ctx, u.Email, mfaPW, mfaDevice)
	if err != nil {
		t.Fatal(err)
	}
	p := payloadOf(t, tk.AccessToken)
	c := auth.Caller{UserID: u.ID, SessionID: p["sid"].(string), AMR: []string{"pwd"}, Device: mfaDevice}
	secret, _ := f.enrollWithCaller(t, c)
	f.clock.Advance(time.Minute)
	if _, err := f.svc.StepUp(ctx, c, "000000"); !errors.Is(err, auth.ErrInvalidCode) {
		t.Fatalf("wrong code: %v", err)
	}
	up, err := f.svc.StepUp(ctx, c, f.code(t, secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := amrOf(t, up); !reflect.DeepEqual(got, []string{"pwd", "otp"}) {
		t.Fatalf("amr %v", got)
	}
	if at := int64(payloadOf(t, up.AccessToken)["auth_time"].(float64)); at != f.clock.Now().Unix() {
		t.Fatalf("auth_time %d, want %d", at, f.clock.Now().Unix())
	}
	if up.RefreshToken != tk.RefreshToken {
		t.Fatal("step-up changed the refresh token")
	}
	ref, err := f.svc.Refresh(ctx, tk.RefreshToken, mfaDevice)
	if err != nil {
		t.Fatal(err)
	}
	if got := amrOf(t, ref); !reflect.DeepEqual(got, []string{"pwd", "otp"}) {
		t.Fatalf("refreshed amr %v", got)
	}
}

// enrollWithCaller enrols and confirms from the caller's session (which
// survives the confirmation: only other sessions end).
func (f mfaFixture) enrollWithCaller(t *testing.T, c auth.Caller) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e := auth.Enrollee{Caller: c}
	enr, err := f.svc.EnrollTOTP(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.ConfirmTOTP(ctx, e, f.code(t, enr.Secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(mfa.Period)
	return enr.Secret, codes
}

// An admin reset removes the second factor, ends every session and is
// audited with the actor.
func TestAdminResetMFA(t *testing.T) {
	f := newMFAFixture(t)
	u := f.user(t, "lost@example.com")
	f.enrolled(t, u)
	ctx := context.Background()
	admin := auth.Actor{UserID: "admin-id", Device: adminDevice}
	if err := f.svc.ResetMFA(ctx, admin, u.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.svc.MFAStatus(ctx, u.ID); st.TOTP {
		t.Fatal("still on")
	}
	ev := f.events.last(t)
	if ev.Type != auth.EventMFAReset || ev.ActorID != "admin-id" || ev.UserID != u.ID {
		t.Fatalf("event %+v", ev)
	}
	if err := f.svc.ResetMFA(ctx, admin, "no-such-user"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

// has reports an event of typ about user.
func (r *recorder) has(typ, user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Type == typ && e.UserID == user {
			return true
		}
	}
	return false
}

// has reports a message with this subject.
func (b *mailbox) has(t *testing.T, subject string) bool {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.msgs {
		if m.Subject == subject {
			return true
		}
	}
	return false
}

// Wrong second steps count in the account's login backoff from the
// client's network: past its free failures, both the second step and the
// password step wait, before any code or password is checked.
func TestLoginMFABackoff(t *testing.T) {
	f := newMFAFixture(t)
	clk := ratelimittest.NewClock()
	sealer, err := mfa.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.fixture = newFixture(t, denylist.NewMemory(denylist.WithClock(f.clock.Now)), 4, func(c *auth.Config) {
		c.Clock, c.Events, c.Outbox = f.clock.Now, f.events, f.mail
		c.MFA = auth.MFAConfig{Sealer: sealer}
		c.Limits = limits(t, clk, ratelimit.PerMinute(1000))
	})
	u := f.user(t, "slow@example.com")
	secret, _ := f.enrolled(t, u)
	ctx := context.Background()
	held := f.challenge(t, u.Email)
	// Five wrong codes kill a token; a new login does not clear the
	// failures (the password alone is not the whole login), so the sixth,
	// past ratelimit.DefaultBackoffPolicy's five free ones, starts a delay.
	for _, n := range []int{5, 1} {
		tok := f.challenge(t, u.Email)
		for i := range n {
			if _, err := f.svc.LoginMFA(ctx, tok, "000000", "", mfaDevice); !errors.Is(err, auth.ErrInvalidCode) {
				t.Fatalf("wrong code %d: %v", i+1, err)
			}
		}
	}
	if _, err := f.svc.LoginMFA(ctx, held, f.code(t, secret, 0), "", mfaDevice); !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("second step in the backoff: %v", err)
	}
	if _, err := f.svc.Login(ctx, u.Email, mfaPW, mfaDevice); !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("password step in the backoff: %v", err)
	}
	if e := f.events.last(t); e.Type != auth.EventLogin || e.Detail != "rate_limited" {
		t.Fatalf("event %+v", e)
	}
	// Another network is not slowed down by these failures.
	if _, err := f.svc.Login(ctx, u.Email, mfaPW, auth.Device{IP: "198.51.100.3"}); !errors.Is(err, auth.ErrMFARequired) {
		t.Fatalf("from another network: %v", err)
	}
	clk.Advance(time.Minute)
	if _, err := f.svc.LoginMFA(ctx, held, f.code(t, secret, 0), "", mfaDevice); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
}
