package app

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// WithReadHeaderTimeout replaces the server's 5 s limit on reading a
// request's headers (tests shorten it to watch a slowloris client being
// cut off).
func WithReadHeaderTimeout(d time.Duration) Option {
	return func(a *App) { a.readHeaderTimeout = d }
}

// loadTLS reads AUTHD_TLS_CERT and AUTHD_TLS_KEY at start, so a bad pair
// stops authd at once rather than at the first handshake. TLS 1.2 is the
// floor (RFC 9325); Go's default cipher suites are kept.
func (a *App) loadTLS() error {
	if a.cfg.TLSCert == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("AUTHD_TLS_CERT/AUTHD_TLS_KEY: %w", err)
	}
	a.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	return nil
}

// serveOn serves srv on ln: HTTPS when AUTHD_TLS_CERT is set, else HTTP.
func (a *App) serveOn(srv *http.Server, ln net.Listener) error {
	if a.tls != nil {
		srv.TLSConfig = a.tls
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}
