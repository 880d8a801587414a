package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authd/authd/internal/mail"
)

func TestDevMailer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	var logs bytes.Buffer
	d, err := mail.NewDev(dir, "authd <no-reply@localhost>", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, err %v", files, err)
	}
	st, err := os.Stat(files[0])
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, err %v: the file holds credentials (links)", st.Mode(), err)
	}
	raw, _ := os.ReadFile(files[0])
	if !strings.Contains(string(raw), "To: <alice@example.com>") || !strings.Contains(string(raw), "multipart/alternative") {
		t.Errorf("not a MIME message:\n%s", raw)
	}
	// The point of the dev mailer: the developer sees the link in the log.
	if !strings.Contains(logs.String(), "token=abc_DEF-123") {
		t.Errorf("the link is not in the log:\n%s", logs.String())
	}
}
