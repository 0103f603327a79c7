package controller

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// rig drives the state directly with explicit times, committing every txn to
// an in-test log, so domain tests need no goroutine and no clock.
type rig struct {
	t      *testing.T
	s      *state
	now    time.Time
	log    []Event
	strike map[string]bool // last strike write per door: true = unlocked
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newRig(t *testing.T, mod ...func(*Config)) *rig {
	t.Helper()
	cfg := DefaultConfig()
	for _, m := range mod {
		m(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := newState(cfg, Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, s: s, now: t0, strike: map[string]bool{}}
	r.commit(s.start(r.now))
	return r
}

func (r *rig) commit(tx *txn) {
	r.t.Helper()
	if tx == nil {
		return
	}
	r.s.seal(tx)
	r.log = append(r.log, tx.change.Events...)
	for _, st := range tx.strikes {
		r.strike[st.door] = st.unlocked
	}
}

func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	r.now = r.now.Add(d)
	r.commit(r.s.tick(r.now))
}

func (r *rig) must(tx *txn, err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
	r.commit(tx)
}

func (r *rig) person(id string, roles ...Role) {
	r.t.Helper()
	r.must(r.s.addPerson(r.now, Person{ID: id, Name: "Name of " + id, Roles: roles}, "test"))
	r.must(r.s.assignCard(r.now, "card-"+id, id, "test"))
}

func (r *rig) tap(reader, person string) Result {
	r.t.Helper()
	res, tx, err := r.s.tap(r.now, "server-room", reader, "card-"+person)
	if err != nil {
		r.t.Fatalf("tap %s %s: %v", reader, person, err)
	}
	r.commit(tx)
	return res
}

func (r *rig) contact(open bool) {
	r.t.Helper()
	r.must(r.s.contact(r.now, "server-room", open))
}

func (r *rig) step(visit string, a Action, by, note string) error {
	r.t.Helper()
	tx, err := r.s.step(r.now, visit, a, by, note)
	if err == nil {
		r.commit(tx)
	}
	return err
}

// staff sets up the usual cast: admin, coordinator, head, officer, visitor.
func (r *rig) staff() {
	r.person("adi", RoleAdmin)
	r.person("citra", RoleCoordinator)
	r.person("hasan", RoleHead)
	r.person("oki", RoleOfficer)
	r.person("vina", RoleVisitor)
}

// approvedVisit walks a visit for vina through steps 1–3.
func (r *rig) approvedVisit(escort string) string {
	r.t.Helper()
	tx, err := r.s.submit(r.now, VisitForm{VisitorID: "vina", Purpose: "replace disk", EscortID: escort}, "adi")
	if err != nil {
		r.t.Fatal(err)
	}
	r.commit(tx)
	id := tx.change.Visits[0].ID
	for _, st := range []struct {
		a  Action
		by string
	}{{ActionCheck, "citra"}, {ActionApprove, "hasan"}} {
		if err := r.step(id, st.a, st.by, ""); err != nil {
			r.t.Fatal(err)
		}
	}
	return id
}

func (r *rig) alarms() []AlarmKind {
	var ks []AlarmKind
	for _, a := range r.s.status(r.now).Alarms {
		ks = append(ks, a.Kind)
	}
	return ks
}

func (r *rig) hasAlarm(k AlarmKind) bool { return slices.Contains(r.alarms(), k) }

func (r *rig) inside(id string) bool { _, ok := r.s.inside[id]; return ok }

func (r *rig) visitState(id string) VisitState { return r.s.visits[id].State }

// verify checks the rig's log is a valid hash chain.
func (r *rig) verify() {
	r.t.Helper()
	var v Verifier
	for _, e := range r.log {
		if err := v.Next(e); err != nil {
			r.t.Fatal(err)
		}
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }
