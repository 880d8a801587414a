package middleware_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps database drivers out of every service that
// imports pkg/middleware, and gin and go-redis out of those that use
// neither ginmw nor a Redis revocation check.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("skipping: the go tool is not on PATH: %v", err)
	}
	sql := []string{"github.com/jmoiron/sqlx", "github.com/lib/pq", "modernc.org/sqlite"}
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"github.com/authd/authd/pkg/middleware", append(sql, "github.com/gin-gonic/gin", "github.com/redis/go-redis/v9")},
		{"github.com/authd/authd/pkg/middleware/ginmw", sql},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", tt.pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", tt.pkg, err)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 10 {
				t.Fatalf("go list -deps %s listed only %q", tt.pkg, deps)
			}
			for _, dep := range deps {
				for _, bad := range tt.forbidden {
					if dep == bad || strings.HasPrefix(dep, bad+"/") {
						t.Errorf("%s depends on %s", tt.pkg, dep)
					}
				}
			}
		})
	}
}
