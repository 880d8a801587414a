package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// fakeResolver answers from a table and counts look-ups.
type fakeResolver struct {
	addrs map[string][]string
	calls int
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.calls++
	s, ok := f.addrs[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestValidateTarget(t *testing.T) {
	tests := []struct {
		name        string
		raw         string
		allowRemote bool
		want        string // the returned URL; "" when refused
		notLoopback bool   // refused with ErrNotLoopback
	}{
		{name: "IPv4 loopback", raw: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{name: "anywhere in 127/8", raw: "http://127.1.2.3:8080", want: "http://127.1.2.3:8080"},
		{name: "IPv6 loopback", raw: "http://[::1]:8080", want: "http://[::1]:8080"},
		{name: "IPv4-mapped loopback", raw: "http://[::ffff:127.0.0.1]:80", want: "http://[::ffff:127.0.0.1]:80"},
		{name: "trailing slash trimmed", raw: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080"},
		{name: "path prefix kept", raw: "https://127.0.0.1/auth/", want: "https://127.0.0.1/auth"},
		{name: "localhost resolving to loopback", raw: "http://localhost:8080", want: "http://localhost:8080"},
		{name: "private address", raw: "http://10.0.0.1:8080", notLoopback: true},
		{name: "another private address", raw: "http://192.168.1.10", notLoopback: true},
		{name: "unspecified address", raw: "http://0.0.0.0:8080", notLoopback: true},
		{name: "IPv6 non-loopback", raw: "http://[2001:db8::1]:8080", notLoopback: true},
		{name: "name resolving elsewhere", raw: "http://example.test:8080", notLoopback: true},
		{name: "name resolving partly elsewhere", raw: "http://mixed.test:8080", notLoopback: true},
		{name: "unknown name", raw: "http://nowhere.test"},
		{name: "remote named explicitly", raw: "http://10.0.0.1:8080", allowRemote: true, want: "http://10.0.0.1:8080"},
		{name: "remote name named explicitly", raw: "http://example.test", allowRemote: true, want: "http://example.test"},
		{name: "other scheme", raw: "ftp://127.0.0.1"},
		{name: "no scheme", raw: "127.0.0.1:8080"},
		{name: "no host", raw: "http:///v1"},
		{name: "query", raw: "http://127.0.0.1:8080/?a=b"},
		{name: "fragment", raw: "http://127.0.0.1:8080/#x"},
		{name: "credentials", raw: "http://u:p@127.0.0.1:8080"},
		{name: "bad port", raw: "http://127.0.0.1:99999"},
		{name: "garbage", raw: "http://[::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeResolver{addrs: map[string][]string{
				"localhost":    {"127.0.0.1", "::1"},
				"example.test": {"192.0.2.10"},
				"mixed.test":   {"127.0.0.1", "192.0.2.10"},
			}}
			u, err := ValidateTarget(context.Background(), tt.raw, tt.allowRemote, r)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("accepted %q as %s", tt.raw, u)
				}
				if got := errors.Is(err, ErrNotLoopback); got != tt.notLoopback {
					t.Fatalf("errors.Is(%v, ErrNotLoopback) = %v, want %v", err, got, tt.notLoopback)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused %q: %v", tt.raw, err)
			}
			if u.String() != tt.want {
				t.Fatalf("got %s, want %s", u, tt.want)
			}
			if tt.allowRemote && r.calls != 0 {
				t.Fatalf("resolved a name with -allow-remote (%d look-ups)", r.calls)
			}
		})
	}
}

// TestLoopbackOnly checks the dial-time guard on the addresses the dialer
// hands it (no connection is attempted here).
func TestLoopbackOnly(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.9.9.9:1", true},
		{"[::1]:8080", true},
		{"[::ffff:127.0.0.1]:80", true},
		{"10.0.0.1:8080", false},
		{"192.0.2.1:80", false},
		{"[2001:db8::1]:443", false},
		{"0.0.0.0:80", false},
		{"not-an-address", false},
	} {
		err := loopbackOnly("tcp", tt.addr, nil)
		if (err == nil) != tt.ok {
			t.Errorf("loopbackOnly(%s) = %v, want ok=%v", tt.addr, err, tt.ok)
		}
	}
}

func TestNewClientReachesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	c := NewClient(4, 5*time.Second, false)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d: redirects must not be followed", resp.StatusCode)
	}
	if tr := c.Transport.(*http.Transport); tr.MaxIdleConnsPerHost != 4 || tr.Proxy != nil {
		t.Fatalf("transport: MaxIdleConnsPerHost %d, proxy set %v", tr.MaxIdleConnsPerHost, tr.Proxy != nil)
	}
}
