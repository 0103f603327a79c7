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

// stepActor returns the person taking a step and checks they hold its role.
func (s *state) stepActor(by Actor, a Action, st sopStep) (Person, error) {
	p, err := s.actor(by)
	if err != nil {
		return Person{}, err
	}
	if !p.Has(st.role) {
		return Person{}, fmt.Errorf("%w: %s (%s) may not %s: SOP step %d is for %s", ErrWrongRole, p.ID, rolesText(p.Roles), a, st.step, st.role)
	}
	return p, nil
}

// separate lists, for a step, the earlier steps whose taker may not take
// it: steps 1, 2 and 3 by three different people, steps 6 and 7 by two.
var separate = map[int][]int{2: {1}, 3: {1, 2}, 7: {6}}

// submit is step 1: admin staff record the visitor's form. The window must
// not end in the past nor be longer than the configured maximum.
func (s *state) submit(now time.Time, f VisitForm, by Actor) (*step, Visit, error) {
	sop := workflow[ActionSubmit]
	p, err := s.stepActor(by, ActionSubmit, sop)
	if err != nil {
		return nil, Visit{}, err
	}
	f.VisitorID = strings.TrimSpace(f.VisitorID)
	visitor, ok, err := s.rec.Person(f.VisitorID)
	if err != nil {
		return nil, Visit{}, err
	}
	if !ok {
		return nil, Visit{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, f.VisitorID)
	}
	if !visitor.IsVisitor() {
		return nil, Visit{}, fmt.Errorf("%w: person %q is not a visitor; staff with room access need no visit", ErrInvalid, visitor.ID)
	}
	if visitor.Disabled {
		return nil, Visit{}, fmt.Errorf("%w: visitor %s is disabled", ErrInvalid, visitor.ID)
	}
	f.Purpose = strings.TrimSpace(f.Purpose)
	if f.Purpose == "" {
		return nil, Visit{}, fmt.Errorf("%w: purpose is empty", ErrInvalid)
	}
	if f.From.IsZero() {
		f.From = now
	}
	if f.Until.IsZero() {
		f.Until = f.From.Add(2 * time.Hour)
	}
	f.From, f.Until = f.From.UTC(), f.Until.UTC()
	switch {
	case !f.Until.After(f.From):
		return nil, Visit{}, fmt.Errorf("%w: visit ends (%s) before it starts (%s)", ErrInvalid, f.Until.Format(time.RFC3339), f.From.Format(time.RFC3339))
	case !f.Until.After(now):
		return nil, Visit{}, fmt.Errorf("%w: visit window ends (%s) in the past", ErrInvalid, f.Until.Format(time.RFC3339))
	case f.Until.Sub(f.From) > s.cfg.MaxVisitWindow:
		return nil, Visit{}, fmt.Errorf("%w: visit window of %s is longer than the %s allowed (sop.max_visit_window)", ErrInvalid, f.Until.Sub(f.From), s.cfg.MaxVisitWindow)
	}
	if f.EscortID != "" {
		e, ok, err := s.rec.Person(f.EscortID)
		if err != nil {
			return nil, Visit{}, err
		}
		if !ok {
			return nil, Visit{}, fmt.Errorf("escort: %w: unknown person %q", ErrNotFound, f.EscortID)
		}
		if !s.canEscort(e) {
			return nil, Visit{}, fmt.Errorf("%w: %s (%s) may not escort visitors", ErrInvalid, e.ID, rolesText(e.Roles))
		}
	}
	st := s.begin(now)
	st.visitSeq++
	v := Visit{
		ID: fmt.Sprintf("V%04d", st.visitSeq), VisitForm: f, Org: visitor.Org, IDDoc: visitor.IDDoc,
		State: sop.to, SubmittedBy: p.ID,
		Steps: []StepRecord{{Step: 1, Action: ActionSubmit, State: sop.to, Actor: p.ID, Started: now.UTC(), At: now.UTC(), Standard: s.cfg.StepStandards[0]}},
	}
	st.emit(Event{Type: EventVisitStep, Person: v.VisitorID, Visit: v.ID, Actor: p.ID, Via: by.via(), Detail: string(ActionSubmit)}, st.sealVisit(v))
	return st, v, nil
}

// step takes a workflow step on a visit, after checking the state, the role
// and separation of duties, in that order.
func (s *state) step(now time.Time, id string, a Action, by Actor, note string) (*step, Visit, error) {
	sop, ok := workflow[a]
	if !ok || a == ActionSubmit {
		_, err := ParseAction(string(a))
		return nil, Visit{}, err
	}
	v, ok, err := s.rec.Visit(id)
	if err != nil {
		return nil, Visit{}, err
	}
	if !ok {
		return nil, Visit{}, fmt.Errorf("%w: unknown visit %q", ErrNotFound, id)
	}
	v = v.clone()
	if !slices.Contains(sop.from, v.State) {
		return nil, Visit{}, fmt.Errorf("%w: visit %s is %s; %s (SOP step %d) needs it %s", ErrWrongState, v.ID, v.State, a, sop.step, joinStates(sop.from))
	}
	if a == ActionReturnID && v.IDReturned {
		return nil, Visit{}, fmt.Errorf("%w: visit %s: the visitor's ID was already returned", ErrWrongState, v.ID)
	}
	if a == ActionReport && !v.IDReturned {
		return nil, Visit{}, fmt.Errorf("%w: visit %s: step 5 is not done: the admin must return the visitor's ID first (return-id)", ErrWrongState, v.ID)
	}
	p, err := s.stepActor(by, a, sop)
	if err != nil {
		return nil, Visit{}, err
	}
	for _, n := range separate[sop.step] {
		if prev, ok := v.Step(n); ok && prev.Actor == p.ID {
			return nil, Visit{}, &SeparationError{Person: p.ID, Took: n, TookAction: prev.Action, Visit: v.ID, Action: a, Steps: separationText(sop.step)}
		}
	}
	note = normalizeNote(note)
	if sop.note != "" && note == "" {
		return nil, Visit{}, fmt.Errorf("%w: %s needs a %s", ErrInvalid, a, sop.note)
	}
	st := s.begin(now)
	if a == ActionReturnID {
		// The admin's record of the exit stands even if the visitor never
		// badged out; leave moves the visit to exited.
		st.leave(v.VisitorID, p.ID)
		nv, _ := st.visit(v.ID)
		v = nv.clone()
		v.IDReturned = true
	}
	started := v.Steps[len(v.Steps)-1].At
	if a == ActionReturnID {
		started = v.ExitedAt
	}
	v.State = sop.to
	v.Steps = append(v.Steps, StepRecord{Step: sop.step, Action: a, State: sop.to, Actor: p.ID,
		Started: started, At: now.UTC(), Standard: s.cfg.StepStandards[sop.step-1], Note: note})
	detail := string(a)
	if note != "" {
		detail += ": " + note
	}
	st.emit(Event{Type: EventVisitStep, Person: v.VisitorID, Visit: v.ID, Actor: p.ID, Via: by.via(), Detail: detail}, st.sealVisit(v))
	return st, v, nil
}

// separationText names the steps that go to different people with step n.
func separationText(n int) string {
	if n <= 3 {
		return "1, 2 and 3"
	}
	return "6 and 7"
}

func joinStates(ss []VisitState) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, " or ")
}

// NextStep is a workflow action a visit's state allows now, as a person
// would be offered it.
type NextStep struct {
	Action Action
	Step   int  // the SOP step
	Role   Role // the role it needs
	// Note names what the action needs written ("reason", "report
	// text"); empty when it needs none.
	Note string
	// Refusal is why the person may not take it (ErrWrongRole,
	// ErrSeparation), or nil if they may.
	Refusal error
}

// NextSteps lists the actions the workflow allows on v now, in SOP order,
// and whether p may take each: the same checks, in the same order, as
// taking the step (a state the visit is not in offers nothing). It is what
// the console shows; taking the step checks again.
func NextSteps(v Visit, p Person) []NextStep {
	var out []NextStep
	for _, a := range []Action{ActionCheck, ActionApprove, ActionReject, ActionReturnID, ActionReport, ActionOrderArchive, ActionArchive} {
		sop := workflow[a]
		if !slices.Contains(sop.from, v.State) || (a == ActionReturnID && v.IDReturned) || (a == ActionReport && !v.IDReturned) {
			continue
		}
		ns := NextStep{Action: a, Step: sop.step, Role: sop.role, Note: sop.note}
		switch {
		case p.Disabled:
			ns.Refusal = fmt.Errorf("%w: %s is disabled and may take no action", ErrWrongRole, p.ID)
		case !p.Has(sop.role):
			ns.Refusal = fmt.Errorf("%w: %s (%s) may not %s: SOP step %d is for %s", ErrWrongRole, p.ID, rolesText(p.Roles), a, sop.step, sop.role)
		default:
			for _, n := range separate[sop.step] {
				if prev, ok := v.Step(n); ok && prev.Actor == p.ID {
					ns.Refusal = &SeparationError{Person: p.ID, Took: n, TookAction: prev.Action, Visit: v.ID, Action: a, Steps: separationText(sop.step)}
					break
				}
			}
		}
		out = append(out, ns)
	}
	return out
}

// SeparationError is a step refused because the person took an earlier
// step of the visit that the SOP gives to someone else.
type SeparationError struct {
	Person     string
	Took       int    // the earlier step they took
	TookAction Action // and its action
	Visit      string
	Action     Action // what they may not also do
	Steps      string // the steps that go to different people: "1, 2 and 3" or "6 and 7"
}

func (e *SeparationError) Error() string {
	return fmt.Sprintf("%s: %s took step %d (%s) of visit %s and may not also %s it: SOP steps %s are for different people",
		ErrSeparation, e.Person, e.Took, e.TookAction, e.Visit, e.Action, e.Steps)
}

// Is makes errors.Is(err, ErrSeparation) true.
func (e *SeparationError) Is(target error) bool { return target == ErrSeparation }
