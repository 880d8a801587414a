package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrNotLoopback is returned (wrapped) for a target, or a dialled address,
// outside the loopback range when remote targets were not allowed.
var ErrNotLoopback = errors.New("not a loopback address (pass -allow-remote to name another address explicitly)")

// Resolver looks up the addresses of a host name; net.DefaultResolver is
// one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ValidateTarget parses the base URL of an authd and checks that it may be
// loaded: http or https, a host, no query, fragment or credentials, and,
// unless allowRemote, a host that is a loopback address (127.0.0.0/8, ::1)
// or a name all of whose addresses are loopback ("localhost"). The
// returned URL has no trailing slash in its path.
func ValidateTarget(ctx context.Context, raw string, allowRemote bool, r Resolver) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("target %q: scheme must be http or https", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("target %q: no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("target %q: credentials in the URL are not supported", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, fmt.Errorf("target %q: a base URL has no query or fragment", raw)
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return nil, fmt.Errorf("target %q: bad port %q", raw, p)
		}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if allowRemote {
		return u, nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.Unmap().IsLoopback() {
			return nil, fmt.Errorf("target %q: %s is %w", raw, host, ErrNotLoopback)
		}
		return u, nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(lctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("target %q: resolve %s: %w", raw, host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("target %q: %s has no address", raw, host)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return nil, fmt.Errorf("target %q: %s resolves to %s, which is %w", raw, host, a, ErrNotLoopback)
		}
	}
	return u, nil
}

// loopbackOnly is a net.Dialer Control function refusing to connect to any
// address outside the loopback range: the last word, whatever a resolver
// or proxy setting says.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("dial %s: %w", address, ErrNotLoopback)
	}
	return nil
}

// NewClient returns an HTTP client tuned for driving one host over
// loopback with conns concurrent workers: keep-alive with conns idle
// connections kept per host, no compression, HTTP/1.1, no proxy from the
// environment, no redirects followed, each request bounded by timeout.
// Unless allowRemote, it refuses at dial time every non-loopback address.
func NewClient(conns int, timeout time.Duration, allowRemote bool) *http.Client {
	conns = max(conns, 1)
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           NewDialer(allowRemote),
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
