package httpapi

import (
	"net/http"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/gin-gonic/gin"
)

// callerOf is the verified access token of a Bearer route (Authenticate
// ran first).
func callerOf(c *gin.Context) auth.Caller {
	claims, _ := ginmw.ClaimsFrom(c)
	return auth.Caller{UserID: claims.Subject, SessionID: claims.SessionID, TokenID: claims.TokenID, ExpiresAt: claims.ExpiresAt,
		AMR: claims.AMR, Device: deviceOf(c)}
}

// accepted is the body of every 202: fixed, so that it says nothing about
// whether mail was sent.
var accepted = gin.H{"status": "accepted"}

func (a *API) verifyEmail(c *gin.Context) {
	var req struct {
		Token string `json:"token" authd:"required"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	u, err := a.svc.VerifyEmail(c.Request.Context(), req.Token, deviceOf(c))
	if err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusOK, userResponse{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt.UTC()})
}

func (a *API) resendVerification(c *gin.Context) {
	if err := a.svc.ResendVerification(c.Request.Context(), callerOf(c)); err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusAccepted, accepted)
}

// forgotPassword answers 202 with the same body whether or not the email
// has an account.
func (a *API) forgotPassword(c *gin.Context) {
	var req struct {
		Email string `json:"email" authd:"required"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	if err := a.svc.ForgotPassword(c.Request.Context(), req.Email); err != nil {
		a.writeError(c, err)
		return
	}
	writePrivate(c, http.StatusAccepted, accepted)
}

func (a *API) resetPassword(c *gin.Context) {
	var req struct {
		Token    string `json:"token" authd:"required"`
		Password string `json:"password" authd:"required"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	if err := a.svc.ResetPassword(c.Request.Context(), req.Token, req.Password, deviceOf(c)); err != nil {
		a.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) changePassword(c *gin.Context) {
	var req struct {
		CurrentPassword string `json:"current_password" authd:"required"`
		NewPassword     string `json:"new_password" authd:"required"`
	}
	if !a.decodeJSON(c, &req) {
		return
	}
	if err := a.svc.ChangePassword(c.Request.Context(), callerOf(c), req.CurrentPassword, req.NewPassword); err != nil {
		a.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
