package config

import (
	"net/url"
	"strings"
	"time"
)

// MFA token lifetime bounds (AUTHD_MFA_TOKEN_TTL): long enough to open an
// authenticator app, short enough that a stolen mfa_token is soon dead.
const (
	minMFATokenTTL = time.Minute
	maxMFATokenTTL = 15 * time.Minute
)

// EffectiveMFAIssuer returns MFAIssuer, or the host name of Issuer when it is
// empty: the name authenticator apps show for authd's accounts.
func (c Config) EffectiveMFAIssuer() string {
	if c.MFAIssuer != "" {
		return c.MFAIssuer
	}
	// The host name without the port: the otpauth label is
	// issuer:account, and apps split it at the first colon.
	if u, err := url.Parse(c.Issuer); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "authd"
}

// MFARequiredRoleList splits MFARequiredRoles (comma-separated, blanks
// dropped). The names are checked against the role grammar at start-up
// (internal/app), as AUTHD_ADMIN_ROLE is: config imports nothing of authd.
func (c Config) MFARequiredRoleList() []string {
	var out []string
	for r := range strings.SplitSeq(c.MFARequiredRoles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// mfaChecks are the validation rows of the second-factor settings.
func (c Config) mfaChecks() []check {
	return []check{
		{c.MFATokenTTL < minMFATokenTTL || c.MFATokenTTL > maxMFATokenTTL, "AUTHD_MFA_TOKEN_TTL", "must be between 1m and 15m"},
		{len(c.MFAIssuer) > 64 || strings.ContainsAny(c.MFAIssuer, ":\r\n"), "AUTHD_MFA_ISSUER", "must be at most 64 characters, without a colon (the otpauth URI's separator) or line breaks"},
	}
}
