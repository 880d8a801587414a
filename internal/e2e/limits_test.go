package e2e_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/mail/mailtest"
)

// Oversized headers and tokens are refused with 431 and 401, never 500.
func TestHeaderAndTokenLimits(t *testing.T) {
	s := startEmbedded(t, newClock(), nil)

	// Go's MaxHeaderBytes (32 KiB + slack) answers 431 before any handler.
	r := s.do("GET", "/healthz", "", "", map[string]string{"X-Filler": strings.Repeat("a", 40<<10)})
	if r.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("40 KiB header: %d %s", r.Status, r.Body)
	}
	// A bearer token over 8 KiB is refused unparsed: 401 invalid_token.
	huge := strings.Repeat("a", 9<<10)
	for _, path := range []string{"/v1/me", "/v1/verify", "/v1/sessions"} {
		r := s.get(path, huge)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("%s with a 9 KiB token: %d %q %s", path, r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
		}
	}
	s.do("POST", "/v1/logout", "", "", map[string]string{"Authorization": "Bearer " + huge}).wantError(t, http.StatusUnauthorized, "invalid_token")
}

// Every decoded endpoint refuses unknown JSON fields (400), other content
// types (415) and bodies over 64 KiB (413).
func TestRequestDecodingLimits(t *testing.T) {
	s := startEmbedded(t, newClock(), nil)
	tk := s.signedUp("dee@example.com")
	bearer := map[string]string{"Authorization": "Bearer " + tk.AccessToken}
	endpoints := []struct {
		path   string
		header map[string]string
	}{
		{"/v1/register", nil}, {"/v1/login", nil}, {"/v1/token", nil}, {"/v1/email/verify", nil},
		{"/v1/password/forgot", nil}, {"/v1/password/reset", nil},
		{"/v1/password/change", bearer}, {"/v1/logout", bearer},
	}
	big := `{"email":"` + strings.Repeat("a", 65<<10) + `"}`
	for _, e := range endpoints {
		t.Run(strings.TrimPrefix(e.path, "/v1/"), func(t *testing.T) {
			s.do("POST", e.path, "application/json", `{"unexpected":1}`, e.header).wantError(t, http.StatusBadRequest, "invalid_request")
			s.do("POST", e.path, "application/json", big, e.header).wantError(t, http.StatusRequestEntityTooLarge, "invalid_request")
			if e.path != "/v1/logout" { // logout's body is optional: a scope in the query does
				s.do("POST", e.path, "text/plain", `{}`, e.header).wantError(t, http.StatusUnsupportedMediaType, "invalid_request")
			}
		})
	}
	// The form decoder refuses repeated parameters, naming a plain one
	// and describing anything else.
	r := s.do("POST", "/v1/token", "application/x-www-form-urlencoded", "grant_type=refresh_token&grant_type=x", nil)
	r.wantError(t, http.StatusBadRequest, "invalid_request")
	if d := r.str(t, "error_description"); d != `parameter "grant_type" is repeated` {
		t.Errorf("description %q", d)
	}
	odd := url.QueryEscape("<script>")
	r = s.do("POST", "/v1/token", "application/x-www-form-urlencoded", odd+"=1&"+odd+"=2", nil)
	if d := r.str(t, "error_description"); strings.Contains(d, "script") {
		t.Errorf("description echoes the parameter: %q", d)
	}
	r = s.do("POST", "/v1/login", "application/json", `{"`+strings.Repeat("x", 300)+`":1}`, nil)
	if d := r.str(t, "error_description"); d != "the request body has an unknown field" {
		t.Errorf("description %q", d)
	}
}

// Responses that carry tokens, credentials or account data are never
// stored by a cache.
func TestNoStoreOnCredentialResponses(t *testing.T) {
	s := startEmbedded(t, newClock(), nil)
	s.register("nia@example.com", pw).want(t, http.StatusCreated)
	login := s.postJSON("/v1/login", map[string]string{"email": "nia@example.com", "password": pw}).want(t, http.StatusOK)
	tk := decodeTokens(t, login)
	for name, r := range map[string]response{
		"login":     login,
		"refresh":   s.refresh(tk.RefreshToken).want(t, http.StatusOK),
		"me":        s.get("/v1/me", tk.AccessToken).want(t, http.StatusOK),
		"sessions":  s.get("/v1/sessions", tk.AccessToken).want(t, http.StatusOK),
		"verify":    s.get("/v1/verify", tk.AccessToken).want(t, http.StatusOK),
		"error":     s.postJSON("/v1/login", map[string]string{"email": "nia@example.com", "password": "nope nope nope"}),
		"forgot":    s.postJSON("/v1/password/forgot", map[string]string{"email": "nia@example.com"}).want(t, http.StatusAccepted),
		"bad token": s.get("/v1/me", "x.y.z"),
	} {
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, cc)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: headers %v (no HSTS over plain HTTP)", name, r.Header)
		}
	}
}

// A client that sends its headers slowly is cut off when the read-header
// timeout passes, whatever it keeps trickling, and the server keeps
// serving others meanwhile.
func TestSlowlorisIsDisconnected(t *testing.T) {
	cfg := testConfig()
	cfg.DataDir = t.TempDir()
	const timeout = 300 * time.Millisecond
	s := startWith(t, cfg, newClock(), app.WithReadHeaderTimeout(timeout))
	addr := strings.TrimPrefix(s.URL, "http://")

	closed := make(chan time.Duration, 20)
	for range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		began := time.Now()
		if _, err := c.Write([]byte("POST /v1/login HTTP/1.1\r\nHost: authd\r\n")); err != nil {
			t.Fatal(err)
		}
		go func() { // trickle a header line every 50 ms, for up to 3 s
			for range 60 {
				time.Sleep(50 * time.Millisecond)
				if _, err := c.Write([]byte("X-Slow: 1\r\n")); err != nil {
					return
				}
			}
		}()
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := bufio.NewReader(c).ReadByte()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				closed <- -1 // still open after 5 s
				return
			}
			closed <- time.Since(began)
		}()
	}
	s.get("/healthz", "").want(t, http.StatusOK) // others are served meanwhile
	for range 20 {
		d := <-closed
		if d < 0 || d > timeout+2*time.Second {
			t.Fatalf("a slow client held its connection for %v (read-header timeout %v)", d, timeout)
		}
	}
}

// selfSigned writes mailtest's certificate for loopback and its key, PEM,
// into dir, and returns their paths and a pool trusting the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	srv, pool := mailtest.SelfSignedTLS(t)
	cert := srv.Certificates[0]
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}

// authd serves HTTPS itself from AUTHD_TLS_CERT/KEY: TLS 1.2 at least,
// HSTS on every response, the whole login flow over real TLS on loopback.
func TestServesTLS(t *testing.T) {
	cfg := testConfig()
	cfg.DataDir = t.TempDir()
	var pool *x509.CertPool
	cfg.TLSCert, cfg.TLSKey, pool = selfSigned(t, t.TempDir())
	s := start(t, cfg, newClock())
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("URL %s", s.URL)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	post := func(path, body string) *http.Response {
		resp, err := client.Post(s.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	creds := `{"email":"tls@example.com","password":"` + pw + `"}`
	if r := readResponse(t, post("/v1/register", creds)); r.Status != http.StatusCreated {
		t.Fatalf("register over TLS: %d %s", r.Status, r.Body)
	}
	resp := post("/v1/login", creds)
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("not TLS 1.2+: %+v", resp.TLS)
	}
	r := readResponse(t, resp)
	decodeTokens(t, r.want(t, http.StatusOK))
	if h := r.Header.Get("Strict-Transport-Security"); h != "max-age=63072000; includeSubDomains" {
		t.Fatalf("HSTS %q", h)
	}
	if r := readResponse(t, post("/v1/nope", "{}")); r.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS on a 404")
	}

	// TLS 1.1 is refused at the handshake, and so is plain HTTP.
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(s.URL + "/healthz"); err == nil {
		t.Fatal("a TLS 1.1 client was served")
	}
	if resp, err := httpClient.Get("http://" + strings.TrimPrefix(s.URL, "https://") + "/healthz"); err == nil {
		r := readResponse(t, resp)
		if r.Status == http.StatusOK {
			t.Fatal("plain HTTP was served on the TLS port")
		}
	}
}

// A certificate that cannot be loaded stops authd at start, naming the
// settings.
func TestBadCertificateStopsStart(t *testing.T) {
	cfg := testConfig()
	cfg.DataDir = t.TempDir()
	cfg.TLSCert, cfg.TLSKey = filepath.Join(t.TempDir(), "missing.pem"), filepath.Join(t.TempDir(), "missing.key")
	_, err := app.Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "AUTHD_TLS_CERT") {
		t.Fatalf("Open with a missing certificate: %v", err)
	}
}
