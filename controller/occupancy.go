package controller

// This file is occupancy: who is inside, and the visitor_unescorted alarm
// that follows an escort leaving their visitor.

// enter records o inside.
func (st *step) enter(o Occupant) { st.setPresence(o.Person, o, true) }

// enters records a staff member inside through read seq; an escort coming
// back ends the visitor_unescorted alarm for the visitors they brought in.
func (st *step) enters(name, person string, seq uint64) {
	if o, in := st.occupant(person); in && o.Door == name {
		return
	}
	st.enter(Occupant{Person: person, Door: name, Since: st.now.UTC(), Seq: seq})
	st.clear(AlarmVisitorUnescorted, func(a Alarm) bool {
		o, in := st.occupant(a.Person)
		return in && o.Escort == person
	})
}

// leave records a person leaving. A visitor's visit moves to exited; an
// escort leaving a visitor behind raises visitor_unescorted.
func (st *step) leave(person, actor string) {
	o, in := st.occupant(person)
	if !in {
		return
	}
	st.setPresence(person, o, false)
	if o.Visit != "" {
		if v, ok := st.visit(o.Visit); ok && v.State == StateInside {
			v = v.clone()
			v.State, v.ExitedAt = StateExited, st.now.UTC()
			for i := range v.Steps {
				if v.Steps[i].Step == 4 {
					v.Steps[i].At = st.now.UTC()
				}
			}
			st.emit(Event{Type: EventVisitStep, Door: o.Door, Person: person, Visit: v.ID, Actor: actor, Detail: string(ActionExit)}, st.sealVisit(v))
		}
		for _, k := range []AlarmKind{AlarmVisitorUnescorted, AlarmOverstay} {
			st.clear(k, func(a Alarm) bool { return a.Visit == o.Visit })
		}
	}
	for _, v := range st.visitorsInside() {
		if v.Escort == person {
			st.raise(Alarm{Kind: AlarmVisitorUnescorted, Door: v.Door, Person: v.Person, Visit: v.Visit})
		}
	}
}
