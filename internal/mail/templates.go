package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
)

// Kind names a message, and its templates <kind>.txt and <kind>.html.
type Kind string

// The messages authd sends.
const (
	// VerifyEmail carries the email verification link.
	VerifyEmail Kind = "verify_email"
	// PasswordReset carries the password reset link.
	PasswordReset Kind = "password_reset"
	// PasswordChanged tells the owner their password was changed or reset.
	PasswordChanged Kind = "password_changed"
	// RegistrationNotice tells the owner of an email that someone tried to
	// register it again (sent instead of an error when verified email is
	// required, so registration does not reveal accounts).
	RegistrationNotice Kind = "registration_notice"
	// Invite carries the set-password link of an account an admin
	// created without a password (a password reset token).
	Invite Kind = "invite"
	// MFAEnabled tells the owner a second factor was turned on.
	MFAEnabled Kind = "mfa_enabled"
	// MFADisabled tells the owner their second factor was turned off, by
	// themselves or by an administrator.
	MFADisabled Kind = "mfa_disabled"
)

// Kinds lists every Kind, in a stable order.
func Kinds() []Kind {
	return []Kind{VerifyEmail, PasswordReset, PasswordChanged, RegistrationNotice, Invite, MFAEnabled, MFADisabled}
}

// Data is what every template sees. Fields a kind does not use are empty.
type Data struct {
	// Email is the recipient's address.
	Email string
	// Link is the action link (VerifyEmail, PasswordReset, Invite): PublicURL plus
	// a path and the token.
	Link string
	// Token is the one-time token alone, for templates that build their
	// own link.
	Token string
	// PublicURL is AUTHD_PUBLIC_URL, the base of every link.
	PublicURL string
	// ExpiresIn is how long Link works, in words ("30 minutes").
	ExpiresIn string
	// When is the time of the event (PasswordChanged, MFAEnabled,
	// MFADisabled), RFC 1123, UTC.
	When string
}

//go:embed templates/*.txt templates/*.html
var defaultTemplates embed.FS

// Templates renders messages: per Kind a text/template (<kind>.txt, which
// must define "subject") and an html/template (<kind>.html).
type Templates struct {
	text map[Kind]*texttemplate.Template
	html map[Kind]*htmltemplate.Template
}

// LoadTemplates parses the embedded templates, each replaced by the file
// of the same name in dir when dir is not empty and has one. Every
// template is executed once with sample data, so a broken override stops
// start-up instead of the first mail. A .txt or .html file in dir that
// matches no Kind is an error (a misspelt override would otherwise be
// silently ignored).
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{text: map[Kind]*texttemplate.Template{}, html: map[Kind]*htmltemplate.Template{}}
	if err := checkOverrideNames(dir); err != nil {
		return nil, err
	}
	var errs []error
	for _, k := range Kinds() {
		if err := t.load(dir, k); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Templates) load(dir string, k Kind) error {
	txtName, htmlName := string(k)+".txt", string(k)+".html"
	src, err := read(dir, txtName)
	if err != nil {
		return err
	}
	tt, err := texttemplate.New(txtName).Option("missingkey=error").Parse(src)
	if err != nil {
		return fmt.Errorf("mail: template %s: %w", txtName, err)
	}
	if tt.Lookup("subject") == nil {
		return fmt.Errorf(`mail: template %s: must define "subject" ({{define "subject"}}…{{end}})`, txtName)
	}
	if src, err = read(dir, htmlName); err != nil {
		return err
	}
	ht, err := htmltemplate.New(htmlName).Option("missingkey=error").Parse(src)
	if err != nil {
		return fmt.Errorf("mail: template %s: %w", htmlName, err)
	}
	t.text[k], t.html[k] = tt, ht
	sample := Data{Email: "alice@example.com", Link: "https://example.com/x?token=t", Token: "t",
		PublicURL: "https://example.com", ExpiresIn: "30 minutes", When: time.Unix(0, 0).UTC().Format(time.RFC1123)}
	if _, err := t.Render(k, "alice@example.com", sample); err != nil {
		return err
	}
	return nil
}

// read returns the override in dir, or the embedded default.
func read(dir, name string) (string, error) {
	if dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			return string(b), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("mail: template override: %w", err)
		}
	}
	b, err := defaultTemplates.ReadFile("templates/" + name)
	if err != nil {
		return "", fmt.Errorf("mail: embedded template %s: %w", name, err)
	}
	return string(b), nil
}

func checkOverrideNames(dir string) error {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("mail: templates dir: %w", err)
	}
	var known []string
	for _, k := range Kinds() {
		known = append(known, string(k)+".txt", string(k)+".html")
	}
	for _, e := range entries {
		n := e.Name()
		if (strings.HasSuffix(n, ".txt") || strings.HasSuffix(n, ".html")) && !slices.Contains(known, n) {
			return fmt.Errorf("mail: templates dir: %s matches no message (known: %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}

// Render executes kind's templates with d into a Message to `to`.
func (t *Templates) Render(kind Kind, to string, d Data) (Message, error) {
	tt, ht := t.text[kind], t.html[kind]
	if tt == nil || ht == nil {
		return Message{}, fmt.Errorf("mail: no templates for %q", kind)
	}
	var subject, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject", d); err != nil {
		return Message{}, fmt.Errorf("mail: render %s subject: %w", kind, err)
	}
	if err := tt.Execute(&text, d); err != nil {
		return Message{}, fmt.Errorf("mail: render %s.txt: %w", kind, err)
	}
	if err := ht.Execute(&html, d); err != nil {
		return Message{}, fmt.Errorf("mail: render %s.html: %w", kind, err)
	}
	return Message{To: to, Subject: oneLine(subject.String()), Text: strings.TrimLeft(text.String(), "\n"), HTML: html.String()}, nil
}

// Humanize writes d in words for a message: "30 minutes", "24 hours",
// "1 hour 30 minutes", "3 days" (days only from two on, whole ones).
// Seconds are dropped; under a minute is "1 minute".
func Humanize(d time.Duration) string {
	const day = 24 * time.Hour
	d = max(d.Round(time.Minute), time.Minute)
	if d >= 2*day && d%day == 0 {
		return plural(int64(d/day), "day")
	}
	var parts []string
	if h := d / time.Hour; h > 0 {
		parts = append(parts, plural(int64(h), "hour"))
	}
	if m := (d % time.Hour) / time.Minute; m > 0 {
		parts = append(parts, plural(int64(m), "minute"))
	}
	return strings.Join(parts, " ")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
