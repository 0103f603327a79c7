package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults of the limits on clients (Options).
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultBodyTimeout       = 10 * time.Second
	DefaultIdleTimeout       = time.Minute
	DefaultMaxConns          = 32
)

// readBody reads r's whole body, at most maxBody+1 bytes of it, within the
// body timeout, so that no handler ever waits on a slow client, and gives
// the handler the bytes. It answers 408 and closes the connection when the
// body does not arrive in time; false means it answered.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	// A staff list is the one large body: its own limit and time.
	limit, timeout := s.maxBody, s.opts.BodyTimeout
	if r.Method == http.MethodPost && r.URL.Path == importPath {
		limit, timeout = MaxImport, max(timeout, ImportBodyTimeout)
	}
	rc := http.NewResponseController(w)
	// Not supported only on writers that are not a connection (tests
	// calling Handler directly); there is no client to wait for then.
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		w.Header().Set("Connection", "close")
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			s.writeError(w, r, &httpError{status: http.StatusRequestTimeout,
				msg: fmt.Sprintf("request body not received within %v", timeout)})
		} else {
			s.writeError(w, r, badRequest("read request body: %v", err))
		}
		return false
	}
	if int64(len(b)) > limit {
		// The handler refuses it as too large; the rest is not read, and
		// the deadline stays for the server's own attempt to drain it.
		w.Header().Set("Connection", "close")
	} else {
		// The next read is the server watching for the client to go away
		// or send its next request: no deadline on that.
		_ = rc.SetReadDeadline(time.Time{})
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return true
}

// limitListener hands the server at most max connections at a time. A
// connection that arrives when it is full takes the place of the one that
// has been idle longest, or of the next one to go idle, or waits until one
// ends, which the server's timeouts bound; the ones after it wait in the
// kernel's backlog.
type limitListener struct {
	net.Listener
	log      *slog.Logger
	sem      chan struct{}
	done     chan struct{} // closed by Close
	once     sync.Once
	wentIdle chan struct{} // a connection went idle; buffered 1

	mu     sync.Mutex
	idle   map[*limitConn]time.Time // connections between requests, since when
	warned time.Time                // the last "cap reached" line
}

func newLimitListener(ln net.Listener, max int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, log: log, sem: make(chan struct{}, max), done: make(chan struct{}),
		wentIdle: make(chan struct{}, 1), idle: map[*limitConn]time.Time{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for first := true; ; first = false {
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, l: l}, nil
		default:
		}
		l.makeRoom(first)
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, l: l}, nil
		case <-l.wentIdle:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

// makeRoom closes the connection idle longest, if there is one. It logs at
// most once a minute that the cap was reached.
func (l *limitListener) makeRoom(first bool) {
	l.mu.Lock()
	var oldest *limitConn
	for c, since := range l.idle {
		if oldest == nil || since.Before(l.idle[oldest]) {
			oldest = c
		}
	}
	delete(l.idle, oldest)
	now := time.Now()
	warn := first && now.Sub(l.warned) >= time.Minute
	if warn {
		l.warned = now
	}
	l.mu.Unlock()
	if warn {
		l.log.Warn("api: connection cap reached", "max", cap(l.sem), "closing_idle", oldest != nil)
	}
	if oldest != nil {
		oldest.Close()
	}
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// connState follows each connection, for makeRoom: http.Server calls it.
func (l *limitListener) connState(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == http.StateIdle {
		l.idle[lc] = time.Now()
		select {
		case l.wentIdle <- struct{}{}:
		default:
		}
	} else {
		delete(l.idle, lc)
	}
}

// limitConn gives its place back when it is closed.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

// NetConn is the connection underneath, as crypto/tls names it: the peer's
// credentials are read from it.
func (c *limitConn) NetConn() net.Conn { return c.Conn }

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.idle, c)
		c.l.mu.Unlock()
		<-c.l.sem
	})
	return err
}
