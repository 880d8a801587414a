package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// recoveryCodesPerUser is how many recovery codes authd gives a user.
const recoveryCodesPerUser = 10

// prepareMFA readies the login_mfa bodies of a phase, outside the
// measurement: it registers and enrols users of its own (a TOTP code
// computed here from the secret confirms each), then logs each in once
// per recovery code to obtain an mfa_token (403 mfa_required). A TOTP
// code is accepted once per user per 30 s step, so the measured requests
// present recovery codes, each also single use: one (token, code) pair per
// request, never reused.
func (r *Runner) prepareMFA(ctx context.Context) error {
	n := r.cfg.MFATokens
	users := (n + recoveryCodesPerUser - 1) / recoveryCodesPerUser
	type enrolled struct {
		login []byte
		codes []string
	}
	enr := make([]enrolled, users)
	err := r.parallel(ctx, users, func(ctx context.Context, w *worker, i int) error {
		login := credentialsBody(r.email("m", r.mfaSeq.Add(1)), r.password)
		codes, err := w.enrolMFAUser(ctx, login)
		if err != nil {
			return err
		}
		enr[i] = enrolled{login, codes}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prepare MFA users: %w", err)
	}
	bodies := make([][]byte, n)
	err = r.parallel(ctx, n, func(ctx context.Context, w *worker, i int) error {
		u := enr[i/recoveryCodesPerUser]
		var tok string
		err := w.retrying(ctx, func() error {
			b, status, err := w.call(ctx, epLogin, "application/json", u.login, "")
			if err != nil {
				return err
			}
			if tok = jsonString(b, `"mfa_token":"`); status != http.StatusForbidden || tok == "" {
				return fmt.Errorf("login: status %d, want 403 mfa_required: %.200s", status, b)
			}
			return nil
		})
		if err != nil {
			return err
		}
		bodies[i], _ = json.Marshal(map[string]string{"mfa_token": tok, "recovery_code": u.codes[i%recoveryCodesPerUser]})
		return nil
	})
	if err != nil {
		return fmt.Errorf("prepare MFA tokens: %w", err)
	}
	r.mfa = bodies
	r.mfaNext.Store(0)
	return nil
}

// enrolMFAUser registers the user of login, logs them in, turns TOTP on
// and returns their recovery codes.
func (w *worker) enrolMFAUser(ctx context.Context, login []byte) ([]string, error) {
	var access string
	err := w.retrying(ctx, func() error {
		_, status, err := w.call(ctx, epRegister, "application/json", login, "")
		if err == nil && status != http.StatusCreated {
			err = fmt.Errorf("register: status %d", status)
		}
		return err
	})
	if err == nil {
		err = w.retrying(ctx, func() error {
			b, status, err := w.call(ctx, epLogin, "application/json", login, "")
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("login: status %d", status)
			}
			access, _ = tokenFields(b)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	b, status, err := w.call(ctx, epMFAEnroll, "", nil, access)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("POST /v1/mfa/totp: status %d: %v", status, err)
	}
	var e struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Secret == "" {
		return nil, fmt.Errorf("POST /v1/mfa/totp: %.200s", b)
	}
	code, err := totp.GenerateCodeCustom(e.Secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]string{"code": code})
	b, status, err = w.call(ctx, epMFAConfirm, "application/json", body, access)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("POST /v1/mfa/totp/confirm: status %d: %v", status, err)
	}
	var c struct {
		Codes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(b, &c); err != nil || len(c.Codes) < recoveryCodesPerUser {
		return nil, fmt.Errorf("POST /v1/mfa/totp/confirm: %.200s", b)
	}
	return c.Codes, nil
}

// nextMFA hands out the next prepared login_mfa body; false when they are
// spent.
func (r *Runner) nextMFA() ([]byte, bool) {
	i := r.mfaNext.Add(1) - 1
	if i >= int64(len(r.mfa)) {
		return nil, false
	}
	return r.mfa[i], true
}

// mfaSpent reports whether a login_mfa phase has used every prepared body.
func (r *Runner) mfaSpent() bool { return r.mfa != nil && r.mfaNext.Load() >= int64(len(r.mfa)) }
