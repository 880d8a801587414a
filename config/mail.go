package config

import (
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// devMailFrom is the sender of the development mailer when MailFrom is
// empty; with SMTP, MailFrom is required.
const devMailFrom = "authd <no-reply@localhost>"

// EffectivePublicURL returns PublicURL without a trailing slash, or Issuer
// when PublicURL is empty.
func (c Config) EffectivePublicURL() string {
	if c.PublicURL == "" {
		return c.Issuer
	}
	return strings.TrimRight(c.PublicURL, "/")
}

// EffectiveMailFrom returns MailFrom, or the development sender when it is
// empty.
func (c Config) EffectiveMailFrom() string {
	if c.MailFrom == "" {
		return devMailFrom
	}
	return c.MailFrom
}

// TrustedProxyList returns the entries of TrustedProxies, trimmed; nil when
// it is empty.
func (c Config) TrustedProxyList() []string {
	if strings.TrimSpace(c.TrustedProxies) == "" {
		return nil
	}
	var out []string
	for p := range strings.SplitSeq(c.TrustedProxies, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// mailChecks are the validation rows of the mail, account and proxy
// settings.
func (c Config) mailChecks() []check {
	return []check{
		{c.PublicURL != "" && !validPublicURL(c.PublicURL), "AUTHD_PUBLIC_URL", "must be an absolute http(s) URL without query or fragment, e.g. https://app.example.com"},
		{c.SMTPURL != "" && !validSMTPURL(c.SMTPURL), "AUTHD_SMTP_URL", "must be smtp://[user:pass@]host[:port][?starttls=required|opportunistic] or smtps://[user:pass@]host[:port] (user and password URL-encoded)"},
		{c.SMTPURL != "" && c.MailFrom == "", "AUTHD_MAIL_FROM", "is required with AUTHD_SMTP_URL, e.g. Example <no-reply@example.com>"},
		{c.MailFrom != "" && !validMailbox(c.MailFrom), "AUTHD_MAIL_FROM", "must be an address such as no-reply@example.com or Example <no-reply@example.com>"},
		{c.VerifyTTL < 10*time.Minute || c.VerifyTTL > 720*time.Hour, "AUTHD_VERIFY_TTL", "must be between 10m and 720h"},
		{c.ResetTTL < 5*time.Minute || c.ResetTTL > 24*time.Hour, "AUTHD_RESET_TTL", "must be between 5m and 24h"},
		{c.InviteTTL < time.Hour || c.InviteTTL > 720*time.Hour, "AUTHD_INVITE_TTL", "must be between 1h and 720h"},
		{!validProxies(c.TrustedProxyList()), "AUTHD_TRUSTED_PROXIES", "must be a comma-separated list of IPs or CIDRs, e.g. 10.0.0.0/8,192.0.2.7"},
	}
}

func validPublicURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// validSMTPURL mirrors what internal/mail accepts (config imports nothing
// of authd); the message never repeats the URL, which may hold a password.
func validSMTPURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return false
	}
	for k, v := range u.Query() {
		ok := k == "starttls" && len(v) == 1 &&
			(v[0] == "required" || (v[0] == "opportunistic" && u.Scheme == "smtp"))
		if !ok {
			return false
		}
	}
	return true
}

func validMailbox(s string) bool {
	_, err := mail.ParseAddress(s)
	return err == nil
}

func validProxies(list []string) bool {
	for _, p := range list {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return false
			}
		}
	}
	return true
}
