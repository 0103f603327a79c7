package api_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller/api"
)

// Short limits, so that the tests wait well under a second for each.
const (
	headerTimeout = 300 * time.Millisecond
	bodyTimeout   = 400 * time.Millisecond
	idleTimeout   = 500 * time.Millisecond
	margin        = 3 * time.Second // for a loaded machine
)

func shortLimits(maxConns int) func(*env, *api.Options) {
	return func(_ *env, o *api.Options) {
		o.ReadHeaderTimeout, o.BodyTimeout, o.IdleTimeout, o.MaxConns = headerTimeout, bodyTimeout, idleTimeout, maxConns
	}
}

func (e *env) dial() net.Conn {
	e.t.Helper()
	c, err := net.Dial("unix", e.sock)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads c until the server closes it, and returns what it
// said and how long it took from start. It fails the test after limit.
func closedWithin(t *testing.T, c net.Conn, start time.Time, limit time.Duration) (string, time.Duration) {
	t.Helper()
	c.SetReadDeadline(start.Add(limit))
	b, err := io.ReadAll(c)
	took := time.Since(start)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v", took.Round(time.Millisecond))
	}
	return string(b), took
}

// TestSlowBody: a client that sends its headers and not the body promised
// is answered 408 and disconnected after the body timeout, and one that
// drips the body byte by byte too; neither reaches a handler.
func TestSlowBody(t *testing.T) {
	const body = `{"id":"slow","name":"Slow Loris","roles":["officer"]}`
	tests := []struct {
		name string
		send func(c net.Conn) // after the headers
	}{
		{"no body", func(net.Conn) {}},
		{"drip", func(c net.Conn) {
			for i := range len(body) - 1 { // bounded: never the last byte
				if _, err := c.Write([]byte{body[i]}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, shortLimits(4))
			c := e.dial()
			start := time.Now()
			if _, err := io.WriteString(c, "POST /v1/people HTTP/1.1\r\nHost: pintud\r\nContent-Type: application/json\r\n"+
				"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			go tt.send(c)
			got, took := closedWithin(t, c, start, bodyTimeout+margin)
			if took < bodyTimeout*9/10 {
				t.Errorf("closed after %v, before the body timeout %v", took, bodyTimeout)
			}
			if !strings.HasPrefix(got, "HTTP/1.1 408 ") || !strings.Contains(got, "request body not received within 400ms") {
				t.Errorf("answer = %q, want 408 naming the timeout", got)
			}
			if r := e.do("GET", "/v1/people", ""); strings.Contains(string(r.body), "slow") {
				t.Errorf("the slow client's person was added: %s", r.body)
			}
		})
	}
}

// TestSlowHeaders: a client that connects and sends nothing, or drips its
// headers (slowloris), is disconnected after the header timeout.
func TestSlowHeaders(t *testing.T) {
	tests := []struct {
		name string
		send func(c net.Conn)
	}{
		{"silent", func(net.Conn) {}},
		{"slowloris", func(c net.Conn) {
			for i := range 100 { // bounded: 5s of drip at most
				line := "GET /v1/status HTTP/1.1\r\n"
				if i > 0 {
					line = "X-Drip: " + strconv.Itoa(i) + "\r\n"
				}
				for _, b := range []byte(line) {
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, shortLimits(4))
			c := e.dial()
			start := time.Now()
			go tt.send(c)
			got, took := closedWithin(t, c, start, headerTimeout+margin)
			if took < headerTimeout*9/10 {
				t.Errorf("closed after %v, before the header timeout %v", took, headerTimeout)
			}
			if strings.HasPrefix(got, "HTTP/1.1 200") {
				t.Errorf("answer = %q, want none", got)
			}
		})
	}
}

// TestConnectionCap: with every place taken by clients that send nothing,
// a new client waits, but only until the header timeout frees a place; with
// every place taken by idle keep-alive connections, it is served at once
// and one idle connection (the one idle longest) is closed.
func TestConnectionCap(t *testing.T) {
	const max = 4
	t.Run("silent clients", func(t *testing.T) {
		e := newEnv(t, shortLimits(max))
		start := time.Now()
		for range max + 2 { // more than the cap: the extra wait in the backlog
			e.dial()
		}
		r := e.do("GET", "/v1/status", "")
		took := time.Since(start)
		if r.status != http.StatusOK {
			t.Fatalf("status = %d %s", r.status, r.body)
		}
		// Held back by the cap until the silent ones were cut off, and no
		// longer.
		if took < headerTimeout*9/10 || took > headerTimeout+margin {
			t.Errorf("served after %v, want after the header timeout (%v) freed a place, and soon after", took, headerTimeout)
		}
	})
	t.Run("idle clients", func(t *testing.T) {
		e := newEnv(t, func(e *env, o *api.Options) {
			shortLimits(max)(e, o)
			o.IdleTimeout = time.Hour // so only the cap closes them
		})
		var idle []*bufio.Reader
		var conns []net.Conn
		for range max {
			c := e.dial()
			if _, err := io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: pintud\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("idle client's request: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			idle, conns = append(idle, br), append(conns, c)
		}
		start := time.Now()
		r := e.do("GET", "/v1/status", "")
		if took := time.Since(start); r.status != http.StatusOK || took > margin {
			t.Errorf("served %d after %v, want 200 at once", r.status, took)
		}
		// The room was made before the new client was served: an idle
		// connection is closed already, and only one.
		closed := 0
		for i, c := range conns {
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := idle[i].ReadByte(); errors.Is(err, io.EOF) {
				closed++
			}
		}
		if closed != 1 {
			t.Errorf("%d idle connections closed, want the one that made room", closed)
		}
	})
}

// TestIdleTimeout: a keep-alive connection with no next request is closed.
func TestIdleTimeout(t *testing.T) {
	e := newEnv(t, shortLimits(4))
	c := e.dial()
	start := time.Now()
	if _, err := io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: pintud\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got, took := closedWithin(t, c, start, idleTimeout+margin)
	if !strings.HasPrefix(got, "HTTP/1.1 200") || took < idleTimeout*9/10 {
		t.Errorf("got %.20q, closed after %v; want 200, then closed after the idle timeout %v", got, took, idleTimeout)
	}
}
