package controller

import (
	"fmt"
	"slices"
	"time"
)

// This file is what time alone does: relock, expire waiting reads, raise
// held-open, overstay and clock alarms; and the start, stop and tick steps
// built around it.

// housekeep runs first in every input's step, so that a decision never
// rests on something that has already run out.
func (st *step) housekeep() {
	now := st.now
	if !st.trusted {
		st.raise(Alarm{Kind: AlarmClockUnsynced})
	} else {
		st.clear(AlarmClockUnsynced, func(Alarm) bool { return true })
	}
	for _, name := range st.s.doorNames() {
		d := st.peek(name)
		if d.unlocked && !now.Before(d.relockAt) {
			st.relock(name, "unlock time over")
		}
		window := st.cfg(name).EscortWindow
		expired := func(at time.Time) bool { return !now.Before(at.Add(window)) }
		d = st.peek(name)
		if slices.ContainsFunc(d.waiting, func(w waiter) bool { return expired(w.at) }) {
			w := st.door(name)
			for _, x := range w.waiting {
				if !expired(x.at) {
					continue
				}
				r, what := ReasonEscortRequired, "no escort read"
				if v, ok := st.visit(x.visit); ok && st.cfg(name).TwoPerson &&
					slices.ContainsFunc(w.recent, func(t staffTap) bool { return escortFor(v, t) }) {
					r, what = ReasonTwoPersonRequired, "no second staff read"
				}
				st.emit(Event{Type: EventAccess, Door: name, Reader: x.reader, Card: x.card, Person: x.person, Visit: x.visit,
					Decision: Denied, Reason: r, Detail: fmt.Sprintf("decides %s; %s within %s", x.ref, what, window)})
			}
			w.waiting = slices.DeleteFunc(w.waiting, func(x waiter) bool { return expired(x.at) })
		}
		d = st.peek(name)
		if slices.ContainsFunc(d.recent, func(t staffTap) bool { return expired(t.at) }) {
			w := st.door(name)
			for _, t := range w.recent {
				if t.pending && expired(t.at) {
					st.emit(Event{Type: EventAccess, Door: name, Reader: t.read.reader, Card: t.read.card, Person: t.person,
						Decision: Denied, Reason: ReasonTwoPersonRequired, Detail: fmt.Sprintf("decides read #%d; no second staff read within %s", t.seq, window)})
				}
			}
			w.recent = slices.DeleteFunc(w.recent, func(t staffTap) bool { return expired(t.at) })
		}
		d = st.peek(name)
		if d.open && !now.Before(d.openedAt.Add(st.cfg(name).HeldOpen)) {
			st.raise(Alarm{Kind: AlarmHeldOpen, Door: name})
		}
	}
	for _, o := range st.visitorsInside() {
		if v, ok := st.visit(o.Visit); ok && !now.Before(v.Until) {
			st.raise(Alarm{Kind: AlarmOverstay, Door: o.Door, Person: o.Person, Visit: o.Visit})
		}
	}
}

// activeAlarm reports whether an alarm like a is active.
func (s *state) activeAlarm(a Alarm) bool {
	for _, x := range s.alarms {
		if x.Active && x.key() == a.key() {
			return true
		}
	}
	return false
}

// nextDeadline is when time alone will next change something.
func (s *state) nextDeadline() (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for name, d := range s.doors {
		rt := &d.rt
		if rt.unlocked {
			consider(rt.relockAt)
		}
		for _, w := range rt.waiting {
			consider(w.at.Add(d.cfg.EscortWindow))
		}
		for _, t := range rt.recent {
			if t.pending { // the others run out without anything to record
				consider(t.at.Add(d.cfg.EscortWindow))
			}
		}
		if rt.open && !s.activeAlarm(Alarm{Kind: AlarmHeldOpen, Door: name}) {
			consider(rt.openedAt.Add(d.cfg.HeldOpen))
		}
	}
	for p := range s.guests {
		o := s.inside[p]
		if !s.activeAlarm(Alarm{Kind: AlarmOverstay, Door: o.Door, Person: o.Person, Visit: o.Visit}) {
			// A visit that cannot be read sets no deadline; the read that
			// needs it raises the integrity alarm.
			if v, ok, err := s.rec.Visit(o.Visit); err == nil && ok {
				consider(v.Until)
			}
		}
	}
	return next, !next.IsZero()
}

// start is the first step: it records the start and derives what the
// stored state implies now (an escort who left while pintud was down).
func (s *state) start(now time.Time, notes []StartNote) *step {
	st := s.begin(now)
	for _, n := range notes {
		st.emit(Event{Type: n.Type, Detail: truncate(n.Detail)})
	}
	for _, b := range s.startFaults {
		st.addBreak(b)
	}
	if s.startCheckpoint.Seq > 0 {
		st.advanceCheckpoint(s.startCheckpoint)
	}
	st.emit(Event{Type: EventStarted, Detail: fmt.Sprintf("%d doors, %d people, %d inside", len(s.doors), s.numPeople, len(s.inside))})
	st.forgetCommands()
	for _, o := range st.visitorsInside() {
		if o.Escort != "" {
			if _, in := st.occupant(o.Escort); !in {
				st.raise(Alarm{Kind: AlarmVisitorUnescorted, Door: o.Door, Person: o.Person, Visit: o.Visit})
			}
		}
	}
	st.housekeep()
	return st
}

func (s *state) stop(now time.Time) *step {
	st := s.begin(now)
	for _, name := range s.doorNames() {
		st.relock(name, "stopping")
	}
	st.emit(Event{Type: EventStopped})
	return st
}

func (s *state) tick(now time.Time) *step {
	st := s.begin(now)
	st.housekeep()
	return st
}
