package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// Dialer opens a connection to addr; (*net.Dialer).DialContext is one.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// NewDialer returns the dialer NewClient uses: 5 s to connect, TCP
// keep-alive, and, unless allowRemote, a refusal at dial time of every
// address outside the loopback range.
func NewDialer(allowRemote bool) Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowRemote {
		d.Control = loopbackOnly
	}
	return d.DialContext
}

// maxBody bounds how much of an answer's body a worker keeps.
const maxBody = 1 << 20

// directConn is one worker's HTTP/1.1 keep-alive connection, spoken by
// hand: each request is built in a reused buffer and written with one
// call, and the answer is parsed by http.ReadResponse from the
// connection's own reader. net/http's Transport hands every request to a
// writer and a reader goroutine per connection and parses its URL; on a
// machine whose CPUs the load tool shares with the server it measures,
// that costs the server a good part of the CPU it could have had
// (docs/benchmarks.md). Not for TLS: an https target goes through the
// Transport.
type directConn struct {
	dial    Dialer
	addr    string // host:port to dial
	host    string // the Host header
	timeout time.Duration

	conn net.Conn
	br   *bufio.Reader
	req  []byte
}

func newDirectConn(dial Dialer, addr, host string, timeout time.Duration) *directConn {
	return &directConn{dial: dial, addr: addr, host: host, timeout: timeout}
}

// answer is what a worker keeps of a response.
type answer struct {
	status     int
	retryAfter string
}

// roundTrip sends one request and reads the whole answer, its body
// appended to body. A request that finds its kept-alive connection closed
// by the server before any answer (the server's idle timeout) is sent once
// more on a new connection, as net/http's Transport does.
func (d *directConn) roundTrip(ctx context.Context, method, path, contentType string, reqBody []byte, bearer string, body *bytes.Buffer) (answer, error) {
	for attempt := 0; ; attempt++ {
		reused := d.conn != nil
		if !reused {
			conn, err := d.dial(ctx, "tcp", d.addr)
			if err != nil {
				return answer{}, err
			}
			d.conn = conn
			if d.br == nil {
				d.br = bufio.NewReaderSize(conn, 4<<10)
			} else {
				d.br.Reset(conn)
			}
		}
		a, err := d.exchange(ctx, method, path, contentType, reqBody, bearer, body)
		if err == nil {
			return a, nil
		}
		d.Close()
		if !reused || attempt > 0 || ctx.Err() != nil || !closedBeforeAnswer(err) {
			return answer{}, err
		}
	}
}

// closedBeforeAnswer reports whether err says the server had closed the
// connection before answering: nothing read, or the write refused.
func closedBeforeAnswer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// exchange writes one request on the open connection and reads its answer.
func (d *directConn) exchange(ctx context.Context, method, path, contentType string, reqBody []byte, bearer string, body *bytes.Buffer) (answer, error) {
	if err := d.conn.SetDeadline(time.Now().Add(d.timeout)); err != nil {
		return answer{}, err
	}
	if ctx.Done() != nil {
		conn := d.conn
		stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	b := append(d.req[:0], method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, d.host...)
	b = append(b, "\r\nUser-Agent: authbench\r\n"...)
	if bearer != "" {
		b = append(b, "Authorization: Bearer "...)
		b = append(b, bearer...)
		b = append(b, "\r\n"...)
	}
	if contentType != "" {
		b = append(b, "Content-Type: "...)
		b = append(b, contentType...)
		b = append(b, "\r\n"...)
	}
	if reqBody != nil || method == http.MethodPost {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(reqBody)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, reqBody...)
	d.req = b
	if _, err := d.conn.Write(b); err != nil {
		return answer{}, err
	}
	// Wait for the first byte apart: ReadResponse reports a connection
	// closed before any answer as io.ErrUnexpectedEOF, which would hide
	// the io.EOF that makes the request safe to send again.
	if _, err := d.br.Peek(1); err != nil {
		return answer{}, err
	}
	resp, err := http.ReadResponse(d.br, nil)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	n, err := body.ReadFrom(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("read body: %w", err)
	}
	if n == maxBody || resp.Close {
		// The rest of an oversized body would be read as the next answer.
		d.Close()
	}
	return a, nil
}

// Close closes the connection, if open; the next request dials again.
func (d *directConn) Close() {
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
}
