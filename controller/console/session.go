package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/internal/catalog"
)

// Cookies. Over TLS the session cookie has the __Host- prefix: the browser
// keeps it only if it is Secure, for this host alone, for every path.
const (
	sessionCookie       = "__Host-pintu_session"
	plainSessionCookie  = "pintu_session"
	langCookie          = "pintu_lang"
	touchEvery          = time.Minute // a session's last-seen time is written at most this often
	sessionIDBytes      = 32          // 256 bits
	loginAttemptsPerMin = 10          // per client address, before sign-ins are turned away unchecked
)

func (s *Server) cookieName() string {
	if s.opts.PlainHTTP {
		return plainSessionCookie
	}
	return sessionCookie
}

// sessionKey is what the store keeps of a session id: its SHA-256.
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// Why a request has no session.
var (
	errNoSession = errors.New("not signed in")
	errExpired   = errors.New("session expired")
)

// session finds the request's session and its person, ending it if it is
// over: idle too long, signed in too long ago, begun before the password
// was last set, or its person disabled. A request a person made counts as
// activity (touch); the live screen's own checks do not, so a screen left
// open still ends after the idle timeout.
func (s *Server) session(r *http.Request) (controller.Session, controller.Person, error) {
	return s.sessionTouch(r, true)
}

func (s *Server) sessionTouch(r *http.Request, touch bool) (controller.Session, controller.Person, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return controller.Session{}, controller.Person{}, errNoSession
	}
	key := sessionKey(c.Value)
	ses, ok, err := s.opts.Store.Session(key)
	if err != nil {
		return controller.Session{}, controller.Person{}, err
	}
	if !ok {
		return controller.Session{}, controller.Person{}, errNoSession
	}
	now := s.opts.Now()
	end := func(why string) (controller.Session, controller.Person, error) {
		if err := s.opts.Store.DeleteSession(key); err != nil {
			s.log.Warn("console: delete session", "err", err)
		}
		if err := s.ctrl.Logout(r.Context(), ses.Person, why); err != nil && !errors.Is(err, controller.ErrNotFound) {
			s.log.Warn("console: record session end", "person", ses.Person, "err", err)
		}
		return controller.Session{}, controller.Person{}, errExpired
	}
	switch {
	case now.Sub(ses.Seen) > s.opts.IdleTimeout:
		return end(fmt.Sprintf("session expired: idle for %s", s.opts.IdleTimeout))
	case now.Sub(ses.Created) > s.opts.AbsoluteTimeout:
		return end(fmt.Sprintf("session expired: signed in %s ago", s.opts.AbsoluteTimeout))
	}
	acct, err := s.ctrl.Account(r.Context(), ses.Person)
	if err != nil {
		return controller.Session{}, controller.Person{}, err
	}
	if ses.Created.Before(acct.PasswordSetAt) {
		return end("session ended: the password was changed")
	}
	p, err := s.ctrl.Person(r.Context(), ses.Person)
	if err != nil || p.Disabled || p.IsVisitor() {
		return end("session ended: the person is disabled or no longer registered")
	}
	if touch && now.Sub(ses.Seen) >= touchEvery {
		ses.Seen = now
		if err := s.opts.Store.PutSession(ses); err != nil {
			s.log.Warn("console: touch session", "err", err)
		}
	}
	return ses, p, nil
}

// signedIn returns the request of a signed-in person, or sends the browser
// to sign in and reports false.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (*rq, bool) {
	ses, p, err := s.sessionTouch(r, r.URL.Path != "/today/live")
	if err != nil {
		if !errors.Is(err, errNoSession) && !errors.Is(err, errExpired) {
			s.log.Error("console: session", "err", err)
		}
		target := "/login"
		switch {
		case errors.Is(err, errExpired):
			target += "?expired=1"
		case r.Method == http.MethodGet && r.URL.Path != "/today/live":
			target += "?next=" + r.URL.EscapedPath()
		}
		if r.URL.Path == "/today/live" {
			// The live screen's EventSource cannot follow a redirect to a
			// page: tell it so, and the page shows the way to sign in.
			w.WriteHeader(http.StatusUnauthorized)
			return nil, false
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil, false
	}
	lang, err := s.opts.Store.Language(p.ID)
	if err != nil {
		s.log.Warn("console: read language", "err", err)
	}
	l, ok := catalog.Parse(lang)
	if !ok {
		l = catalog.ID
	}
	return &rq{s: s, w: w, r: r, p: p, ses: ses, t: catalog.New(l), now: s.opts.Now()}, true
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.session(r); err == nil {
		http.Redirect(w, r, "/today", http.StatusSeeOther)
		return
	}
	q := s.anon(w, r)
	if r.URL.Query().Get("expired") != "" {
		q.msg = q.T("Your session ended. Sign in again.")
	}
	s.render(q, loginPage(q, "", localPath(r.URL.Query().Get("next"))))
}

// login checks a password off the controller's goroutine, then has the
// controller record the attempt and decide: a wrong password counts
// towards a lockout; a locked account is not checked at all.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	q := s.anon(w, r)
	if err := q.form(); err != nil {
		q.err = err
		w.WriteHeader(statusOf(err))
		s.render(q, loginPage(q, "", ""))
		return
	}
	id, pw, next := q.field("id"), q.r.PostForm.Get("password"), localPath(q.field("next"))
	fail := func(err error) {
		q.err = err
		w.WriteHeader(http.StatusUnauthorized)
		s.render(q, loginPage(q, id, next))
	}
	from := s.clientAddr(r)
	if !s.limit.allow(from) {
		s.log.Warn("console: sign-ins from one address throttled", "from", from)
		fail(errThrottled)
		return
	}
	acct, err := s.ctrl.Account(r.Context(), id)
	if err != nil {
		fail(err)
		return
	}
	attempt := controller.LoginAttempt{Person: id, From: from}
	if !q.now.Before(acct.LockedUntil) {
		cred, ok, err := s.opts.Store.Credential(id)
		if err != nil {
			fail(err)
			return
		}
		attempt.NoPassword = !ok
		// With no credential, Verify checks against a dummy: an unknown id
		// takes as long as a known one.
		if attempt.OK, err = s.opts.Hasher.Verify(r.Context(), pw, cred.Hash); err != nil {
			s.log.Error("console: verify password", "person", id, "err", err)
			attempt.OK = false
		}
	}
	p, err := s.ctrl.Login(r.Context(), attempt)
	if err != nil {
		s.limit.failed(from)
		fail(err)
		return
	}
	// A new session id at every sign-in: an id planted before it (session
	// fixation) opens nothing.
	if c, err := r.Cookie(s.cookieName()); err == nil {
		s.opts.Store.DeleteSession(sessionKey(c.Value))
	}
	if err := s.startSession(w, p.ID); err != nil {
		fail(err)
		return
	}
	if lang, _ := s.opts.Store.Language(p.ID); lang == "" {
		s.opts.Store.SetLanguage(p.ID, string(q.t.Lang())) // the language chosen on the sign-in page
	}
	if next == "" {
		next = "/today"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// errThrottled is a sign-in turned away because its address failed too
// often this minute.
var errThrottled = errors.New("too many failed sign-ins from this address; wait a minute")

// startSession creates a session for person and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, person string) error {
	b := make([]byte, sessionIDBytes)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	now := s.opts.Now()
	if err := s.opts.Store.PutSession(controller.Session{Key: sessionKey(id), Person: person, Created: now, Seen: now}); err != nil {
		return fmt.Errorf("console: start session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: id, Path: "/", HttpOnly: true, Secure: !s.opts.PlainHTTP,
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.opts.AbsoluteTimeout / time.Second),
	})
	return nil
}

func (s *Server) logout(q *rq) error {
	if c, err := q.r.Cookie(s.cookieName()); err == nil {
		if err := s.opts.Store.DeleteSession(sessionKey(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(q.w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: !s.opts.PlainHTTP,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	if err := s.ctrl.Logout(q.r.Context(), q.p.ID, "signed out"); err != nil {
		s.log.Warn("console: record sign-out", "person", q.p.ID, "err", err)
	}
	http.Redirect(q.w, q.r, "/login", http.StatusSeeOther)
	return nil
}

// setLang changes the language: the signed-in person's, remembered, or on
// the sign-in page a cookie's.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	q := s.anon(w, r)
	if err := q.form(); err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	l, ok := catalog.Parse(q.field("lang"))
	if !ok {
		http.Error(w, "unknown language", http.StatusBadRequest)
		return
	}
	if _, p, err := s.session(r); err == nil {
		if err := s.opts.Store.SetLanguage(p.ID, string(l)); err != nil {
			s.log.Warn("console: set language", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", HttpOnly: true, Secure: !s.opts.PlainHTTP,
		SameSite: http.SameSiteStrictMode, MaxAge: 365 * 24 * 3600})
	back := localPath(q.field("back"))
	if back == "" {
		back = "/today"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// localPath returns p if it is a path on this server ("/visits/V0001"),
// else "": a redirect never leads to another site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return ""
	}
	return p
}

// clientAddr is the address a request came from, as the audit log records
// it; behind the configured proxy, the address it says it forwarded for.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if s.opts.PlainHTTP {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			fwd := strings.TrimSpace(parts[len(parts)-1])
			if net.ParseIP(fwd) != nil {
				return fwd + " via " + host
			}
		}
	}
	return host
}

// limiter counts failed sign-ins per client address per minute, so that
// one machine cannot fill the audit log with guesses at unknown ids (a
// known id locks after five).
type limiter struct {
	now func() time.Time
	mu  sync.Mutex
	min time.Time      // the minute counted
	n   map[string]int // failures this minute by address
}

func newLimiter(now func() time.Time) *limiter { return &limiter{now: now, n: map[string]int{}} }

func (l *limiter) roll() {
	if m := l.now().Truncate(time.Minute); !m.Equal(l.min) {
		l.min, l.n = m, map[string]int{}
	}
}

func (l *limiter) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll()
	return l.n[addr] < loginAttemptsPerMin
}

func (l *limiter) failed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll()
	if len(l.n) < 4096 { // bounded: past it, new addresses are not counted this minute
		l.n[addr]++
	} else if _, ok := l.n[addr]; ok {
		l.n[addr]++
	}
}
