package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/bundle"
	"github.com/pintu/pintu/controller/password"
)

// Sim is the simulated hardware: it feeds the controller the inputs that real
// readers, door contacts and exit buttons would. pintud passes one only when
// it runs with -sim.
type Sim interface {
	Tap(ctx context.Context, door, reader, card string) (controller.Result, error)
	Door(ctx context.Context, door string, open bool) error
	REX(ctx context.Context, door string) error
	Tamper(ctx context.Context, door string, open bool) error
}

// Options configure a Server. Zero means default.
type Options struct {
	// Sim serves the /v1/sim routes; nil answers them with 404.
	Sim Sim
	// Location is the site's time zone, used for the CSV export and named in
	// the Pintu-Time-Zone header. Default time.Local.
	Location *time.Location
	// Logger receives a line per failed request. Default: discard.
	Logger *slog.Logger
	// MaxBody is the largest request body accepted, in bytes. Default 64 KiB.
	MaxBody int64
	// Log is the audit log read by events, export and verify. Default
	// ctrl.Log(); tests set it to read a log they have tampered with.
	Log controller.EventLog
	// SiteKey signs export bundles; its public half is served at
	// /v1/site/key. Nil answers those routes with 503.
	SiteKey *bundle.Key
	// SimIdentity is pintud -sim: the "by" of a request is taken as given,
	// and every event it causes is marked unauthenticated. Otherwise the
	// socket's peer credentials decide who acts (see Server.actor).
	SimIdentity bool
	// LookupUser names a uid for peer credentials; default LookupUser.
	LookupUser func(uid uint32) (string, error)
	// Hasher hashes passwords set through the API; nil refuses them.
	Hasher *password.Hasher
	// ShutdownTimeout is how long Serve waits for requests in flight to
	// finish after its context is cancelled before it cancels them. Default
	// 10s.
	ShutdownTimeout time.Duration
	// Backup copies the state file for GET /v1/backup. Nil answers it with
	// 503.
	Backup Backuper
	// ReadHeaderTimeout bounds the wait for a request's headers, counted
	// from the connection or from the first byte of a request that follows
	// another; BodyTimeout the wait for its body after them. A client that
	// is slower is disconnected (with 408 for the body). IdleTimeout closes
	// a connection that waits that long for its next request. Defaults
	// DefaultReadHeaderTimeout, DefaultBodyTimeout, DefaultIdleTimeout.
	ReadHeaderTimeout, BodyTimeout, IdleTimeout time.Duration
	// MaxConns is the most connections served at once; default
	// DefaultMaxConns. Beyond it the longest idle connection is closed, or
	// the new one waits until the timeouts end one.
	MaxConns int
	// MQTT reports the MQTT link's state, which GET /v1/status shows under
	// "mqtt"; nil when pintud has no broker.
	MQTT func() any
}

// DefaultMaxBody is the default limit on request bodies.
const DefaultMaxBody = 64 << 10

// Server answers the local API for one controller.
type Server struct {
	ctrl    *controller.Controller
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	evlog   controller.EventLog
	maxBody int64
}

// New returns a Server for ctrl.
func New(ctrl *controller.Controller, opts Options) *Server {
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.LookupUser == nil {
		opts.LookupUser = LookupUser
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&opts.ReadHeaderTimeout, DefaultReadHeaderTimeout}, {&opts.BodyTimeout, DefaultBodyTimeout}, {&opts.IdleTimeout, DefaultIdleTimeout}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	s := &Server{ctrl: ctrl, opts: opts, log: opts.Logger, maxBody: opts.MaxBody, evlog: opts.Log}
	if s.evlog == nil {
		s.evlog = ctrl.Log()
	}
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// Handler returns the API's HTTP handler, for serving it over another
// listener or calling it directly in tests.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve answers requests on ln until ctx is cancelled, then stops accepting,
// waits for the requests in flight (cancelling them after the shutdown
// timeout), closes ln and returns nil. It returns an error only if ln fails.
// It serves at most Options.MaxConns connections at once, and disconnects
// clients slower than its timeouts.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	lim := newLimitListener(ln, s.opts.MaxConns, s.log)
	// Requests get a context of their own so that cancelling ctx stops new
	// work without cutting short the requests already running.
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()
	var inflight sync.WaitGroup
	h := s.Handler()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Done()
			if s.readBody(w, r) {
				h.ServeHTTP(w, r)
			}
		}),
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		ConnState:         lim.connState,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ConnContext:       connContext,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lim) }()

	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("api: requests still running at shutdown; cancelling them", "err", err)
		cancelReqs()
		srv.Close()
	}
	inflight.Wait()
	<-errc // http.ErrServerClosed
	return nil
}

// Listen creates the API socket at path with mode 0660, for Serve. A socket
// file left behind by a pintud that died is removed; one that a live pintud
// answers on is an error, and so is a file at path that is not a socket.
// Closing the listener removes the socket file.
func (s *Server) Listen(path string) (net.Listener, error) {
	fi, err := os.Lstat(path)
	switch {
	case err == nil:
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("api: listen %s: file exists and is not a socket", path)
		}
		conn, derr := net.DialTimeout("unix", path, time.Second)
		if derr == nil {
			conn.Close()
			return nil, fmt.Errorf("api: listen %s: another pintud is answering on this socket", path)
		}
		if !errors.Is(derr, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("api: listen %s: probe existing socket: %w", path, derr)
		}
		// Nobody listens: a stale socket from a pintud that did not stop
		// cleanly.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("api: listen %s: remove stale socket: %w", path, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("api: listen %s: %w", path, err)
	}

	// Bind under a temporary name, set the mode, then hard-link into place:
	// the socket is never reachable with the umask's mode, and link fails
	// rather than replace a socket another pintud created meanwhile.
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".pintu-%d-%d", os.Getpid(), tmpSeq.Add(1)))
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("api: listen %s: %w", path, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	defer os.Remove(tmp)
	if err := os.Chmod(tmp, 0o660); err != nil {
		ul.Close()
		return nil, fmt.Errorf("api: listen %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		ul.Close()
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("api: listen %s: another process created the socket meanwhile", path)
		}
		return nil, fmt.Errorf("api: listen %s: %w", path, err)
	}
	fi, err = os.Lstat(path)
	if err != nil {
		ul.Close()
		return nil, fmt.Errorf("api: listen %s: %w", path, err)
	}
	return &socketListener{UnixListener: ul, path: path, fi: fi}, nil
}

var tmpSeq atomic.Uint64

// socketListener removes its socket file on Close, unless another process
// has replaced it.
type socketListener struct {
	*net.UnixListener
	path string
	fi   fs.FileInfo
	once sync.Once
}

func (l *socketListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.fi) {
			os.Remove(l.path)
		}
	})
	return err
}
