package mail_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/mail"
)

func data() mail.Data {
	return mail.Data{Email: "alice@example.com", Link: "https://app.example.com/reset-password?token=T0K&x=<y>",
		Token: "T0K", PublicURL: "https://app.example.com", ExpiresIn: "30 minutes", When: "Mon, 02 Jan 2026 03:04:05 UTC"}
}

func TestDefaultTemplates(t *testing.T) {
	tpl, err := mail.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range mail.Kinds() {
		t.Run(string(k), func(t *testing.T) {
			m, err := tpl.Render(k, "alice@example.com", data())
			if err != nil {
				t.Fatal(err)
			}
			if m.To != "alice@example.com" || m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("to %q subject %q", m.To, m.Subject)
			}
			if !strings.Contains(m.Text, "alice@example.com") || !strings.Contains(m.HTML, "alice@example.com") {
				t.Errorf("the recipient is not named:\n%s", m.Text)
			}
			if k == mail.VerifyEmail || k == mail.PasswordReset || k == mail.Invite {
				// Text carries the link verbatim; HTML escapes it.
				if !strings.Contains(m.Text, data().Link) || !strings.Contains(m.Text, "30 minutes") {
					t.Errorf("text lacks the link or expiry:\n%s", m.Text)
				}
				if !strings.Contains(m.HTML, "token=T0K&amp;x=%3cy%3e") {
					t.Errorf("html does not carry the escaped link:\n%s", m.HTML)
				}
			}
		})
	}
}

func TestTemplateOverride(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("verify_email.txt", `{{define "subject"}}Bienvenue {{.Email}}{{end}}Cliquez : {{.PublicURL}}/confirmer#{{.Token}}`)
	write("README.md", "other files are ignored")
	tpl, err := mail.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tpl.Render(mail.VerifyEmail, "alice@example.com", data())
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Bienvenue alice@example.com" || m.Text != "Cliquez : https://app.example.com/confirmer#T0K" {
		t.Errorf("override not used: %q / %q", m.Subject, m.Text)
	}
	if !strings.Contains(m.HTML, "Confirm my email address") {
		t.Errorf("the HTML part without an override should be the default: %s", m.HTML)
	}
}

func TestTemplateOverrideErrors(t *testing.T) {
	tests := []struct{ name, file, body, want string }{
		{"no subject", "password_reset.txt", "Reset: {{.Link}}", `define "subject"`},
		{"parse error", "password_reset.html", "{{.Link", "password_reset.html"},
		{"unknown field", "password_changed.txt", `{{define "subject"}}x{{end}}{{.Nope}}`, "Nope"},
		{"misspelt file", "verify-email.txt", "x", "verify-email.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := mail.LoadTemplates(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := mail.LoadTemplates(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing templates dir was accepted")
	}
}

func TestHumanize(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "30 minutes", time.Minute: "1 minute", 10 * time.Second: "1 minute",
		time.Hour: "1 hour", 90 * time.Minute: "1 hour 30 minutes", 24 * time.Hour: "24 hours",
		72 * time.Hour: "3 days", 49 * time.Hour: "49 hours",
	} {
		if got := mail.Humanize(d); got != want {
			t.Errorf("Humanize(%s) = %q, want %q", d, got, want)
		}
	}
}
