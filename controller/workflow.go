package controller

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Action is a step a person takes on a visit through the workflow.
type Action string

// The workflow actions. ActionEnter and ActionExit are taken by the door, not
// through the workflow API.
const (
	ActionSubmit       Action = "submit"        // step 1, admin
	ActionCheck        Action = "check"         // step 2, coordinator
	ActionApprove      Action = "approve"       // step 3, head
	ActionReject       Action = "reject"        // step 3, head
	ActionEnter        Action = "enter"         // step 4, escorted entry at the door
	ActionExit         Action = "exit"          // step 4 ends: the visitor leaves
	ActionReturnID     Action = "return-id"     // step 5, admin
	ActionReport       Action = "report"        // step 6, coordinator
	ActionOrderArchive Action = "order-archive" // step 7, head
	ActionArchive      Action = "archive"       // step 8, admin
)

// sopStep is one row of the SOP table as the workflow enforces it.
type sopStep struct {
	step int
	role Role
	from []VisitState
	to   VisitState
	note string // non-empty: the step needs a note, named so
}

// workflow maps each action a person takes to its SOP row.
var workflow = map[Action]sopStep{
	ActionSubmit:       {step: 1, role: RoleAdmin, to: StateSubmitted},
	ActionCheck:        {step: 2, role: RoleCoordinator, from: []VisitState{StateSubmitted}, to: StateChecked},
	ActionApprove:      {step: 3, role: RoleHead, from: []VisitState{StateChecked}, to: StateApproved},
	ActionReject:       {step: 3, role: RoleHead, from: []VisitState{StateChecked}, to: StateRejected, note: "reason"},
	ActionReturnID:     {step: 5, role: RoleAdmin, from: []VisitState{StateInside, StateExited}, to: StateExited},
	ActionReport:       {step: 6, role: RoleCoordinator, from: []VisitState{StateExited}, to: StateReported, note: "report text"},
	ActionOrderArchive: {step: 7, role: RoleHead, from: []VisitState{StateReported}, to: StateArchiveOrdered},
	ActionArchive:      {step: 8, role: RoleAdmin, from: []VisitState{StateArchiveOrdered}, to: StateArchived},
}

// ParseAction returns the workflow action named s. Submit, enter and exit are
// not taken this way.
func ParseAction(s string) (Action, error) {
	a := Action(s)
	if _, ok := workflow[a]; ok && a != ActionSubmit {
		return a, nil
	}
	return "", fmt.Errorf("%w: unknown visit action %q (want check, approve, reject, return-id, report, order-archive or archive)", ErrInvalid, s)
}

// actor returns the person taking a step and checks they hold its role.
func (s *state) actor(by string, a Action, st sopStep) (Person, error) {
	if strings.TrimSpace(by) == "" {
		return Person{}, fmt.Errorf("%w: who takes the step is missing (--by)", ErrInvalid)
	}
	p, err := s.person(by)
	if err != nil {
		return Person{}, err
	}
	if !p.Has(st.role) {
		return Person{}, fmt.Errorf("%w: %s (%s) may not %s: SOP step %d is for %s", ErrWrongRole, p.ID, rolesText(p.Roles), a, st.step, st.role)
	}
	return p, nil
}

func rolesText(rs []Role) string {
	ss := make([]string, len(rs))
	for i, r := range rs {
		ss[i] = string(r)
	}
	return strings.Join(ss, ",")
}

// submit is step 1: admin staff record the visitor's form.
func (s *state) submit(now time.Time, f VisitForm, by string) (*txn, error) {
	st := workflow[ActionSubmit]
	if _, err := s.actor(by, ActionSubmit, st); err != nil {
		return nil, err
	}
	visitor, err := s.person(f.VisitorID)
	if err != nil {
		return nil, err
	}
	if !visitor.IsVisitor() {
		return nil, fmt.Errorf("%w: person %q is not a visitor; staff with room access need no visit", ErrInvalid, visitor.ID)
	}
	f.Purpose = strings.TrimSpace(f.Purpose)
	if f.Purpose == "" {
		return nil, fmt.Errorf("%w: purpose is empty", ErrInvalid)
	}
	if f.From.IsZero() {
		f.From = now
	}
	if f.Until.IsZero() {
		f.Until = f.From.Add(2 * time.Hour)
	}
	f.From, f.Until = f.From.UTC(), f.Until.UTC()
	if !f.Until.After(f.From) {
		return nil, fmt.Errorf("%w: visit ends (%s) before it starts (%s)", ErrInvalid, f.Until.Format(time.RFC3339), f.From.Format(time.RFC3339))
	}
	if f.EscortID != "" {
		e, err := s.person(f.EscortID)
		if err != nil {
			return nil, fmt.Errorf("escort: %w", err)
		}
		if !s.canEscort(e) {
			return nil, fmt.Errorf("%w: %s (%s) may not escort visitors", ErrInvalid, e.ID, rolesText(e.Roles))
		}
	}
	tx := s.begin(now)
	s.visitSeq++
	v := Visit{
		ID: fmt.Sprintf("V%04d", s.visitSeq), VisitForm: f, Org: visitor.Org, IDDoc: visitor.IDDoc,
		State: st.to, SubmittedBy: by,
		Steps: []StepRecord{{Step: 1, Action: ActionSubmit, State: st.to, Actor: by, Started: now.UTC(), At: now.UTC(), Standard: s.cfg.StepStandards[0]}},
	}
	s.putVisit(tx, v)
	s.emit(tx, Event{Type: EventVisitStep, Person: v.VisitorID, Visit: v.ID, Actor: by, Detail: string(ActionSubmit)})
	return tx, nil
}

// step takes a workflow step on a visit, after checking the state, the role
// and separation of duties, in that order.
func (s *state) step(now time.Time, id string, a Action, by, note string) (*txn, error) {
	st, ok := workflow[a]
	if !ok || a == ActionSubmit {
		_, err := ParseAction(string(a))
		return nil, err
	}
	v, err := s.visit(id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(st.from, v.State) {
		return nil, fmt.Errorf("%w: visit %s is %s; %s (SOP step %d) needs it %s", ErrWrongState, v.ID, v.State, a, st.step, joinStates(st.from))
	}
	if a == ActionReturnID && v.IDReturned {
		return nil, fmt.Errorf("%w: visit %s: the visitor's ID was already returned", ErrWrongState, v.ID)
	}
	if a == ActionReport && !v.IDReturned {
		return nil, fmt.Errorf("%w: visit %s: step 5 is not done: the admin must return the visitor's ID first (return-id)", ErrWrongState, v.ID)
	}
	if _, err := s.actor(by, a, st); err != nil {
		return nil, err
	}
	if st.step == 3 && by == v.SubmittedBy {
		return nil, fmt.Errorf("%w: %s submitted visit %s and may not also %s it", ErrSeparation, by, v.ID, a)
	}
	note = strings.TrimSpace(note)
	if st.note != "" && note == "" {
		return nil, fmt.Errorf("%w: %s needs a %s", ErrInvalid, a, st.note)
	}
	tx := s.begin(now)
	if a == ActionReturnID {
		// The admin's record of the exit stands even if the visitor never
		// badged out; leave moves the visit to exited.
		s.leave(tx, v.VisitorID, by)
		v = s.visits[v.ID].clone()
		v.IDReturned = true
	}
	started := v.Steps[len(v.Steps)-1].At
	if a == ActionReturnID {
		started = v.ExitedAt
	}
	v.State = st.to
	v.Steps = append(v.Steps, StepRecord{Step: st.step, Action: a, State: st.to, Actor: by,
		Started: started, At: now.UTC(), Standard: s.cfg.StepStandards[st.step-1], Note: note})
	s.putVisit(tx, v)
	detail := string(a)
	if note != "" {
		detail += ": " + note
	}
	s.emit(tx, Event{Type: EventVisitStep, Person: v.VisitorID, Visit: v.ID, Actor: by, Detail: detail})
	return tx, nil
}

func joinStates(ss []VisitState) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, " or ")
}
