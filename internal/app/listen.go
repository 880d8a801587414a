package app

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/authd/authd/config"
)

// WithReadHeaderTimeout replaces the server's 5 s limit on reading a
// request's headers (tests shorten it to watch a slowloris client being
// cut off).
func WithReadHeaderTimeout(d time.Duration) Option {
	return func(s *settings) { s.readHeaderTimeout = d }
}

// loadTLS reads AUTHD_TLS_CERT and AUTHD_TLS_KEY at start, so a bad pair
// stops authd at once rather than at the first handshake; nil when they
// are unset. TLS 1.2 is the floor (RFC 9325); Go's default cipher suites
// are kept.
func loadTLS(cfg config.Config) (*tls.Config, error) {
	if cfg.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("AUTHD_TLS_CERT/AUTHD_TLS_KEY: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// serveOn serves srv on ln: HTTPS with tc when AUTHD_TLS_CERT is set, else
// HTTP.
func serveOn(srv *http.Server, ln net.Listener, tc *tls.Config) error {
	if tc != nil {
		srv.TLSConfig = tc
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}
