package e2e_test

import (
	"encoding/base64"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBinaryHardening checks the audit's findings that show over HTTP
// against the real authd binary on the embedded default, as an attacker
// would meet them. Each finding is also pinned at the layer that fixes
// it; this test shows the shipped binary wires every fix.
func TestBinaryHardening(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil { // an existing data dir open to others
		t.Fatal(err)
	}
	c := newEmbeddedCLI(t, dir)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	const clientID, secret = "interop-gateway", "s3cret+/=with-every_sign~0123"
	cmd := exec.Command(c.bin)
	cmd.Env = append(append([]string(nil), c.env...), "AUTHD_ADDR="+addr, "AUTHD_METRICS_ADDR="+metricsAddr,
		"AUTHD_INTROSPECTION_CLIENT_ID="+clientID, "AUTHD_INTROSPECTION_CLIENT_SECRET="+secret)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	s := &server{t: t, URL: "http://" + addr}
	waitListening(t, addr)
	tk := s.signedUp("bin@example.com")

	t.Run("strict JSON input", func(t *testing.T) {
		for _, body := range []string{
			`{"EMAIL":"bin@example.com","PassWord":"correct horse battery"}`,                         // case-folded names
			`{"email":"bin@example.com","email":"x@example.com","password":"correct horse battery"}`, // duplicated key
			`{"email":"bin@example.com"}`, // missing password
		} {
			s.do("POST", "/v1/login", "application/json", body, nil).wantError(t, http.StatusBadRequest, "invalid_request")
		}
	})

	t.Run("two Authorization headers", func(t *testing.T) {
		h := http.Header{"Authorization": {"Bearer " + tk.AccessToken, "Bearer " + tk.AccessToken}}
		s.doHeaders("GET", "/v1/me", "", "", h).wantError(t, http.StatusBadRequest, "invalid_request")
	})

	t.Run("IDNA email domains and address literals", func(t *testing.T) {
		if r := s.register("a@exämple.com", "correct horse battery"); r.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		s.login("a@xn--exmple-cua.com", "correct horse battery")
		s.register("user@[127.0.0.1]", "correct horse battery").wantError(t, http.StatusBadRequest, "invalid_request")
	})

	t.Run("access tokens always carry roles", func(t *testing.T) {
		roles, ok := claims(t, tk.AccessToken)["roles"].([]any)
		if !ok || len(roles) != 0 {
			t.Fatalf("roles claim = %#v, want []", claims(t, tk.AccessToken)["roles"])
		}
	})

	t.Run("OIDC discovery members", func(t *testing.T) {
		doc := s.get("/.well-known/openid-configuration", "").JSON(t)
		if got, _ := doc["subject_types_supported"].([]any); !slices.Equal(got, []any{"public"}) {
			t.Fatalf("subject_types_supported = %v", doc["subject_types_supported"])
		}
		if algs, _ := doc["id_token_signing_alg_values_supported"].([]any); !slices.Contains(algs, any("ES256")) {
			t.Fatalf("id_token_signing_alg_values_supported = %v", doc["id_token_signing_alg_values_supported"])
		}
		if _, ok := doc["authd_access_token_lifetime"].(float64); !ok {
			t.Fatalf("authd_access_token_lifetime missing: %v", doc)
		}
	})

	t.Run("introspection with form-encoded Basic credentials", func(t *testing.T) {
		basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)))
		r := s.do("POST", "/v1/introspect", "application/x-www-form-urlencoded", url.Values{"token": {tk.AccessToken}}.Encode(),
			map[string]string{"Authorization": "Basic " + basic})
		if r.Status != http.StatusOK || r.JSON(t)["active"] != true {
			t.Fatalf("introspect: %d %s", r.Status, r.Body)
		}
	})

	t.Run("metric labels do not grow with input", func(t *testing.T) {
		series := func() int {
			resp, err := http.Get("http://" + metricsAddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, line := range strings.Split(string(b), "\n") {
				if line != "" && !strings.HasPrefix(line, "#") {
					n++
				}
			}
			return n
		}
		rng := rand.New(rand.NewPCG(1, 2))
		random := func(n int) string {
			const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			b := make([]byte, n)
			for i := range b {
				b[i] = letters[rng.IntN(len(letters))]
			}
			return string(b)
		}
		send := func(method, path string) {
			req, err := http.NewRequest(method, s.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		send("WARMUP", "/warm-up") // the one series of made-up methods on unmatched paths
		before := series()
		for range 300 {
			send(random(1+rng.IntN(500)), "/"+strings.ToLower(random(1+rng.IntN(100))))
		}
		if after := series(); after != before {
			t.Fatalf("series %d before 300 random requests, %d after", before, after)
		}
	})

	t.Run("password change is rate limited", func(t *testing.T) {
		change := func(current string) response {
			return s.bearer("POST", "/v1/password/change", tk.AccessToken,
				map[string]string{"current_password": current, "new_password": "a brand new horse"})
		}
		limited := false
		for i := 0; i < 12 && !limited; i++ {
			r := change("wrong guess number " + string(rune('a'+i)))
			switch r.Status {
			case http.StatusTooManyRequests:
				limited = true
			case http.StatusUnauthorized:
			default:
				t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
			}
		}
		if !limited {
			t.Fatal("12 wrong current passwords and no 429")
		}
		change("correct horse battery").wantError(t, http.StatusTooManyRequests, "rate_limited")
	})

	t.Run("SQLite files are owner-only", func(t *testing.T) {
		for _, name := range []string{"authd.db", "authd.db-wal", "authd.db-shm"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Fatalf("%s mode %v, want 0600", name, perm)
			}
		}
	})
}
