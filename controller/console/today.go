package console

import (
	"fmt"
	"strings"

	"github.com/pintu/pintu/controller"
)

// This file is the today screen: doors, alarms and who is inside; the
// acknowledgement of an alarm; lockdown and its release.

func (s *Server) today(q *rq) error {
	q.done()
	snap, err := s.hub.read(q.r.Context())
	if err != nil {
		return err
	}
	s.render(q, todayPage(q, snap))
	return nil
}

// alarmPage asks for the note of an acknowledgement. Only the roles that
// acknowledge see it; the controller checks again when it is sent.
func (s *Server) alarmPage(q *rq) error {
	if !q.has(acks...) {
		return errNotYours
	}
	id := q.r.PathValue("id")
	as, err := s.ctrl.Alarms(q.r.Context())
	if err != nil {
		return err
	}
	for _, a := range as {
		if a.ID == id {
			who := ""
			if a.Person != "" {
				who = s.personName(q, a.Person)
			}
			s.render(q, alarmConfirm(q, a, who))
			return nil
		}
	}
	return fmt.Errorf("%w: alarm %q is not listed (it may have been acknowledged already)", controller.ErrNotFound, id)
}

func (s *Server) ackAlarm(q *rq) error {
	if err := q.form(); err != nil {
		return err
	}
	if _, err := s.ctrl.AckAlarm(q.r.Context(), q.r.PathValue("id"), q.actor(), q.r.PostForm.Get("note")); err != nil {
		return err
	}
	return q.redirect("/today", "acked")
}

func (s *Server) lockdown(on bool) func(q *rq) error {
	return func(q *rq) error {
		if err := q.form(); err != nil {
			return err
		}
		if _, err := s.ctrl.Lockdown(q.r.Context(), q.field("door"), q.actor(), on); err != nil {
			return err
		}
		if on {
			return q.redirect("/today", "lockdown")
		}
		return q.redirect("/today", "released")
	}
}

// personName is "Name (id)", or the id alone when unknown.
func (s *Server) personName(q *rq, id string) string {
	if p, err := s.ctrl.Person(q.r.Context(), id); err == nil {
		return p.Name + " (" + id + ")"
	}
	return id
}

// name is a person's name from a snapshot's names.
func name(names map[string]string, id string) string {
	if n, ok := names[id]; ok && n != "" {
		return n
	}
	return id
}

func names(m map[string]string, ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = name(m, id)
	}
	return strings.Join(out, ", ")
}

// escorts lists the visitors inside whom person escorts.
func escorts(inside []controller.Occupant, person string) []string {
	var out []string
	for _, o := range inside {
		if o.Visit != "" && o.Escort == person {
			out = append(out, o.Person)
		}
	}
	return out
}

// isInside reports whether person is inside.
func isInside(inside []controller.Occupant, person string) bool {
	for _, o := range inside {
		if o.Person == person {
			return true
		}
	}
	return false
}
