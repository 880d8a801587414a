package httpapi

import (
	"encoding/base64"
	"net/http"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/gin-gonic/gin"
)

// mfaRoutes registers the second-factor endpoints. Enrolment takes a
// user's Bearer token or, with no Authorization header, the enrolment
// mfa_token of mfa_enrollment_required in the body; the rest take a
// user's Bearer token. Client tokens are refused (usersOnly) everywhere.
func (a *API) mfaRoutes(v1 *gin.RouterGroup, authn gin.HandlerFunc) {
	// The second step shares the login's per-IP budget: a login with a
	// second factor costs two of it.
	v1.POST("/login/mfa", a.limitIP("login"), a.loginMFA)
	enrol := bearerIfPresent(authn)
	v1.POST("/mfa/totp", a.limitIP("change"), enrol, usersOnly, a.enrollTOTP)
	v1.POST("/mfa/totp/confirm", a.limitIP("change"), enrol, usersOnly, a.confirmTOTP)
	v1.DELETE("/mfa/totp", a.limitIP("change"), authn, usersOnly, a.disableTOTP)
	v1.POST("/mfa/recovery-codes", a.limitIP("change"), authn, usersOnly, a.recoveryCodes)
	v1.POST("/mfa/verify", a.limitIP("login"), authn, usersOnly, a.stepUp)
}

// bearerIfPresent runs authn when the request has an Authorization
// header, and lets it through unauthenticated otherwise (the handler then
// wants an enrolment mfa_token).
func bearerIfPresent(authn gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.GetHeader("Authorization") == "" {
			c.Next()
			return
		}
		authn(c)
	}
}

// enrollee is the caller of an enrolment endpoint: the Bearer token's
// user when Authenticate ran, or the body's mfa_token.
func enrollee(c *gin.Context, mfaToken string) auth.Enrollee {
	if _, ok := ginmw.ClaimsFrom(c); ok {
		return auth.Enrollee{Caller: callerOf(c), EnrollToken: mfaToken}
	}
	return auth.Enrollee{Caller: auth.Caller{Device: deviceOf(c)}, EnrollToken: mfaToken}
}

func (a *API) loginMFA(c *gin.Context) {
	var req struct {
		MFAToken     string `json:"mfa_token" authd:"required"`
		Code         string `json:"code"`
		RecoveryCode string `json:"recovery_code"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	tokens, err := a.svc.LoginMFA(c.Request.Context(), req.MFAToken, req.Code, req.RecoveryCode, deviceOf(c))
	if err != nil {
		a.writeError(c, err)
		return
	}
	writeTokens(c, tokens)
}

type totpEnrollmentResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRPNG      string `json:"qr_png"`
}

func (a *API) enrollTOTP(c *gin.Context) {
	var req struct {
		MFAToken string `json:"mfa_token"`
	}
	// A Bearer caller may send no body at all.
	if c.Request.ContentLength != 0 && !a.decodeJSON(c, &req) {
		return
	}
	e, err := a.svc.EnrollTOTP(c.Request.Context(), enrollee(c, req.MFAToken))
	if err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusOK, totpEnrollmentResponse{
		Secret: e.Secret, OTPAuthURI: e.URI, QRPNG: base64.StdEncoding.EncodeToString(e.QRPNG),
	})
}

type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func writeRecoveryCodes(c *gin.Context, codes []string) {
	writePrivate(c, http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
}

func (a *API) confirmTOTP(c *gin.Context) {
	var req struct {
		Code     string `json:"code" authd:"required"`
		MFAToken string `json:"mfa_token"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	codes, err := a.svc.ConfirmTOTP(c.Request.Context(), enrollee(c, req.MFAToken), req.Code)
	if err != nil {
		a.writeError(c, err)
		return
	}
	writeRecoveryCodes(c, codes)
}

func (a *API) recoveryCodes(c *gin.Context) {
	var req struct {
		Code string `json:"code" authd:"required"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	codes, err := a.svc.RegenerateRecoveryCodes(c.Request.Context(), callerOf(c), req.Code)
	if err != nil {
		a.writeError(c, err)
		return
	}
	writeRecoveryCodes(c, codes)
}

func (a *API) disableTOTP(c *gin.Context) {
	var req struct {
		Password     string `json:"password" authd:"required"`
		Code         string `json:"code"`
		RecoveryCode string `json:"recovery_code"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	if err := a.svc.DisableTOTP(c.Request.Context(), callerOf(c), req.Password, req.Code, req.RecoveryCode); err != nil {
		a.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) stepUp(c *gin.Context) {
	var req struct {
		Code string `json:"code" authd:"required"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	tokens, err := a.svc.StepUp(c.Request.Context(), callerOf(c), req.Code)
	if err != nil {
		a.writeError(c, err)
		return
	}
	writeTokens(c, tokens)
}
