package e2e_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
)

// nginxConf is the auth_request setup the README documents, with test paths.
const nginxConf = `
worker_processes 1;
daemon off;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path {{dir}}/body;
    proxy_temp_path {{dir}}/proxy;
    fastcgi_temp_path {{dir}}/fastcgi;
    uwsgi_temp_path {{dir}}/uwsgi;
    scgi_temp_path {{dir}}/scgi;

    upstream authd { server {{authd}}; }
    upstream app   { server {{app}}; }

    server {
        listen {{listen}};

        location / {
            auth_request /_authd_verify;
            auth_request_set $auth_subject $upstream_http_x_auth_subject;
            auth_request_set $auth_roles   $upstream_http_x_auth_roles;
            proxy_set_header X-Auth-Subject $auth_subject;
            proxy_set_header X-Auth-Roles   $auth_roles;
            proxy_pass http://app;
        }

        location = /_authd_verify {
            internal;
            proxy_pass http://authd/v1/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }
    }
}
`

func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if testenv.RequireServices() {
		t.Fatal("nginx is required (AUTHD_TEST_REQUIRE_SERVICES=1) but not installed; .ci/run installs it")
	}
	t.Skip("skipping: nginx not installed (apt-get install nginx)")
	return ""
}

// TestNginxAuthRequest puts a real nginx in front of an upstream with
// auth_request to authd's /v1/verify.
func TestNginxAuthRequest(t *testing.T) {
	bin := nginxBinary(t)
	s := startEmbedded(t, newClock(), nil)

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.Header.Get("X-Auth-Subject"))
	}))
	t.Cleanup(upstream.Close)

	dir := t.TempDir()
	listen := freeAddr(t)
	conf := strings.NewReplacer("{{dir}}", dir, "{{authd}}", strings.TrimPrefix(s.URL, "http://"),
		"{{app}}", strings.TrimPrefix(upstream.URL, "http://"), "{{listen}}", listen).Replace(nginxConf)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath)
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", logs)
		}
	})
	waitListening(t, listen)

	gw := &server{t: t, URL: "http://" + listen}
	tk := s.signedUp("quinn@example.com")
	sub := claims(t, tk.AccessToken)["sub"].(string)

	if r := gw.get("/orders", ""); r.Status != 401 {
		t.Fatalf("no token through nginx: %d", r.Status)
	}
	r := gw.get("/orders", tk.AccessToken)
	if r.Status != 200 || string(r.Body) != "hello "+sub {
		t.Fatalf("valid token through nginx: %d %q (want subject %s passed upstream)", r.Status, r.Body, sub)
	}
	if r := gw.get("/orders", tk.RefreshToken); r.Status != 401 {
		t.Fatalf("refresh token through nginx: %d", r.Status)
	}
	if r := s.logout(tk.AccessToken, ""); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := gw.get("/orders", tk.AccessToken); r.Status != 401 {
		t.Fatalf("logged-out token through nginx: %d", r.Status)
	}
}

// waitListening waits until something accepts TCP connections on addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
