package console

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pintu/pintu/controller"
)

// This file is the visits: the list, the form of SOP step 1, and a visit
// with its steps and the buttons for the next one.

// maxVisitRows bounds the visits list, the newest first; maxVisitScan is
// how many of the newest visits it looks at for the open ones.
const (
	maxVisitRows = 200
	maxVisitScan = 20000
)

type visitRow struct {
	V       controller.Visit
	Visitor string
	Waiting string // the role the next step waits for
}

func (s *Server) visits(q *rq) error {
	q.done()
	all := q.r.URL.Query().Get("all") != ""
	vs, err := s.ctrl.RecentVisits(q.r.Context(), maxVisitRows, maxVisitScan, func(v controller.Visit) bool {
		return all || (v.State != controller.StateArchived && v.State != controller.StateRejected)
	})
	if err != nil {
		return err
	}
	var rows []visitRow
	for _, v := range vs {
		r := visitRow{V: v, Visitor: s.personName(q, v.VisitorID)}
		if next := controller.NextSteps(v, controller.Person{}); len(next) > 0 {
			r.Waiting = q.t.Role(next[0].Role)
		} else if v.State == controller.StateApproved {
			r.Waiting = q.T("the visitor and an escort at the door")
		}
		rows = append(rows, r)
	}
	s.render(q, visitsPage(q, rows, all))
	return nil
}

// visitForm is what the form of step 1 holds, kept to show it again when
// something in it is refused.
type visitForm struct {
	Visitor, VisitorName, Org, IDDoc, Purpose, Devices, From, Until, Escort string
}

func (s *Server) newVisit(q *rq) error {
	if !q.has(controller.RoleAdmin) {
		return errNotYours
	}
	return s.renderNewVisit(q, visitForm{})
}

func (s *Server) renderNewVisit(q *rq, f visitForm) error {
	// The choices come from the first maxPeopleScan people: the visitor
	// field takes any id typed, and a site of a million reads no more.
	cfg := s.ctrl.Config()
	var visitors, escorts []controller.Person
	after := ""
	for scanned := 0; scanned < maxPeopleScan; {
		people, err := s.ctrl.People(q.r.Context(), controller.Page{After: after, Limit: controller.DefaultPage})
		if err != nil {
			return err
		}
		for _, p := range people {
			switch {
			case p.Disabled:
			case p.IsVisitor():
				if len(visitors) < 500 {
					visitors = append(visitors, p)
				}
			case slices.ContainsFunc(cfg.Escort, p.Has):
				if len(escorts) < 500 {
					escorts = append(escorts, p)
				}
			}
		}
		scanned += len(people)
		if len(people) < controller.DefaultPage {
			break
		}
		after = people[len(people)-1].ID
	}
	s.render(q, newVisitPage(q, f, visitors, escorts))
	return nil
}

// submitVisit is SOP step 1. A visitor the office has not met yet is
// registered first; a returning visitor's organisation and identity
// document are brought up to date. Any refusal shows the form again with
// what was typed.
func (s *Server) submitVisit(q *rq) error {
	if err := q.form(); err != nil {
		return err
	}
	f := visitForm{Visitor: q.field("visitor"), VisitorName: q.field("visitor_name"), Org: q.field("org"), IDDoc: q.field("id_doc"),
		Purpose: q.field("purpose"), Devices: q.field("devices"), From: q.field("from"), Until: q.field("until"), Escort: q.field("escort")}
	again := func(err error) error {
		q.err = err
		q.w.WriteHeader(statusOf(err))
		return s.renderNewVisit(q, f)
	}
	from, err := q.parseLocal(q.T("From"), f.From)
	if err != nil {
		return again(err)
	}
	until, err := q.parseLocal(q.T("Until"), f.Until)
	if err != nil {
		return again(err)
	}
	ctx := q.r.Context()
	visitor, err := s.ctrl.Person(ctx, f.Visitor)
	switch {
	case errors.Is(err, controller.ErrNotFound) && f.VisitorName != "":
		p := controller.Person{ID: f.Visitor, Name: f.VisitorName, Org: f.Org, IDDoc: f.IDDoc, Roles: []controller.Role{controller.RoleVisitor}}
		if err := s.ctrl.AddPerson(ctx, p, q.actor()); err != nil {
			return again(err)
		}
	case errors.Is(err, controller.ErrNotFound):
		return again(fmt.Errorf("%w: no visitor %q is registered; to register them, fill in their name too", controller.ErrNotFound, f.Visitor))
	case err != nil:
		return again(err)
	case visitor.IsVisitor() && (f.Org != "" && f.Org != visitor.Org || f.IDDoc != "" && f.IDDoc != visitor.IDDoc):
		u := controller.PersonUpdate{}
		if f.Org != "" {
			u.Org = &f.Org
		}
		if f.IDDoc != "" {
			u.IDDoc = &f.IDDoc
		}
		if _, err := s.ctrl.UpdatePerson(ctx, visitor.ID, u, q.actor()); err != nil && !errors.Is(err, controller.ErrAlready) {
			return again(err)
		}
	}
	v, err := s.ctrl.SubmitVisit(ctx, controller.VisitForm{VisitorID: f.Visitor, Purpose: f.Purpose, Devices: f.Devices,
		From: from, Until: until, EscortID: f.Escort}, q.actor())
	if err != nil {
		return again(err)
	}
	return q.redirect("/visits/"+v.ID, "submitted")
}

// visitView is a visit as its page shows it.
type visitView struct {
	V          controller.Visit
	Visitor    string
	Escort     string
	EscortedBy string
	Steps      []stepRow
	Next       []nextGroup
}

// nextGroup is one SOP step the visit waits for, with its actions (step 3
// has two: approve and reject).
type nextGroup struct {
	Step    int
	Role    controller.Role
	Actions []controller.NextStep
	Refusal error // why the person may take none of them
}

func groupNext(ns []controller.NextStep) []nextGroup {
	var out []nextGroup
	for _, n := range ns {
		if len(out) == 0 || out[len(out)-1].Step != n.Step {
			out = append(out, nextGroup{Step: n.Step, Role: n.Role, Refusal: n.Refusal})
		}
		g := &out[len(out)-1]
		if n.Refusal == nil {
			g.Actions = append(g.Actions, n)
			g.Refusal = nil
		}
	}
	return out
}

type stepRow struct {
	N, Name, What, Who, When, Took, Standard, Note string
	Over                                           bool
	Untimed                                        bool // step 1: the instant of submission
}

func (s *Server) visit(q *rq) error {
	q.done()
	return s.renderVisit(q, q.r.PathValue("id"))
}

func (s *Server) renderVisit(q *rq, id string) error {
	v, err := s.ctrl.Visit(q.r.Context(), id)
	if err != nil {
		return err
	}
	vv := visitView{V: v, Visitor: s.personName(q, v.VisitorID), Escort: q.T("any officer who may escort"),
		Next: groupNext(controller.NextSteps(v, q.p))}
	if v.EscortID != "" {
		vv.Escort = s.personName(q, v.EscortID)
	}
	if v.EscortedBy != "" {
		vv.EscortedBy = q.T("escorted by %s", s.personName(q, v.EscortedBy))
	}
	for _, st := range v.Steps {
		r := stepRow{N: strconv.Itoa(st.Step), Name: q.t.Step(st.Step), What: q.t.State(st.State), When: q.when(st.At),
			Took: q.dur(st.Took()), Standard: q.dur(st.Standard), Over: st.Standard > 0 && st.Took() > st.Standard, Note: st.Note}
		if st.Action == controller.ActionEnter || st.Action == controller.ActionExit {
			r.What = q.t.Action(st.Action)
		}
		if st.Step == 1 { // the paper form is filled in before anything is recorded
			r.Took, r.Over, r.Untimed = q.T("not timed: recorded at submission"), false, true
		}
		if st.At.IsZero() { // step 4 runs while the visitor is inside
			took := q.now.Sub(st.Started)
			r.When, r.Took, r.Over = q.T("since %s", q.when(st.Started)), q.T("%s so far", q.dur(took)), st.Standard > 0 && took > st.Standard
		}
		r.Who = s.personName(q, st.Actor)
		if p, err := s.ctrl.Person(q.r.Context(), st.Actor); err == nil {
			r.Who += " · " + s.roleNames(q, p.Roles)
		}
		vv.Steps = append(vv.Steps, r)
	}
	s.render(q, visitPage(q, vv))
	return nil
}

func (s *Server) roleNames(q *rq, roles []controller.Role) string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = q.t.Role(r)
	}
	return strings.Join(out, ", ")
}

// stepVisit takes a step. The page offered it only to the right role in
// the right state; the controller checks both again, and separation of
// duties, whatever was posted.
func (s *Server) stepVisit(q *rq) error {
	if err := q.form(); err != nil {
		return err
	}
	id, a := q.r.PathValue("id"), controller.Action(q.r.PathValue("action"))
	if _, err := controller.ParseAction(string(a)); err != nil {
		return err
	}
	if _, err := s.ctrl.Step(q.r.Context(), id, a, q.actor(), q.r.PostForm.Get("text")); err != nil {
		if errors.Is(err, controller.ErrNotFound) {
			return err
		}
		q.err = err
		q.w.WriteHeader(statusOf(err))
		return s.renderVisit(q, id)
	}
	return q.redirect("/visits/"+id, "step")
}

// refusalText says why the person sees no button for a step.
func refusalText(q *rq, g nextGroup) string {
	var sep *controller.SeparationError
	if errors.As(g.Refusal, &sep) {
		return q.explain(sep).Headline
	}
	return q.T("This step is for the %s.", q.t.Role(g.Role))
}

func noteLabel(q *rq, a controller.Action) string {
	if a == controller.ActionReject {
		return q.T("Why the visit is rejected")
	}
	return q.T("The work done (the coordinator's report)")
}

func buttonClass(a controller.Action) string {
	if a == controller.ActionReject {
		return "danger"
	}
	return "primary"
}

func stateClass(s controller.VisitState) string {
	switch s {
	case controller.StateRejected:
		return "bad"
	case controller.StateApproved, controller.StateInside:
		return "good"
	case controller.StateArchived:
		return ""
	}
	return "warn"
}

func dash(s string) string { return cmp.Or(s, "–") }
