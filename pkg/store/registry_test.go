package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authd/authd/pkg/store"
)

func TestRegistry(t *testing.T) {
	var gotURL string
	store.Register("registrytest", func(_ context.Context, url string, cfg store.OpenConfig) (store.Store, error) {
		if cfg.Logger == nil || cfg.Now == nil {
			t.Error("opener given a nil logger or clock")
		}
		gotURL = url
		return nil, errors.New("opened")
	})
	if !slices.Contains(store.Schemes(), "registrytest") {
		t.Fatalf("Schemes() = %v", store.Schemes())
	}
	if _, err := store.Open(t.Context(), "RegistryTest://h/db"); err == nil || err.Error() != "opened" || gotURL != "RegistryTest://h/db" {
		t.Fatalf("Open of a registered scheme: %v, url %q", err, gotURL)
	}
	for _, url := range []string{"nosuch://u:secret@h/db", "no scheme at all", ""} {
		_, err := store.Open(t.Context(), url)
		if !errors.Is(err, store.ErrUnknownBackend) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q): %v, want ErrUnknownBackend without the URL", url, err)
		}
	}
	for name, register := range map[string]func(){
		"twice": func() {
			store.Register("registrytest", func(context.Context, string, store.OpenConfig) (store.Store, error) { return nil, nil })
		},
		"nil opener": func() { store.Register("registrytest2", nil) },
		"upper case": func() {
			store.Register("Bad", func(context.Context, string, store.OpenConfig) (store.Store, error) { return nil, nil })
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			register()
		})
	}
}
