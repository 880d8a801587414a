package consumertest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// serverModules are authd's server dependencies; no consumer of
// pkg/middleware may link any of them.
var serverModules = []string{
	"github.com/gin-gonic/gin",
	"github.com/lib/pq",
	"github.com/go-sql-driver/mysql",
	"modernc.org/sqlite",
	"github.com/jmoiron/sqlx",
	"github.com/pressly/goose",
	"github.com/prometheus/client_golang",
	"go.mongodb.org/mongo-driver",
}

const goRedis = "github.com/redis/go-redis/v9"

// consumerMain is a service's main.go: imports beside net/http, log and
// pkg/middleware, setup before the Verifier, and its key and revocation
// options.
func consumerMain(imports, setup, options string) string {
	return `package main

import (
	"log"
	"net/http"

	"github.com/authd/authd/pkg/middleware"
` + imports + `)

func main() {
` + setup + `	v, err := middleware.NewVerifier(
		middleware.WithIssuer("https://auth.example.com"),
		middleware.WithAudience("https://api.example.com"),
` + options + `	)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:0", v.Handler(http.NotFoundHandler())))
}
`
}

var (
	staticMain = consumerMain("\t\"os\"\n", `	keys, err := middleware.StaticKeysFromPEM("ES256", []byte(os.Getenv("AUTHD_PUBLIC_KEY")))
	if err != nil {
		log.Fatal(err)
	}
`, "\t\tmiddleware.WithKeySet(keys),\n")
	remoteMain = consumerMain("", "", "\t\tmiddleware.WithDiscovery(),\n")
	redisMain  = consumerMain("\t\"github.com/authd/authd/pkg/denylist\"\n\t\"github.com/redis/go-redis/v9\"\n",
		"\tdl := denylist.NewRedis(redis.NewClient(&redis.Options{Addr: \"127.0.0.1:6379\"}))\n",
		"\t\tmiddleware.WithDiscovery(),\n\t\tmiddleware.WithRevocation(dl, middleware.FailClosed),\n")
)

// TestConsumerLinksOnlyWhatItUses builds consumer modules the way a service
// would depend on authd and checks the packages each one links.
func TestConsumerLinksOnlyWhatItUses(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: runs go mod tidy and go list in fresh modules")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("skipping: the go tool is not on PATH: %v", err)
	}
	_, file, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		main      string
		forbidden []string
		required  []string
	}{
		{"static keys", staticMain, append(serverModules, goRedis), []string{"github.com/authd/authd/pkg/middleware"}},
		{"remote keys", remoteMain, append(serverModules, goRedis), []string{"github.com/authd/authd/pkg/middleware"}},
		{"redis revocation", redisMain, serverModules, []string{"github.com/authd/authd/pkg/denylist", goRedis}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			gomod := "module example.com/consumer\n\ngo 1.26.0\n\nrequire github.com/authd/authd v0.0.0\n\nreplace github.com/authd/authd => " + root + "\n"
			write(t, filepath.Join(dir, "go.mod"), gomod)
			write(t, filepath.Join(dir, "main.go"), tt.main)
			goCmd(t, goTool, dir, "mod", "tidy")
			// What tidy wrote is what the consumer's own go.mod inherits.
			gomodAfter, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range tt.forbidden {
				if strings.Contains(string(gomodAfter), bad) {
					t.Errorf("the consumer's go.mod requires %s:\n%s", bad, gomodAfter)
				}
			}
			goCmd(t, goTool, dir, "build", "-o", os.DevNull, ".") // the consumer is a real program
			deps := strings.Fields(goCmd(t, goTool, dir, "list", "-deps", "."))
			for _, want := range tt.required {
				if !contains(deps, want) {
					t.Errorf("the consumer does not link %s; the check below proves nothing (deps: %q)", want, deps)
				}
			}
			for _, dep := range deps {
				for _, bad := range tt.forbidden {
					if dep == bad || strings.HasPrefix(dep, bad+"/") {
						t.Errorf("the consumer links %s", dep)
					}
				}
			}
			// The module graph is logged, not asserted: while pkg/ is part
			// of the root module a consumer's graph still lists authd's
			// go.mod (docs/ARCHITECTURE.md, "Library surface").
			t.Logf("go list -m all:\n%s", goCmd(t, goTool, dir, "list", "-m", "all"))
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// goCmd runs the go tool in dir outside any workspace, resolving modules
// from the module cache or GOPROXY as the environment says.
func goCmd(t *testing.T, goTool, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}
