package app_test

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/pkg/store"
)

// notYetLinked are schemes config accepts whose backend this binary may
// not link yet (pkg/store/mongostore registers them once it is imported
// by internal/app). Every other accepted scheme must be registered, and
// every registered scheme accepted.
var notYetLinked = []string{"mongodb", "mongodb+srv"}

func TestConfigSchemesAreTheRegisteredOnes(t *testing.T) {
	want := store.Schemes()
	for _, s := range notYetLinked {
		if !slices.Contains(want, s) {
			want = append(want, s)
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(config.DatabaseSchemes))
	if !slices.Equal(got, want) {
		t.Fatalf("config.DatabaseSchemes = %v, registered (plus not yet linked) = %v", got, want)
	}
	for _, s := range []string{"sqlite", "postgres", "postgresql", "mysql"} {
		if !slices.Contains(store.Schemes(), s) {
			t.Errorf("scheme %q is not registered", s)
		}
	}
}

// A scheme config accepts but no linked backend registered fails at open,
// naming the scheme and never the URL's password.
func TestOpenStoreUnlinkedScheme(t *testing.T) {
	for _, scheme := range notYetLinked {
		if slices.Contains(store.Schemes(), scheme) {
			continue
		}
		cfg := config.Config{DatabaseURL: scheme + "://authd:s3cret@db.example/authd"}
		_, err := app.OpenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
		if !errors.Is(err, store.ErrUnknownBackend) {
			t.Fatalf("%s: err %v, want ErrUnknownBackend", scheme, err)
		}
		if !strings.Contains(err.Error(), `"`+scheme+`"`) || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("%s: error %q: want the scheme named, no password", scheme, err)
		}
	}
}
