package console

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/password"
)

// Defaults of Options.
const (
	DefaultIdleTimeout     = 15 * time.Minute
	DefaultAbsoluteTimeout = 8 * time.Hour
	DefaultMaxBody         = 64 << 10
	DefaultMaxLive         = 32
)

// Options configure a Server. Zero means default.
type Options struct {
	// Store keeps sessions and preferences and reads credentials.
	// Required.
	Store controller.ConsoleStore
	// Hasher verifies and hashes passwords. Required.
	Hasher *password.Hasher
	// Papers is the local API's handler: the downloads (dossier, SOP
	// report, CSV, bundle) are its routes, served to the signed-in staff
	// whose roles allow them. Nil offers no downloads.
	Papers http.Handler
	// Log is the audit log the events page reads. Default ctrl.Log().
	Log controller.EventLog
	// Location is the site's time zone. Default time.Local.
	Location *time.Location
	// Logger receives a line per failure nobody else sees. Default discard.
	Logger *slog.Logger
	// Now reads the clock for sessions. Default time.Now.
	Now func() time.Time
	// IdleTimeout ends a session this long after its last request;
	// AbsoluteTimeout this long after sign-in. Defaults 15 min and 8 h.
	IdleTimeout, AbsoluteTimeout time.Duration
	// PlainHTTP is for a console behind a reverse proxy that terminates
	// TLS: the cookie is sent without Secure, and X-Forwarded-For is
	// recorded beside the proxy's address. Never for a console reached
	// directly.
	PlainHTTP bool
	// MaxBody is the largest request body, in bytes. Default 64 KiB.
	MaxBody int64
	// MaxLive is how many live "today" screens may be open at once.
	// Default 32.
	MaxLive int
}

// Server is the web console of one controller.
type Server struct {
	ctrl    *controller.Controller
	opts    Options
	log     *slog.Logger
	evlog   controller.EventLog
	handler http.Handler
	static  *assets
	hub     *hub
	limit   *limiter
}

// New returns the console of ctrl.
func New(ctrl *controller.Controller, opts Options) (*Server, error) {
	if opts.Store == nil || opts.Hasher == nil {
		return nil, errors.New("console: Options.Store and Options.Hasher are required")
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.AbsoluteTimeout <= 0 {
		opts.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxLive <= 0 {
		opts.MaxLive = DefaultMaxLive
	}
	s := &Server{ctrl: ctrl, opts: opts, log: opts.Logger, evlog: opts.Log, static: newAssets(), limit: newLimiter(opts.Now)}
	if s.evlog == nil {
		s.evlog = ctrl.Log()
	}
	s.hub = newHub(ctrl, opts.MaxLive, opts.Logger)
	s.handler = s.routes()
	return s, nil
}

// Handler is the console's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Run keeps the live screens fed from the controller's commits and sweeps
// expired sessions, until ctx is done; it returns nil then.
func (s *Server) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.hub.run(ctx)
	}()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case <-tick.C:
			now := s.opts.Now()
			if n, err := s.opts.Store.ExpireSessions(now.Add(-s.opts.IdleTimeout), now.Add(-s.opts.AbsoluteTimeout)); err != nil {
				s.log.Warn("console: expire sessions", "err", err)
			} else if n > 0 {
				s.log.Debug("console: sessions expired", "n", n)
			}
		}
	}
}

// Serve answers on ln (with TLS when tlsCfg is not nil) until ctx is
// cancelled, then stops: open live screens end, requests in flight get a
// few seconds. It returns nil then, or the listener's error.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsCfg *tls.Config) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		TLSConfig:         tlsCfg,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("console: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// routes builds the handler: security headers, a body limit, Go's
// cross-origin protection on every unsafe method, then the pages.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/{ver}/{name}", s.static)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/today", http.StatusSeeOther) })
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /lang", s.setLang)
	mux.Handle("POST /logout", s.page("", s.logout))
	mux.Handle("GET /today", s.page("today", s.today))
	mux.Handle("GET /today/live", s.page("today", s.live))
	mux.Handle("GET /alarms/{id}", s.page("today", s.alarmPage))
	mux.Handle("POST /alarms/{id}/ack", s.page("today", s.ackAlarm))
	mux.Handle("POST /doors/lockdown", s.page("today", s.lockdown(true)))
	mux.Handle("POST /doors/release", s.page("today", s.lockdown(false)))
	mux.Handle("GET /visits", s.page("visits", s.visits))
	mux.Handle("GET /visits/new", s.page("visits", s.newVisit))
	mux.Handle("POST /visits", s.page("visits", s.submitVisit))
	mux.Handle("GET /visits/{id}", s.page("visits", s.visit))
	mux.Handle("POST /visits/{id}/{action}", s.page("visits", s.stepVisit))
	mux.Handle("GET /people", s.page("people", s.people))
	mux.Handle("POST /people", s.page("people", s.addPerson))
	mux.Handle("POST /people/import", s.page("people", s.importPeople))
	mux.Handle("GET /people/{id}", s.page("people", s.person))
	mux.Handle("POST /people/{id}", s.page("people", s.updatePerson))
	mux.Handle("POST /people/{id}/disable", s.page("people", s.setDisabled(true)))
	mux.Handle("POST /people/{id}/enable", s.page("people", s.setDisabled(false)))
	mux.Handle("POST /cards/assign", s.page("people", s.assignCard))
	mux.Handle("POST /cards/revoke", s.page("people", s.revokeCard))
	mux.Handle("GET /events", s.page("events", s.events))
	mux.Handle("GET /exports", s.page("exports", s.exports))
	mux.Handle("GET /exports/{what}", s.page("exports", s.download))
	mux.Handle("GET /account", s.page("account", s.account))
	mux.Handle("POST /account/password", s.page("account", s.changePassword))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOrigin))
	// A staff list is the one large body.
	small, large := http.MaxBytesHandler(mux, s.opts.MaxBody), http.MaxBytesHandler(mux, MaxImportFile)
	limited := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/people/import" {
			large.ServeHTTP(w, r)
			return
		}
		small.ServeHTTP(w, r)
	})
	return s.headers(cop.Handler(limited))
}

// headers sets what every response carries: a strict Content-Security-
// Policy (scripts and styles from this server's files only, no inline
// code, no framing), and no caching of pages, which show who is inside.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if !s.opts.PlainHTTP {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin answers a request that another site's page made the browser
// send (a forged form post): refused, nothing changed.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("console: cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "from", r.RemoteAddr)
	q := s.anon(w, r)
	q.err = errCrossOrigin
	w.WriteHeader(http.StatusForbidden)
	s.render(q, messagePage(q))
}

// errCrossOrigin is a request refused as cross-origin.
var errCrossOrigin = errors.New("cross-origin request refused")
