package mail

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// smtpTarget is a parsed AUTHD_SMTP_URL.
type smtpTarget struct {
	addr, host  string
	implicitTLS bool // smtps://
	requireTLS  bool // smtp:// with ?starttls=required
	user, pass  string
	hasAuth     bool
}

// parseSMTPURL reads smtp://[user:pass@]host[:port][?starttls=required]
// (port 587, STARTTLS whenever the server offers it, or always with
// starttls=required) or smtps://[user:pass@]host[:port] (port 465, implicit
// TLS). Errors never repeat the URL: it may hold a password.
func parseSMTPURL(raw string) (smtpTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return smtpTarget{}, errors.New("mail: SMTP URL does not parse")
	}
	var t smtpTarget
	port := ""
	switch u.Scheme {
	case "smtp":
		port = "587"
	case "smtps":
		port, t.implicitTLS = "465", true
	default:
		return smtpTarget{}, errors.New("mail: SMTP URL scheme must be smtp or smtps")
	}
	t.host = u.Hostname()
	if t.host == "" {
		return smtpTarget{}, errors.New("mail: SMTP URL has no host")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	t.addr = net.JoinHostPort(t.host, port)
	if u.User != nil {
		t.user = u.User.Username()
		t.pass, _ = u.User.Password()
		t.hasAuth = t.user != ""
	}
	if u.Path != "" && u.Path != "/" || u.Fragment != "" {
		return smtpTarget{}, errors.New("mail: SMTP URL must not have a path or fragment")
	}
	for k, v := range u.Query() {
		switch {
		case k == "starttls" && len(v) == 1 && (v[0] == "required" || v[0] == "opportunistic"):
			if t.implicitTLS && v[0] == "opportunistic" {
				return smtpTarget{}, errors.New("mail: smtps:// is always TLS; starttls=opportunistic does not apply")
			}
			t.requireTLS = v[0] == "required"
		case k == "starttls":
			return smtpTarget{}, errors.New("mail: SMTP URL starttls must be required or opportunistic")
		default:
			return smtpTarget{}, fmt.Errorf("mail: SMTP URL parameter %q is unknown (only starttls)", k)
		}
	}
	return t, nil
}

// isLoopback reports whether host names this machine, where credentials
// in clear cannot be sniffed on a network.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
