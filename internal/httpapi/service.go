package httpapi

import (
	"context"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/mfa"
	"github.com/authd/authd/pkg/store"
)

// Service is what the handlers call: the methods of *auth.Service that the
// API serves, declared here, where they are used, so that handlers can be
// tested against a small fake of this contract and the service refactored
// behind it. Every error is an *auth.Error for a client mistake, or any
// other error for a failure the client is not told about (see writeError).
type Service interface {
	AccountService
	SessionService
	MFAService
	AdminService
	ClientService
}

var _ Service = (*auth.Service)(nil)

// AccountService is the account and token operations of a user who is
// not signed in, or of the signed-in user on their own account.
type AccountService interface {
	Register(ctx context.Context, email, pw string, device auth.Device) (store.User, error)
	Login(ctx context.Context, email, pw string, device auth.Device) (*auth.Tokens, error)
	Token(ctx context.Context, r auth.TokenRequest) (*auth.Tokens, error)
	VerifyEmail(ctx context.Context, token string, device auth.Device) (store.User, error)
	ForgotPassword(ctx context.Context, email string) error
	ResetPassword(ctx context.Context, token, pw string, device auth.Device) error
	Me(ctx context.Context, userID string) (store.User, error)
	ResendVerification(ctx context.Context, c auth.Caller) error
	ChangePassword(ctx context.Context, c auth.Caller, current, next string) error
}

// SessionService is the signed-in user's sessions.
type SessionService interface {
	Logout(ctx context.Context, c auth.Caller, scope auth.LogoutScope) error
	Sessions(ctx context.Context, c auth.Caller) ([]auth.SessionInfo, error)
	RevokeSession(ctx context.Context, c auth.Caller, sessionID string) error
}

// MFAService is the second factor: login with it, step-up and the user's
// own enrolment.
type MFAService interface {
	LoginMFA(ctx context.Context, mfaToken, code, recovery string, device auth.Device) (*auth.Tokens, error)
	StepUp(ctx context.Context, c auth.Caller, code string) (*auth.Tokens, error)
	MFAStatus(ctx context.Context, userID string) (auth.MFAStatus, error)
	EnrollTOTP(ctx context.Context, e auth.Enrollee) (mfa.Enrollment, error)
	ConfirmTOTP(ctx context.Context, e auth.Enrollee, code string) ([]string, error)
	RegenerateRecoveryCodes(ctx context.Context, c auth.Caller, code string) ([]string, error)
	DisableTOTP(ctx context.Context, c auth.Caller, pw, code, recovery string) error
}

// AdminService is the admin API on accounts and the audit trail.
type AdminService interface {
	ListUsers(ctx context.Context, f auth.UserFilter) (auth.UserPage, error)
	UserDetail(ctx context.Context, userID string) (auth.UserDetail, error)
	CreateUser(ctx context.Context, actor auth.Actor, in auth.NewUser) (store.User, error)
	DisableUser(ctx context.Context, actor auth.Actor, userID string) error
	EnableUser(ctx context.Context, actor auth.Actor, userID string) error
	GrantRole(ctx context.Context, actor auth.Actor, userID, role string) error
	RevokeRole(ctx context.Context, actor auth.Actor, userID, role string) error
	LogoutUser(ctx context.Context, actor auth.Actor, userID string) error
	DeleteUser(ctx context.Context, actor auth.Actor, userID string) error
	ResetMFA(ctx context.Context, actor auth.Actor, userID string) error
	AuditEvents(ctx context.Context, f auth.AuditFilter) (auth.AuditPage, error)
}

// ClientService is the admin API on service clients.
type ClientService interface {
	CreateClient(ctx context.Context, actor auth.Actor, nc auth.NewClient) (auth.ClientSecret, error)
	ListClients(ctx context.Context) ([]auth.ClientInfo, error)
	Client(ctx context.Context, id string) (auth.ClientInfo, error)
	RotateClientSecret(ctx context.Context, actor auth.Actor, id string, grace time.Duration) (auth.ClientSecret, error)
	DisableClient(ctx context.Context, actor auth.Actor, id string) error
	EnableClient(ctx context.Context, actor auth.Actor, id string) error
	DeleteClient(ctx context.Context, actor auth.Actor, id string) error
}
