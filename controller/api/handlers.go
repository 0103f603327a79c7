package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pintu/pintu/controller"
)

// handler is a route: it writes a response on success and returns an error
// otherwise, which serveHTTP turns into a JSON error response.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) routes() {
	s.handle("GET /v1/status", s.status)
	s.handle("GET /v1/people", s.listPeople)
	s.handle("POST /v1/people", s.addPerson)
	s.handle("POST /v1/people/{id}", s.updatePerson)
	s.handle("POST /v1/people/{id}/disable", s.disablePerson(true))
	s.handle("POST /v1/people/{id}/enable", s.disablePerson(false))
	s.handle("POST /v1/people/{id}/link", s.linkPerson)
	s.handle("POST /v1/people/{id}/password", s.setPassword)
	s.handle("GET /v1/whoami", s.whoami)
	s.handle("GET /v1/cards", s.listCards)
	s.handle("POST /v1/cards/assign", s.assignCard)
	s.handle("POST /v1/cards/revoke", s.revokeCard)
	s.handle("POST /v1/visits", s.submitVisit)
	s.handle("GET /v1/visits", s.listVisits)
	s.handle("GET /v1/visits/{id}", s.getVisit)
	s.handle("POST /v1/visits/{id}/{action}", s.stepVisit)
	s.handle("POST /v1/sim/tap", s.simTap)
	s.handle("POST /v1/sim/door", s.simDoor)
	s.handle("POST /v1/sim/rex", s.simRex)
	s.handle("POST /v1/sim/tamper", s.simTamper)
	s.handle("GET /v1/alarms", s.listAlarms)
	s.handle("POST /v1/alarms/{id}/ack", s.ackAlarm)
	s.handle("POST /v1/doors/lockdown", s.lockdown(true))
	s.handle("POST /v1/doors/release", s.lockdown(false))
	s.handle("GET /v1/events", s.events)
	s.handle("GET /v1/export", s.export)
	s.handle("GET /v1/verify", s.verify)
	s.handle("GET /v1/keys", s.listKeys)
	s.handle("POST /v1/keys", s.addKey)
	s.handle("POST /v1/keys/revoke", s.revokeKey)
	s.handle("GET /v1/visits/{id}/dossier", s.dossier)
	s.handle("GET /v1/reports/sop", s.sopReport)
	s.handle("GET /v1/export/bundle", s.exportBundle)
	s.handle("GET /v1/site/key", s.siteKey)
	s.handle("GET /v1/backup", s.backup)
	s.handle("GET /v1/integrity", s.integrity)
	s.handle("POST /v1/integrity/accept", s.acceptIntegrity)
	s.handle("POST "+importPath, s.importPeople)
}

// serveHTTP routes r, answering unknown paths and methods with JSON errors
// rather than ServeMux's plain text.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Pintu-Time-Zone", s.opts.Location.String())
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		s.writeError(w, r, notFound("no route for %s %s", r.Method, r.URL.Path))
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.writeError(w, r, &httpError{
			status: http.StatusMethodNotAllowed,
			msg:    fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow),
		})
	default: // a redirect to the cleaned path, say
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
	}
}

// recorder captures what ServeMux's own not-found and method-not-allowed
// handlers write.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	st, err := s.ctrl.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.withMQTT(utcStatus(st)))
	return nil
}

// page reads the paging query parameters of a list: limit (default
// controller.DefaultPage, at most controller.MaxPage) and after (the last
// id of the page before).
func page(r *http.Request) (controller.Page, error) {
	q := r.URL.Query()
	pg := controller.Page{After: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > controller.MaxPage {
			return pg, badRequest("query parameter \"limit\": %q: want a number from 1 to %d", v, controller.MaxPage)
		}
		pg.Limit = n
	}
	return pg, nil
}

// writePage writes a page of a list. A full page says where the next one
// starts in the Pintu-Next-After header; a list that fits one page (every
// small site's) looks as it always did.
func writePage[T any](w http.ResponseWriter, pg controller.Page, xs []T, id func(T) string) {
	limit := pg.Limit
	if limit == 0 {
		limit = controller.DefaultPage
	}
	if len(xs) == limit && limit > 0 {
		w.Header().Set("Pintu-Next-After", id(xs[len(xs)-1]))
	}
	writeJSON(w, http.StatusOK, nonNil(xs))
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	ps, err := s.ctrl.People(r.Context(), pg)
	if err != nil {
		return err
	}
	writePage(w, pg, ps, func(p controller.Person) string { return p.ID })
	return nil
}

func (s *Server) addPerson(w http.ResponseWriter, r *http.Request) error {
	var b personBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	p := b.person()
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	if err := s.ctrl.AddPerson(r.Context(), p, a); err != nil {
		return err
	}
	if got, err := s.ctrl.Person(r.Context(), p.ID); err == nil {
		p = got
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) listCards(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	cs, err := s.ctrl.Cards(r.Context(), pg)
	if err != nil {
		return err
	}
	for i := range cs {
		cs[i] = utcCard(cs[i])
	}
	writePage(w, pg, cs, func(c controller.Card) string { return c.ID })
	return nil
}

// card returns the stored record of card id, or a record built from what
// the caller knows if the lookup fails.
func (s *Server) card(r *http.Request, id string, fallback controller.Card) controller.Card {
	c, err := s.ctrl.Card(r.Context(), id)
	if err != nil {
		return fallback
	}
	return utcCard(c)
}

func (s *Server) assignCard(w http.ResponseWriter, r *http.Request) error {
	var b assignBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	if err := s.ctrl.AssignCard(r.Context(), b.Card, b.Person, a); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.card(r, b.Card, controller.Card{ID: b.Card, PersonID: b.Person}))
	return nil
}

func (s *Server) revokeCard(w http.ResponseWriter, r *http.Request) error {
	var b revokeBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	if err := s.ctrl.RevokeCard(r.Context(), b.Card, a); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.card(r, b.Card, controller.Card{ID: b.Card, Revoked: true}))
	return nil
}

func (s *Server) submitVisit(w http.ResponseWriter, r *http.Request) error {
	var b visitBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	a, err := s.actor(r, b.By)
	if err != nil {
		return err
	}
	v, err := s.ctrl.SubmitVisit(r.Context(), b.form, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, wireVisit(v))
	return nil
}

func (s *Server) listVisits(w http.ResponseWriter, r *http.Request) error {
	var state controller.VisitState
	if q := r.URL.Query().Get("state"); q != "" {
		st, err := controller.ParseVisitState(q)
		if err != nil {
			names := make([]string, len(controller.VisitStates))
			for i, x := range controller.VisitStates {
				names[i] = string(x)
			}
			return badRequest("query parameter \"state\": unknown visit state %q (want one of %s)", q, strings.Join(names, ", "))
		}
		state = st
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	vs, err := s.ctrl.Visits(r.Context(), state, pg)
	if err != nil {
		return err
	}
	writePage(w, pg, wireVisits(vs), func(v Visit) string { return v.ID })
	return nil
}

func (s *Server) getVisit(w http.ResponseWriter, r *http.Request) error {
	v, err := s.ctrl.Visit(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wireVisit(v))
	return nil
}

func (s *Server) stepVisit(w http.ResponseWriter, r *http.Request) error {
	a := controller.Action(r.PathValue("action"))
	if !slices.Contains(stepActions, a) {
		return unknownAction(string(a))
	}
	b := stepBody{action: a}
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	by, err := s.actor(r, b.By)
	if err != nil {
		return err
	}
	v, err := s.ctrl.Step(r.Context(), r.PathValue("id"), a, by, b.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wireVisit(v))
	return nil
}

var errNoSim = notFound("simulated hardware is not enabled (start pintud with -sim)")

func (s *Server) simTap(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Sim == nil {
		return errNoSim
	}
	var b tapBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	res, err := s.opts.Sim.Tap(r.Context(), b.Door, b.Reader, b.Card)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// DoorResult is the answer to a simulated door contact change.
type DoorResult struct {
	Door    string `json:"door"`
	Contact string `json:"contact"` // open or closed
}

// RexResult is the answer to a simulated exit button press. The strike is
// released even when the press cannot be logged: then Logged is false and
// Error says why.
type RexResult struct {
	Door     string `json:"door"`
	Released bool   `json:"released"`
	Logged   bool   `json:"logged"`
	Error    string `json:"error,omitempty"`
}

// TamperResult is the answer to a simulated tamper switch change.
type TamperResult struct {
	Door      string `json:"door"`
	Enclosure string `json:"enclosure"` // open or closed
}

// LockdownResult is the answer to a lockdown or its release.
type LockdownResult struct {
	Lockdown bool     `json:"lockdown"`
	Doors    []string `json:"doors"` // the doors that changed
}

func (s *Server) simDoor(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Sim == nil {
		return errNoSim
	}
	var b doorBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	if err := s.opts.Sim.Door(r.Context(), b.Door, *b.Open); err != nil {
		return err
	}
	contact := "closed"
	if *b.Open {
		contact = "open"
	}
	writeJSON(w, http.StatusOK, DoorResult{Door: b.Door, Contact: contact})
	return nil
}

func (s *Server) simRex(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Sim == nil {
		return errNoSim
	}
	var b rexBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	res := RexResult{Door: b.Door, Released: true, Logged: true}
	if err := s.opts.Sim.REX(r.Context(), b.Door); err != nil {
		if !errors.Is(err, controller.ErrStorage) {
			return err
		}
		// Egress never waits on the disk: the strike was released.
		res.Logged, res.Error = false, err.Error()
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) simTamper(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Sim == nil {
		return errNoSim
	}
	var b doorBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	if err := s.opts.Sim.Tamper(r.Context(), b.Door, *b.Open); err != nil {
		return err
	}
	enc := "closed"
	if *b.Open {
		enc = "open"
	}
	writeJSON(w, http.StatusOK, TamperResult{Door: b.Door, Enclosure: enc})
	return nil
}

func (s *Server) listAlarms(w http.ResponseWriter, r *http.Request) error {
	as, err := s.ctrl.Alarms(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, utcAlarms(as))
	return nil
}

func (s *Server) ackAlarm(w http.ResponseWriter, r *http.Request) error {
	var b ackBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	by, err := s.actor(r, b.By)
	if err != nil {
		return err
	}
	a, err := s.ctrl.AckAlarm(r.Context(), r.PathValue("id"), by, b.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, utcAlarms([]controller.Alarm{a})[0])
	return nil
}

func (s *Server) lockdown(on bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var b lockdownBody
		if err := s.decode(w, r, &b); err != nil {
			return err
		}
		by, err := s.actor(r, b.By)
		if err != nil {
			return err
		}
		doors, err := s.ctrl.Lockdown(r.Context(), b.Door, by, on)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, LockdownResult{Lockdown: on, Doors: doors})
		return nil
	}
}

func (s *Server) updatePerson(w http.ResponseWriter, r *http.Request) error {
	var b personUpdateBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	p, err := s.ctrl.UpdatePerson(r.Context(), r.PathValue("id"), b.update(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, utcPerson(p))
	return nil
}

func (s *Server) disablePerson(off bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var b emptyBody
		if err := s.decode(w, r, &b); err != nil {
			return err
		}
		a, err := s.actor(r, "")
		if err != nil {
			return err
		}
		p, err := s.ctrl.SetDisabled(r.Context(), r.PathValue("id"), off, a)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, utcPerson(p))
		return nil
	}
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func utcStatus(s controller.Status) controller.Status {
	s.Time = s.Time.UTC()
	s.Doors = nonNil(s.Doors)
	s.Alarms = utcAlarms(s.Alarms)
	s.AwaitingAck = utcAlarms(s.AwaitingAck)
	for i := range s.Doors {
		s.Doors[i].LockdownSince = s.Doors[i].LockdownSince.UTC()
	}
	s.Inside = nonNil(slices.Clone(s.Inside))
	for i := range s.Inside {
		s.Inside[i].Since = s.Inside[i].Since.UTC()
	}
	return s
}

func utcAlarms(as []controller.Alarm) []controller.Alarm {
	as = nonNil(slices.Clone(as))
	for i := range as {
		as[i].Since, as[i].ClearedAt, as[i].AckedAt = as[i].Since.UTC(), as[i].ClearedAt.UTC(), as[i].AckedAt.UTC()
	}
	return as
}

func utcPerson(p controller.Person) controller.Person {
	p.DisabledAt = p.DisabledAt.UTC()
	return p
}

func utcCard(c controller.Card) controller.Card {
	c.AssignedAt = c.AssignedAt.UTC()
	c.RevokedAt = c.RevokedAt.UTC()
	return c
}
