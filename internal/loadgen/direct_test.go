package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// directTo returns a directConn to srv, refusing non-loopback addresses
// like authbench's, and counts its dials.
func directTo(t *testing.T, srv *httptest.Server) (*directConn, *atomic.Int32) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int32
	dial := NewDialer(false)
	d := newDirectConn(func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}, u.Host, u.Host, 5*time.Second)
	t.Cleanup(d.Close)
	return d, &dials
}

// TestDirectConnRequests: what the worker writes is a well-formed request
// (method, path, Host, bearer, content type, body), and answers framed by
// Content-Length or chunked, with or without Connection: close, are read
// whole; a connection is reused unless the server closes it.
func TestDirectConnRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := strings.Join([]string{r.Method, r.URL.Path, r.Host, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(body)}, "|")
		switch r.URL.Path {
		case "/chunked":
			w.(http.Flusher).Flush() // headers out before the body: chunked
			io.WriteString(w, got)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, got)
		case "/busy":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			io.WriteString(w, got)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	d, dials := directTo(t, srv)
	ctx := t.Context()

	for _, tc := range []struct {
		name              string
		method, path      string
		ctype, body, auth string
		wantStatus        int
		wantRetryAfter    string
		wantBody          string
		wantDials         int32 // in all, after this request
	}{
		{"GET with a bearer", "GET", "/v1/verify", "", "", "tok", 200, "", "GET|/v1/verify|" + host + "|Bearer tok||", 1},
		{"POST with a body, same connection", "POST", "/v1/token", "application/x-www-form-urlencoded", "a=b", "", 200, "", "POST|/v1/token|" + host + "||application/x-www-form-urlencoded|a=b", 1},
		{"POST without a body", "POST", "/v1/logout", "", "", "tok", 200, "", "POST|/v1/logout|" + host + "|Bearer tok||", 1},
		{"chunked answer", "GET", "/chunked", "", "", "", 200, "", "GET|/chunked|" + host + "|||", 1},
		{"503 with Retry-After", "GET", "/busy", "", "", "", 503, "3", "", 1},
		{"Connection: close", "GET", "/close", "", "", "", 200, "", "GET|/close|" + host + "|||", 1},
		{"after a close, a new connection", "GET", "/again", "", "", "", 200, "", "GET|/again|" + host + "|||", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reqBody []byte
			if tc.body != "" {
				reqBody = []byte(tc.body)
			}
			var body bytes.Buffer
			a, err := d.roundTrip(ctx, tc.method, tc.path, tc.ctype, reqBody, tc.auth, &body)
			if err != nil {
				t.Fatal(err)
			}
			if a.status != tc.wantStatus || a.retryAfter != tc.wantRetryAfter || body.String() != tc.wantBody {
				t.Errorf("got %d, Retry-After %q, body %q; want %d, %q, %q", a.status, a.retryAfter, body.String(), tc.wantStatus, tc.wantRetryAfter, tc.wantBody)
			}
			if got := dials.Load(); got != tc.wantDials {
				t.Errorf("%d dials so far, want %d", got, tc.wantDials)
			}
		})
	}
}

// TestDirectConnServerClosedIdle: when the server has closed the kept-alive
// connection (its idle timeout), the request is sent again on a new one,
// once; a server that closes every connection unanswered is an error.
func TestDirectConnServerClosedIdle(t *testing.T) {
	closed := make(chan struct{}, 8)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()
	d, dials := directTo(t, srv)
	ctx := t.Context()
	var body bytes.Buffer
	if _, err := d.roundTrip(ctx, "GET", "/", "", nil, "", &body); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not close the idle connection")
	}
	body.Reset()
	a, err := d.roundTrip(ctx, "GET", "/", "", nil, "", &body)
	if err != nil || a.status != 200 || body.String() != "ok" {
		t.Fatalf("after the idle close: %+v %q %v; want 200 ok", a, body.String(), err)
	}
	if got := dials.Load(); got != 2 {
		t.Errorf("%d dials, want 2", got)
	}

	// A listener that accepts and closes: the fresh connection's EOF is
	// not retried.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	rude := newDirectConn(NewDialer(false), ln.Addr().String(), ln.Addr().String(), 5*time.Second)
	defer rude.Close()
	if _, err := rude.roundTrip(ctx, "GET", "/", "", nil, "", &body); err == nil {
		t.Fatal("no error from a server that closes every connection")
	}
}

// TestDirectConnRefusesRemote: the dialer refuses an address outside the
// loopback range, at dial time.
func TestDirectConnRefusesRemote(t *testing.T) {
	d := newDirectConn(NewDialer(false), "192.0.2.1:80", "192.0.2.1", time.Second)
	var body bytes.Buffer
	if _, err := d.roundTrip(t.Context(), "GET", "/", "", nil, "", &body); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("err = %v, want ErrNotLoopback", err)
	}
}

// TestDirectConnCancel: cancelling the context ends a request the server
// is sitting on, long before the request timeout.
func TestDirectConnCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	d, _ := directTo(t, srv)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	var body bytes.Buffer
	start := time.Now()
	if _, err := d.roundTrip(ctx, "GET", "/", "", nil, "", &body); err == nil {
		t.Fatal("a cancelled request returned no error")
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("took %s to give up (request timeout 5s)", took)
	}
}
