package testenv

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of a server that a test can cut and
// restore, to take a dependency away from the code under test and give it
// back without touching the shared server itself.
type Proxy struct {
	// Addr is the proxy's host:port.
	Addr   string
	target string
	ln     net.Listener

	mu    sync.Mutex
	cut   bool
	hold  bool // Blackhole: accept, never forward
	conns map[net.Conn]struct{}
}

// NewProxy forwards a loopback port to target (host:port) until the test
// ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
	})
	return p
}

// ProxyDSN returns dsn (a URL such as a Postgres DSN) with its host
// replaced by a new Proxy's address, and the proxy.
func ProxyDSN(t testing.TB, dsn string) (string, *Proxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %q: %v", dsn, err)
	}
	p := NewProxy(t, u.Host)
	u.Host = p.Addr
	return u.String(), p
}

// Cut closes every proxied connection and, until Restore, closes each new
// one as soon as it is accepted: the client sees the server go away.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Blackhole closes every proxied connection and, until Restore, accepts
// new ones but never forwards a byte either way: the client sees a server
// that does not answer (a partition), not one that went away.
func (p *Proxy) Blackhole() {
	p.Cut()
	p.mu.Lock()
	p.cut, p.hold = false, true
	p.mu.Unlock()
}

// Restore forwards new connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut, p.hold = false, false
	p.mu.Unlock()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	if !p.track(c) {
		return
	}
	p.mu.Lock()
	hold, target := p.hold, p.target
	p.mu.Unlock()
	if hold {
		// Read and drop until the client or Cut closes it.
		_, _ = io.Copy(io.Discard, c)
		p.drop(c)
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		p.drop(c)
		return
	}
	if !p.track(up) {
		p.drop(c)
		return
	}
	go func() { _, _ = io.Copy(up, c); p.drop(up) }()
	_, _ = io.Copy(c, up)
	p.drop(c)
}

// Retarget sends the connections accepted from now on to target; those
// already open stay where they are, as a client's connections to an old
// primary do after a failover.
func (p *Proxy) Retarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
}

// track registers c, or closes it when the proxy is cut.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}
