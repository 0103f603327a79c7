package controller

import (
	"errors"
	"testing"
	"time"
)

// TestWorkflowWholeVisit walks one visit through all eight SOP steps and
// checks each step's record: who, when, how long against the standard.
func TestWorkflowWholeVisit(t *testing.T) {
	r := newRig(t)
	r.staff()
	id := r.approvedVisit("")
	r.advance(time.Minute)
	if got := r.tap("entry", "oki"); got.Decision != Granted {
		t.Fatalf("escort tap = %v, want granted", got)
	}
	r.advance(10 * time.Second)
	if got := r.tap("entry", "vina"); got.Decision != Granted || got.Visit != id {
		t.Fatalf("visitor tap = %v, want granted for %s", got, id)
	}
	if r.visitState(id) != StateInside {
		t.Fatalf("state after entry = %s, want inside", r.visitState(id))
	}
	r.advance(20 * time.Minute)
	r.tap("exit", "vina")
	r.tap("exit", "oki")
	if r.visitState(id) != StateExited {
		t.Fatalf("state after exit = %s, want exited", r.visitState(id))
	}
	steps := []struct {
		a    Action
		by   string
		note string
		want VisitState
	}{
		{ActionReturnID, "adi", "", StateExited},
		{ActionReport, "citra", "disk replaced in rack 3", StateReported},
		{ActionOrderArchive, "hasan", "", StateArchiveOrdered},
		{ActionArchive, "adi", "", StateArchived},
	}
	for _, st := range steps {
		r.advance(3 * time.Minute)
		if err := r.step(id, st.a, st.by, st.note); err != nil {
			t.Fatalf("%s by %s: %v", st.a, st.by, err)
		}
		if got := r.visitState(id); got != st.want {
			t.Fatalf("after %s state = %s, want %s", st.a, got, st.want)
		}
	}
	v := r.visit(id)
	var got []int
	for _, s := range v.Steps {
		got = append(got, s.Step)
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !equalInts(got, want) {
		t.Fatalf("steps taken = %v, want %v", got, want)
	}
	s4, _ := v.Step(4)
	if s4.Actor != "oki" || s4.Took() != 20*time.Minute || s4.Standard != 15*time.Minute {
		t.Errorf("step 4 = actor %s took %s standard %s, want oki 20m0s 15m0s", s4.Actor, s4.Took(), s4.Standard)
	}
	s5, _ := v.Step(5)
	if s5.Took() != 3*time.Minute || s5.Standard != 5*time.Minute {
		t.Errorf("step 5 took %s standard %s, want 3m0s 5m0s", s5.Took(), s5.Standard)
	}
	if !v.IDReturned || v.ExitedAt.IsZero() || v.EnteredAt.IsZero() || v.EscortedBy != "oki" {
		t.Errorf("visit = %+v, want entry, exit, escort and ID returned recorded", v)
	}
	r.verify()
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWorkflowRefusals covers, for every SOP step, the wrong role, the wrong
// order and (step 3) the submitter deciding, and checks nothing changed.
func TestWorkflowRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *rig, id string) // brings the visit to the state the step is tried from
		a     Action
		by    string
		note  string
		want  error
	}{
		{"check by admin", nil, ActionCheck, "adi", "", ErrWrongRole},
		{"check by officer", nil, ActionCheck, "oki", "", ErrWrongRole},
		{"approve before check", nil, ActionApprove, "hasan", "", ErrWrongState},
		{"reject before check", nil, ActionReject, "hasan", "no", ErrWrongState},
		{"approve by coordinator", checked, ActionApprove, "citra", "", ErrWrongRole},
		{"approve by submitter", checked, ActionApprove, "boss", "", ErrSeparation},
		{"reject by submitter", checked, ActionReject, "boss", "no", ErrSeparation},
		{"reject without reason", checked, ActionReject, "hasan", "", ErrInvalid},
		{"check twice", checked, ActionCheck, "citra", "", ErrWrongState},
		{"return-id before entry", approved, ActionReturnID, "adi", "", ErrWrongState},
		{"report before exit", approved, ActionReport, "citra", "done", ErrWrongState},
		{"return-id by officer", inside, ActionReturnID, "oki", "", ErrWrongRole},
		{"report before id returned", exitedByReader, ActionReport, "citra", "done", ErrWrongState},
		{"report by head", idReturned, ActionReport, "hasan", "done", ErrWrongRole},
		{"report without text", idReturned, ActionReport, "citra", "", ErrInvalid},
		{"order-archive before report", idReturned, ActionOrderArchive, "hasan", "", ErrWrongState},
		{"order-archive by admin", reported, ActionOrderArchive, "adi", "", ErrWrongRole},
		{"archive before order", reported, ActionArchive, "adi", "", ErrWrongState},
		{"archive by coordinator", archiveOrdered, ActionArchive, "citra", "", ErrWrongRole},
		{"unknown actor", checked, ActionApprove, "nobody", "", ErrUnauthenticated},
		{"no actor", checked, ActionApprove, "", "", ErrUnauthenticated},
		{"unknown action", checked, Action("bless"), "hasan", "", ErrInvalid},
		{"submit through step", nil, ActionSubmit, "adi", "", ErrInvalid},
		{"enter through step", approved, ActionEnter, "oki", "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.staff()
			r.person("boss", RoleAdmin, RoleHead) // may submit and approve, but not the same visit
			id, err := r.submit(VisitForm{VisitorID: "vina", Purpose: "audit"}, "boss")
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(r, id)
			}
			before, n := r.visit(id).clone(), len(r.log())
			err = r.step(id, tt.a, tt.by, tt.note)
			if !isErr(err, tt.want) {
				t.Fatalf("step(%s by %q) = %v, want %v", tt.a, tt.by, err, tt.want)
			}
			if got := len(r.log()); got != n {
				t.Errorf("refused step wrote %d events", got-n)
			}
			if after := r.visit(id); after.State != before.State || len(after.Steps) != len(before.Steps) {
				t.Errorf("refused step changed the visit: %s/%d steps, was %s/%d", after.State, len(after.Steps), before.State, len(before.Steps))
			}
		})
	}
}

func checked(r *rig, id string) {
	r.t.Helper()
	if err := r.step(id, ActionCheck, "citra", ""); err != nil {
		r.t.Fatal(err)
	}
}

func approved(r *rig, id string) {
	r.t.Helper()
	checked(r, id)
	if err := r.step(id, ActionApprove, "hasan", ""); err != nil {
		r.t.Fatal(err)
	}
}

func inside(r *rig, id string) {
	r.t.Helper()
	approved(r, id)
	r.tap("entry", "oki")
	if res := r.tap("entry", "vina"); res.Decision != Granted {
		r.t.Fatalf("visitor entry = %+v", res)
	}
}

func exitedByReader(r *rig, id string) {
	r.t.Helper()
	inside(r, id)
	r.tap("exit", "vina")
}

func idReturned(r *rig, id string) {
	r.t.Helper()
	exitedByReader(r, id)
	if err := r.step(id, ActionReturnID, "adi", ""); err != nil {
		r.t.Fatal(err)
	}
}

func reported(r *rig, id string) {
	r.t.Helper()
	idReturned(r, id)
	if err := r.step(id, ActionReport, "citra", "ok"); err != nil {
		r.t.Fatal(err)
	}
}

func archiveOrdered(r *rig, id string) {
	r.t.Helper()
	reported(r, id)
	if err := r.step(id, ActionOrderArchive, "hasan", ""); err != nil {
		r.t.Fatal(err)
	}
}

func TestRejectEndsVisit(t *testing.T) {
	r := newRig(t)
	r.staff()
	id, err := r.submit(VisitForm{VisitorID: "vina", Purpose: "audit"}, "adi")
	if err != nil {
		t.Fatal(err)
	}
	checked(r, id)
	if err := r.step(id, ActionReject, "hasan", "no work order"); err != nil {
		t.Fatal(err)
	}
	if got := r.visitState(id); got != StateRejected {
		t.Fatalf("state = %s, want rejected", got)
	}
	r.tap("entry", "oki")
	if got := r.tap("entry", "vina"); got.Reason != ReasonNotApproved {
		t.Fatalf("tap on rejected visit = %+v, want not_approved", got)
	}
	s3, _ := r.visit(id).Step(3)
	if s3.Note != "no work order" || s3.Actor != "hasan" {
		t.Errorf("step 3 = %+v, want the rejection reason and hasan", s3)
	}
}

// TestReturnIDRecordsExit: a visitor who tailgated out is recorded leaving
// when the admin returns their ID.
func TestReturnIDRecordsExit(t *testing.T) {
	r := newRig(t)
	r.staff()
	id := r.approvedVisit("")
	r.tap("entry", "oki")
	r.tap("entry", "vina")
	r.advance(5 * time.Minute)
	if err := r.step(id, ActionReturnID, "adi", ""); err != nil {
		t.Fatal(err)
	}
	v := r.visit(id)
	if v.State != StateExited || !v.IDReturned || r.inside("vina") {
		t.Fatalf("after return-id: state %s id returned %v inside %v; want exited, true, false", v.State, v.IDReturned, r.inside("vina"))
	}
	if err := r.step(id, ActionReturnID, "adi", ""); !isErr(err, ErrWrongState) {
		t.Fatalf("second return-id = %v, want ErrWrongState", err)
	}
}

func TestSubmitRefusals(t *testing.T) {
	tests := []struct {
		name string
		form VisitForm
		by   string
		want error
	}{
		{"by officer", VisitForm{VisitorID: "vina", Purpose: "x"}, "oki", ErrWrongRole},
		{"unknown submitter", VisitForm{VisitorID: "vina", Purpose: "x"}, "ghost", ErrUnauthenticated},
		{"unknown visitor", VisitForm{VisitorID: "ghost", Purpose: "x"}, "adi", ErrNotFound},
		{"staff as visitor", VisitForm{VisitorID: "oki", Purpose: "x"}, "adi", ErrInvalid},
		{"no purpose", VisitForm{VisitorID: "vina", Purpose: "  "}, "adi", ErrInvalid},
		{"ends before start", VisitForm{VisitorID: "vina", Purpose: "x", From: t0, Until: t0.Add(-time.Hour)}, "adi", ErrInvalid},
		{"escort may not escort", VisitForm{VisitorID: "vina", Purpose: "x", EscortID: "hasan"}, "adi", ErrInvalid},
		{"unknown escort", VisitForm{VisitorID: "vina", Purpose: "x", EscortID: "ghost"}, "adi", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.staff()
			n := len(r.log())
			if _, _, err := r.s.submit(r.now, tt.form, as(tt.by)); !isErr(err, tt.want) {
				t.Fatalf("submit = %v, want %v", err, tt.want)
			}
			if len(r.log()) != n || r.storeVisits() != 0 || r.s.visitSeq != 0 {
				t.Fatalf("refused submit changed state")
			}
		})
	}
}

func TestSubmitDefaults(t *testing.T) {
	r := newRig(t)
	r.staff()
	id, err := r.submit(VisitForm{VisitorID: "vina", Purpose: "x"}, "adi")
	if err != nil {
		t.Fatal(err)
	}
	v := r.visit(id)
	if !v.From.Equal(t0) || !v.Until.Equal(t0.Add(2*time.Hour)) || v.ID != "V0001" || v.State != StateSubmitted {
		t.Fatalf("visit = %s %s..%s %s, want V0001 %s..%s submitted", v.ID, v.From, v.Until, v.State, t0, t0.Add(2*time.Hour))
	}
}

// NextSteps offers exactly what taking the step allows: at each state of a
// visit walked through the SOP, for every person, an action it lists is
// refused for the reason it gives (or taken), and an action it does not
// list is refused for the visit's state.
func TestNextStepsAgreesWithStep(t *testing.T) {
	r := newRig(t)
	r.staff()
	r.person("boss", RoleAdmin, RoleHead, RoleCoordinator) // may do anything, but not twice on one visit
	people := []string{"adi", "citra", "hasan", "oki", "boss"}
	all := []Action{ActionCheck, ActionApprove, ActionReject, ActionReturnID, ActionReport, ActionOrderArchive, ActionArchive}
	id, err := r.submit(VisitForm{VisitorID: "vina", Purpose: "disk"}, "boss")
	if err != nil {
		t.Fatal(err)
	}
	// Each stage: the step that moves the visit on, by whom.
	path := []struct {
		a  Action
		by string
	}{{ActionCheck, "citra"}, {ActionApprove, "hasan"}, {"", ""}, {ActionReturnID, "adi"}, {ActionReport, "boss"}, {ActionOrderArchive, "hasan"}, {ActionArchive, "adi"}, {"", ""}}
	for _, next := range path {
		v := r.visit(id)
		for _, who := range people {
			p, _, _ := r.s.rec.Person(who)
			offered := map[Action]NextStep{}
			for _, ns := range NextSteps(v, p) {
				offered[ns.Action] = ns
			}
			for _, a := range all {
				_, _, err := r.s.step(r.now, id, a, as(who), "a note")
				ns, ok := offered[a]
				switch {
				case !ok && !isErr(err, ErrWrongState):
					t.Errorf("%s, %s: %s not offered, but step = %v", v.State, who, a, err)
				case ok && ns.Refusal == nil && err != nil:
					t.Errorf("%s, %s: %s offered, but step = %v", v.State, who, a, err)
				case ok && ns.Refusal != nil && (err == nil || err.Error() != ns.Refusal.Error()):
					t.Errorf("%s, %s: %s refused as %v, but step = %v", v.State, who, a, ns.Refusal, err)
				}
			}
		}
		switch {
		case next.a != "":
			if err := r.step(id, next.a, next.by, "work done"); err != nil {
				t.Fatalf("%s by %s: %v", next.a, next.by, err)
			}
		case r.visit(id).State == StateApproved:
			r.tap("entry", "vina")
			r.tap("entry", "oki")
		}
	}
	// boss submitted, so may neither check nor approve: the refusal says so.
	id2, _ := r.submit(VisitForm{VisitorID: "vina", Purpose: "disk"}, "boss")
	boss, _, _ := r.s.rec.Person("boss")
	ns := NextSteps(r.visit(id2), boss)
	var sep *SeparationError
	if len(ns) != 1 || !errors.As(ns[0].Refusal, &sep) || sep.Took != 1 || sep.Steps != "1, 2 and 3" {
		t.Errorf("NextSteps for the submitter = %+v, want check refused for separation of duties", ns)
	}
}
