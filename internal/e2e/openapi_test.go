package e2e_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/authd/authd/docs"
	"github.com/gin-gonic/gin"
	"go.yaml.in/yaml/v3"
)

// TestOpenAPICoversEveryRoute checks both directions: every route the server
// registers is documented, and every documented operation exists.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := startEmbedded(t, newClock(), nil)
	engine, ok := s.App.Handler().(*gin.Engine)
	if !ok {
		t.Fatalf("handler is %T, not *gin.Engine", s.App.Handler())
	}

	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1.x", doc.OpenAPI)
	}

	param := regexp.MustCompile(`[:*]([A-Za-z_]+)`)
	registered := map[string][]string{} // documented-style path → methods
	for _, r := range engine.Routes() {
		p := param.ReplaceAllString(r.Path, "{$1}")
		registered[p] = append(registered[p], strings.ToLower(r.Method))
	}
	// Routes registered for every method (forward-auth) are documented
	// with one representative operation.
	anyMethod := func(methods []string) bool { return len(methods) >= 7 }

	for path, methods := range registered {
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s %v is not in docs/openapi.yaml", path, methods)
			continue
		}
		if anyMethod(methods) {
			continue
		}
		for _, m := range methods {
			if _, ok := ops[m]; !ok {
				t.Errorf("route %s %s is not documented", strings.ToUpper(m), path)
			}
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if !slices.Contains(registered[path], m) {
				t.Errorf("documented %s %s is not served", strings.ToUpper(m), path)
			}
		}
	}

	r := s.get("/openapi.yaml", "")
	if r.Status != http.StatusOK || string(r.Body) != string(docs.OpenAPI) {
		t.Fatalf("/openapi.yaml: %d", r.Status)
	}
}
