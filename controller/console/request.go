package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/internal/catalog"
)

// rq is one request as a page sees it: who asks, in which language, and
// what to say about the last thing they did.
type rq struct {
	s   *Server
	w   http.ResponseWriter
	r   *http.Request
	p   controller.Person // zero on the sign-in page
	ses controller.Session
	t   *catalog.Text
	nav string // the menu entry to mark
	now time.Time
	msg string // a success message, already translated
	err error  // what went wrong, shown at the top of the page
}

// actor is the signed-in person as the controller takes them.
func (q *rq) actor() controller.Actor {
	return controller.Actor{Person: q.p.ID, Via: controller.ViaConsole, Account: q.p.ID}
}

// T prints a message in the person's language.
func (q *rq) T(key string, args ...any) string { return q.t.T(key, args...) }

// has reports whether the person holds any of roles.
func (q *rq) has(roles ...controller.Role) bool { return slices.ContainsFunc(roles, q.p.Has) }

// The roles that see each part of the console.
var (
	acks     = []controller.Role{controller.RoleCoordinator, controller.RoleHead} // acknowledge alarms, lockdown
	managers = []controller.Role{controller.RoleAdmin, controller.RoleCoordinator, controller.RoleHead}
	papers   = []controller.Role{controller.RoleAdmin, controller.RoleCoordinator, controller.RoleHead}
)

// page wraps a handler that needs a signed-in person: without a valid
// session it sends the browser to sign in (a POST changes nothing). The
// handler returns an error to show on a page of its own.
func (s *Server) page(nav string, h func(q *rq) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, ok := s.signedIn(w, r)
		if !ok {
			return
		}
		q.nav = nav
		if err := h(q); err != nil {
			q.err = err
			w.WriteHeader(statusOf(err))
			s.render(q, messagePage(q))
		}
	})
}

// anon is the request of someone not signed in: the language is the one
// they picked on the sign-in page (a cookie), Indonesian by default.
func (s *Server) anon(w http.ResponseWriter, r *http.Request) *rq {
	lang := catalog.ID
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := catalog.Parse(c.Value); ok {
			lang = l
		}
	}
	return &rq{s: s, w: w, r: r, t: catalog.New(lang), now: s.opts.Now()}
}

// render writes a page.
func (s *Server) render(q *rq, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(q.r.Context(), &buf); err != nil {
		s.log.Error("console: render", "path", q.r.URL.Path, "err", err)
		http.Error(q.w, "render failed", http.StatusInternalServerError)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.Write(buf.Bytes())
}

// redirect sends the browser to path after a change (post, redirect, get),
// with a message key to show there.
func (q *rq) redirect(path, done string) error {
	if done != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + url.QueryEscape(done)
	}
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
	return nil
}

// done reads the message a redirect carried: only keys of doneMessages
// show, so a link cannot put words on the page.
func (q *rq) done() {
	if k := q.r.URL.Query().Get("done"); k != "" {
		if m, ok := doneMessages[k]; ok {
			q.msg = q.T(m)
		}
	}
}

// doneMessages are what a change's page says after it.
var doneMessages = map[string]string{
	"submitted": "The visit was submitted (SOP step 1).",
	"step":      "The step was recorded.",
	"acked":     "The alarm was acknowledged.",
	"lockdown":  "Lockdown is on: only the exit opens the door.",
	"released":  "The lockdown was released.",
	"added":     "The person was registered.",
	"updated":   "The changes were saved.",
	"disabled":  "The person was disabled: their cards are refused.",
	"enabled":   "The person was enabled again.",
	"assigned":  "The card was assigned.",
	"revoked":   "The card was revoked: it is refused from now on.",
	"password":  "Your password was changed; your other sessions have ended.",
}

// form reads a posted form; a body over the limit is bad input.
func (q *rq) form() error {
	if err := q.r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: %w", errTooLarge, err)
		}
		return fmt.Errorf("%w: %w", controller.ErrInvalid, err)
	}
	return nil
}

// errTooLarge is a form bigger than Options.MaxBody.
var errTooLarge = errors.New("the form is too large")

func (q *rq) field(name string) string { return strings.TrimSpace(q.r.PostForm.Get(name)) }

// statusOf is the HTTP status of an error a page shows.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, controller.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, controller.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, controller.ErrWrongRole), errors.Is(err, controller.ErrUnauthenticated), errors.Is(err, errNotYours):
		return http.StatusForbidden
	case errors.Is(err, controller.ErrSeparation), errors.Is(err, controller.ErrWrongState),
		errors.Is(err, controller.ErrExists), errors.Is(err, controller.ErrAlready):
		return http.StatusConflict
	case errors.Is(err, controller.ErrStorage), errors.Is(err, controller.ErrStopped),
		errors.Is(err, context.Canceled), errors.Is(err, errTooManyLive):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errNotYours is a page the person's roles do not open.
var errNotYours = errors.New("this page is not for your role")

// problem is an error as a person reads it: a sentence in their language
// saying what happened, and the detail pintud gave.
type problem struct {
	Headline string
	Detail   string
}

// explain turns an error into words for the page.
func (q *rq) explain(err error) problem {
	var sep *controller.SeparationError
	var txt *controller.TextError
	var lock *controller.LockoutError
	switch {
	case errors.As(err, &sep):
		return problem{Headline: q.T("You took step %d (%s) of visit %s. The SOP gives steps %s to different people, so someone else must do this one.",
			sep.Took, q.t.Step(sep.Took), sep.Visit, q.T(sep.Steps))}
	case errors.As(err, &txt):
		return problem{Headline: q.explainText(txt)}
	case errors.As(err, &lock):
		return problem{Headline: q.T("Too many wrong passwords: this account is locked until %s. Try again then, or ask root to reset the password.", q.clock(lock.Until))}
	case errors.Is(err, errThrottled):
		return problem{Headline: q.T("Too many failed sign-ins from this computer. Wait a minute and try again.")}
	case errors.Is(err, controller.ErrLoginFailed):
		return problem{Headline: q.T("Wrong person ID or password.")}
	case errors.Is(err, errCrossOrigin):
		return problem{Headline: q.T("This request came from another web site and was refused. Nothing was changed.")}
	case errors.As(err, new(*controller.ImportError)):
		ie, _ := errors.AsType[*controller.ImportError](err)
		return problem{Headline: q.T("The file has %d wrong lines, listed below. Nothing was imported; correct them and import the file again.", len(ie.Lines))}
	case errors.Is(err, errTooLarge):
		return problem{Headline: q.T("What you sent is too large. Nothing was changed; shorten the text and try again."), Detail: err.Error()}
	case errors.Is(err, errNotYours):
		return problem{Headline: q.T("This page is not for your role.")}
	case errors.Is(err, errTooManyLive):
		return problem{Headline: q.T("Too many live screens are open. Close one and reload.")}
	case errors.Is(err, controller.ErrWrongRole):
		return problem{Headline: q.T("Your role may not do this. Nothing was changed."), Detail: err.Error()}
	case errors.Is(err, controller.ErrUnauthenticated):
		return problem{Headline: q.T("You are not identified as a person who may do this. Nothing was changed."), Detail: err.Error()}
	case errors.Is(err, controller.ErrWrongState):
		return problem{Headline: q.T("The visit is no longer at that step (someone else may have acted). Nothing was changed; look at it again."), Detail: err.Error()}
	case errors.Is(err, controller.ErrAlready):
		return problem{Headline: q.T("That is already done."), Detail: err.Error()}
	case errors.Is(err, controller.ErrExists):
		return problem{Headline: q.T("That already exists."), Detail: err.Error()}
	case errors.Is(err, controller.ErrNotFound):
		return problem{Headline: q.T("Not found."), Detail: err.Error()}
	case errors.Is(err, controller.ErrInvalid):
		return problem{Headline: q.T("Something in the form is not right. Nothing was changed."), Detail: err.Error()}
	case errors.Is(err, controller.ErrStorage):
		return problem{Headline: q.T("The audit log could not be written, so nothing was done. Tell the coordinator.")}
	}
	return problem{Headline: q.T("Something went wrong. Nothing was changed."), Detail: err.Error()}
}

func (q *rq) explainText(e *controller.TextError) string {
	what := q.T(e.What)
	switch e.Why {
	case "too long":
		return q.T("%s is too long: %d characters, at most %d.", what, e.Len, e.Max)
	case "not valid UTF-8 text":
		return q.T("%s is not readable text.", what)
	case "a bidirectional formatting character":
		return q.T("%s contains a hidden character that changes the direction of text (U+%04X). Type it again without copying and pasting.", what, e.Rune)
	case "an invisible character":
		return q.T("%s contains an invisible character (U+%04X). Type it again without copying and pasting.", what, e.Rune)
	}
	return q.T("%s contains a control character (U+%04X). Type it again without copying and pasting.", what, e.Rune)
}

// Times, in the site's zone.

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// when is a moment as the site's wall clock shows it: the time alone for
// today, with the date otherwise; the zone's name (WIB, WITA, WIT) after.
func (q *rq) when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	lt, now := t.In(q.s.opts.Location), q.now.In(q.s.opts.Location)
	zone, _ := lt.Zone()
	if lt.Year() == now.Year() && lt.YearDay() == now.YearDay() {
		return lt.Format("15:04") + " " + zone
	}
	return fmt.Sprintf("%d %s %d %s %s", lt.Day(), q.T(months[lt.Month()-1]), lt.Year(), lt.Format("15:04"), zone)
}

// clock is a moment to the second, for lockouts.
func (q *rq) clock(t time.Time) string {
	lt := t.In(q.s.opts.Location)
	zone, _ := lt.Zone()
	return lt.Format("15:04:05") + " " + zone
}

// dur is a duration as a person says it: "4 min 12 s".
func (q *rq) dur(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return q.T("%d h %d min", h, m)
	case m > 0 && sec > 0:
		return q.T("%d min %d s", m, sec)
	case m > 0:
		return q.T("%d min", m)
	}
	return q.T("%d s", sec)
}

// parseLocal reads a datetime-local input in the site's zone; empty is the
// zero time.
func (q *rq) parseLocal(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, q.s.opts.Location); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %s: %q is not a date and time", controller.ErrInvalid, name, v)
}

// back is where a page that only says what went wrong leads: the page the
// person was on, as far as the path tells.
func (q *rq) back() string {
	parts := strings.Split(strings.Trim(q.r.URL.Path, "/"), "/")
	switch {
	case q.p.ID == "":
		return "/login"
	case len(parts) >= 2 && (parts[0] == "visits" || parts[0] == "people") && parts[1] != "new":
		return "/" + parts[0] + "/" + url.PathEscape(parts[1])
	case q.nav != "":
		return "/" + q.nav
	}
	return "/today"
}
