package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/denylist"
)

// payloadOf decodes a JWT's claims without verifying it: the test reads
// tokens the service has just minted.
func payloadOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A password login's access token says how and when the user
// authenticated (amr, auth_time); a refresh later keeps auth_time, since
// it proves no new authentication.
func TestAccessTokensCarryAMRAndAuthTime(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	clock := func() time.Time { return now }
	f := newFixture(t, denylist.NewMemory(), 10, func(c *auth.Config) { c.Clock = clock })
	ctx := context.Background()
	if _, err := f.svc.Register(ctx, "amr@example.com", "correct horse battery", auth.Device{}); err != nil {
		t.Fatal(err)
	}
	login, err := f.svc.Login(ctx, "amr@example.com", "correct horse battery", auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	loggedInAt := now
	now = now.Add(10 * time.Minute)
	refreshed, err := f.svc.Refresh(ctx, login.RefreshToken, auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"login": login.AccessToken, "refresh": refreshed.AccessToken} {
		c := payloadOf(t, tok)
		if !reflect.DeepEqual(c["amr"], []any{"pwd"}) {
			t.Errorf("%s: amr = %v, want [pwd]", name, c["amr"])
		}
		if c["auth_time"] != float64(loggedInAt.Unix()) {
			t.Errorf("%s: auth_time = %v, want %d", name, c["auth_time"], loggedInAt.Unix())
		}
	}
	if c := payloadOf(t, login.RefreshToken); c["amr"] != nil || c["auth_time"] != nil {
		t.Errorf("refresh token carries amr/auth_time: %v", c)
	}
}
