package controller

import (
	"reflect"
	"testing"
	"time"
)

// TestStepsChangeNothing: computing a step, of any input, changes nothing
// in the state: only apply does. Two rigs take the same inputs; one also
// computes a step for an extra input and drops it; their states stay
// equal.
func TestStepsChangeNothing(t *testing.T) {
	// setup leaves vina waiting for an escort, or (escortFirst) putri's
	// read ready to escort the next visitor.
	setup := func(t *testing.T, escortFirst bool) *rig {
		r := newRig(t)
		r.staff()
		r.person("putri", RoleOfficer)
		r.person("wawan", RoleVisitor)
		r.approvedVisit("")
		r.approvedFor("wawan", "putri")
		r.contact(true)
		r.advance(40 * time.Second) // held open
		if escortFirst {
			r.tap("entry", "putri")
		} else {
			r.tap("entry", "vina")
		}
		return r
	}
	inputs := []struct {
		name        string
		escortFirst bool
		step        func(r *rig) *step
	}{
		{"escort read", false, func(r *rig) *step { _, st, _ := r.s.tap(r.now, "server-room", "entry", "card-oki"); return st }},
		{"visitor read", false, func(r *rig) *step { _, st, _ := r.s.tap(r.now, "server-room", "entry", "card-vina"); return st }},
		{"visitor read after the escort's", true, func(r *rig) *step {
			_, st, _ := r.s.tap(r.now, "server-room", "entry", "card-wawan")
			return st
		}},
		{"exit read", false, func(r *rig) *step { _, st, _ := r.s.tap(r.now, "server-room", "exit", "card-oki"); return st }},
		{"REX", false, func(r *rig) *step { st, _ := r.s.rex(r.now, "server-room"); return st }},
		{"door closes", false, func(r *rig) *step { st, _ := r.s.contact(r.now, "server-room", false); return st }},
		{"tamper", false, func(r *rig) *step { st, _ := r.s.tamper(r.now, "server-room", true); return st }},
		{"lockdown", false, func(r *rig) *step { st, _, _ := r.s.lockdown(r.now, "", true, as("citra")); return st }},
		{"disable", false, func(r *rig) *step { st, _, _ := r.s.setDisabled(r.now, "vina", true, root); return st }},
		{"revoke", false, func(r *rig) *step { st, _ := r.s.revokeCard(r.now, "card-vina", root); return st }},
		{"update", false, func(r *rig) *step {
			n := "X"
			st, _, _ := r.s.updatePerson(r.now, "oki", PersonUpdate{Name: &n}, root)
			return st
		}},
		{"submit", false, func(r *rig) *step {
			st, _, _ := r.s.submit(r.now, VisitForm{VisitorID: "vina", Purpose: "x"}, as("adi"))
			return st
		}},
		{"return-id", true, func(r *rig) *step {
			if !r.inside("wawan") {
				return nil // prepared below
			}
			st, _, _ := r.s.step(r.now, "V0002", ActionReturnID, as("adi"), "")
			return st
		}},
		{"ack", false, func(r *rig) *step {
			a := r.s.listAlarms()[0]
			st, _, _ := r.s.ack(r.now, a.ID, as("hasan"), "")
			return st
		}},
		{"clock stepped back", false, func(r *rig) *step { return r.s.tick(r.now.Add(-time.Hour)) }},
		{"stop", false, func(r *rig) *step { return r.s.stop(r.now) }},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			a, b := setup(t, in.escortFirst), setup(t, in.escortFirst)
			if in.name == "return-id" {
				a.tap("entry", "wawan")
				b.tap("entry", "wawan")
			}
			st := in.step(b)
			if st == nil || st.empty() {
				t.Fatalf("%s made no step; the test would prove nothing", in.name)
			}
			st.finish()
			if !sameState(a.s, b.s) {
				t.Errorf("computing a %s step changed the state", in.name)
			}
			b.s.apply(st)
			if sameState(a.s, b.s) && reflect.DeepEqual(a.store.changes, b.store.changes) {
				t.Errorf("applying a %s step changed nothing", in.name)
			}
		})
	}
}

// sameState compares two states, leaving out the record cache: reading a
// record may fill it, and what it holds is the store's, checked. The keys
// it keeps in memory are compared.
func sameState(a, b *state) bool {
	x, y := *a, *b
	x.rec, y.rec = nil, nil
	return reflect.DeepEqual(x, y) && reflect.DeepEqual(a.rec.Keys(), b.rec.Keys())
}
