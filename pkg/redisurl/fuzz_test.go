package redisurl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/pkg/redisurl"
)

// FuzzParse: Parse never panics, every error matches ErrInvalid, and
// neither an error nor String shows the password.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"redis://127.0.0.1:6379/0", "rediss://u:pw@h:1/2", "redis+cluster://h1:1,h2:2?tls=true",
		"redis+cluster://u:p%40w@h1:1", "redis+sentinel://s1:1,s2:2/m/3", "redis+sentinel://:pw@s1:1/m",
		"redis+cluster://", "redis+sentinel://s:1", "x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := redisurl.Parse(s)
		if err != nil {
			if !errors.Is(err, redisurl.ErrInvalid) {
				t.Fatalf("Parse(%q) = %v, not ErrInvalid", s, err)
			}
			return
		}
		if cfg.Password != "" && (strings.Contains(cfg.String(), ":"+cfg.Password+"@") || !strings.Contains(cfg.String(), ":xxxxx@")) {
			t.Fatalf("String() = %q shows the password or hides nothing", cfg.String())
		}
	})
}
