package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
)

// TestDenylistRebuild: `authd denylist rebuild` writes the store's live
// revocations to Redis (under the test's prefix) and says how many.
func TestDenylistRebuild(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dir := t.TempDir()
	t.Setenv("AUTHD_DATA_DIR", dir)
	t.Setenv("AUTHD_DATABASE_URL", "")
	t.Setenv("AUTHD_LOG_LEVEL", "error")
	t.Setenv("AUTHD_REDIS_URL", testenv.RedisURL())
	t.Setenv("AUTHD_REDIS_KEY_PREFIX", prefix)
	t.Setenv("AUTHD_DENYLIST_LAYOUT", "v2")
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(dir, "authd.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = st.RecordRevocations(ctx, []store.Revocation{
		{Kind: store.RevocationSession, Subject: "u1", Value: "s1", Until: time.Now().Add(time.Hour)},
		{Kind: store.RevocationCutoff, Subject: "u2", Cutoff: time.Now(), Until: time.Now().Add(time.Hour)},
		{Kind: store.RevocationToken, Subject: "u3", Value: "gone", Until: time.Now().Add(-time.Minute)},
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"denylist", "rebuild"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "2 live revocations written") {
		t.Fatalf("output %q, want the 2 live revocations counted", out.String())
	}
	for _, key := range []string{prefix + "{u1}:sid:s1", prefix + "{u2}:cut", prefix + "generation"} {
		if n, err := client.Exists(ctx, key).Result(); err != nil || n != 1 {
			t.Errorf("%s after the rebuild: exists %d, %v", key, n, err)
		}
	}
	if code := run(ctx, []string{"denylist"}, &out, &errb); code != 2 {
		t.Errorf("denylist without rebuild: exit %d, want 2", code)
	}
}
