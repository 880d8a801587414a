package app

import (
	"log/slog"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/auth"
)

// serviceConfig is the service's configuration from cfg. The parts it runs
// on (Outbox and Templates, Limits, Events, MFA.Sealer) are the caller's
// to add: each composition opens only those it uses, and what it leaves
// unset the service does without (no mail, no limits, no second factor).
func serviceConfig(cfg config.Config, log *slog.Logger, clock func() time.Time) auth.Config {
	return auth.Config{
		Issuer:            cfg.Issuer,
		Audience:          cfg.EffectiveAudience(),
		ClientID:          cfg.ClientID,
		AccessTTL:         cfg.AccessTTL,
		RefreshTTL:        cfg.RefreshTTL,
		RefreshReuseGrace: cfg.RefreshReuseGrace,
		Leeway:            cfg.Leeway,
		PasswordPolicy:    passwordPolicy(cfg),
		Clock:             clock,
		Logger:            log,

		PublicURL:            cfg.EffectivePublicURL(),
		VerifyTTL:            cfg.VerifyTTL,
		ResetTTL:             cfg.ResetTTL,
		InviteTTL:            cfg.InviteTTL,
		AdminRole:            cfg.AdminRole,
		RequireVerifiedEmail: cfg.RequireVerifiedEmail,
		MFA: auth.MFAConfig{
			Issuer:        cfg.EffectiveMFAIssuer(),
			TokenTTL:      cfg.MFATokenTTL,
			RequiredRoles: cfg.MFARequiredRoleList(),
		},
	}
}
