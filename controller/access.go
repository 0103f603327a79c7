package controller

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file is the access rule: what a read at an entry or exit reader
// decides, and how visitors pair with their escort.
//
// An escort is a person who is present: a staff read pairs with a visitor
// only while it is inside the door's escort window and the person has not
// left since (an exit read, a read at another door, or a REX at that door;
// a REX does not say who left, so it ends every such read at its door).
// On a two-person door a visitor also needs a second staff member with room
// access, another person, reading in the window. A visitor's read that
// waits is checked again in full when the read it waits for arrives. No
// event names a read that did not happen: a decision taken later names the
// read it decides ("decides read #N"), and a grant names the escort's read.

// waiter is a visitor's read waiting for an escort (and a second).
type waiter struct {
	person string
	card   string // empty for a remote unlock
	reader string
	visit  string
	ref    string // "read #N" or "remote command #N": what the later decision decides
	at     time.Time
}

// staffTap is a staff read at a door, remembered for the escort window:
// a visitor may pair with it, and on a two-person door a pending one waits
// for a second.
type staffTap struct {
	person    string
	seq       uint64 // its audit event
	at        time.Time
	read      *tapRead // set while pending: for the read's later decision
	canEscort bool
	access    bool
	pending   bool // waiting for a second on a two-person door: not inside
}

// tapRead is where a pending staff read was made. Only pending reads carry
// it, which keeps the reads every door remembers small.
type tapRead struct{ card, reader string }

// maxRecent bounds the staff reads a door remembers: a burst of reads must
// not make every later input slower.
const maxRecent = 16

func (s *state) tap(now time.Time, doorName, reader, card string) (Result, *step, error) {
	d, err := s.door(doorName)
	if err != nil {
		return Result{}, nil, err
	}
	dir, ok := d.readers[reader]
	if !ok {
		return Result{}, nil, fmt.Errorf("%w: door %q has no reader %q", ErrNotFound, doorName, reader)
	}
	card = strings.TrimSpace(card)
	if card == "" {
		return Result{}, nil, fmt.Errorf("%w: empty card number", ErrInvalid)
	}
	st := s.begin(now)
	st.housekeep()
	if dir == Exit {
		return st.exitRead(doorName, reader, card), st, nil
	}
	return st.entryRead(doorName, reader, card), st, nil
}

// holder finds who a card belongs to, or why it opens nothing. A card or
// person record that fails its integrity check opens nothing.
func (st *step) holder(cardID string) (Person, Reason, string) {
	n := len(st.faults)
	c, ok := st.card(cardID)
	if len(st.faults) > n {
		return Person{}, ReasonIntegrityFailure, "the card's record failed its integrity check"
	}
	if !ok {
		return Person{}, ReasonUnknownCard, ""
	}
	p, ok := st.person(c.PersonID)
	switch {
	case len(st.faults) > n:
		return Person{ID: c.PersonID}, ReasonIntegrityFailure, "the person's record failed its integrity check"
	case !ok:
		return Person{}, ReasonUnknownCard, ""
	case c.Revoked:
		return p, ReasonRevoked, ""
	case p.Disabled:
		return p, ReasonRevoked, "person disabled"
	}
	return p, "", ""
}

func (st *step) entryRead(name, reader, cardID string) Result {
	base := Event{Door: name, Reader: reader, Card: cardID}
	p, r, why := st.holder(cardID)
	base.Person = p.ID
	if r != "" {
		base.Detail = why
		return st.decide(base, Denied, r)
	}
	// A break in the log or a record not yet accepted by a head: no entry,
	// whoever reads.
	if st.broken() {
		base.Detail = "integrity check failed; entry is refused until the head accepts the break"
		return st.decide(base, Denied, ReasonIntegrityFailure)
	}
	// The person is here now: what they read before, here or at another
	// door, no longer counts.
	st.dropReadsOf(p.ID, "", "superseded by a new read at "+name)
	if st.peek(name).lockdown {
		return st.decide(base, Denied, ReasonLockdown)
	}
	if p.IsVisitor() {
		return st.visitorRead(name, base, p)
	}
	return st.staffRead(name, base, p)
}

// visitFor is the visitor's part of the rule: the visit they may enter on
// now, or why not. It sets e.Visit to the visit it is about.
func (st *step) visitFor(p Person, e *Event) (Visit, Reason) {
	if o, in := st.occupant(p.ID); in {
		e.Visit = o.Visit
		return Visit{}, ReasonAlreadyInside
	}
	ids := st.visitsOf(p.ID)
	var approved []Visit
	for _, id := range ids {
		if v, _ := st.visit(id); v.State == StateApproved {
			approved = append(approved, v)
		}
	}
	if len(approved) == 0 {
		if len(ids) > 0 {
			e.Visit = ids[len(ids)-1]
		}
		return Visit{}, ReasonNotApproved
	}
	e.Visit = approved[0].ID
	// Visit windows mean nothing on a clock that cannot be trusted.
	if !st.trusted {
		return Visit{}, ReasonClockUnsynced
	}
	i := slices.IndexFunc(approved, func(v Visit) bool { return !st.now.Before(v.From) && st.now.Before(v.Until) })
	if i < 0 {
		return Visit{}, ReasonOutsideWindow
	}
	e.Visit = approved[i].ID
	return approved[i], ""
}

// escortFor reports whether a staff read may escort the visit's visitor.
func escortFor(v Visit, t staffTap) bool {
	return t.canEscort && (v.EscortID == "" || v.EscortID == t.person)
}

// group is who a visitor enters with.
type group struct {
	esc staffTap
	sec *staffTap // the second staff member on a two-person door
}

// groupFor finds, among the staff reads at a door, who the visit's visitor
// may enter with: the latest read by an escort for the visit and, on a
// two-person door, the latest read by another staff member with room
// access. Without one the reason says what is missing:
// escort_not_authorized (only staff who may not escort this visit read),
// waiting_for_escort or waiting_for_second.
func (st *step) groupFor(name string, v Visit) (group, bool, Reason) {
	recent := st.peek(name).recent
	two := st.cfg(name).TwoPerson
	unauthorized, escortSeen := false, false
	for i := len(recent) - 1; i >= 0; i-- {
		e := recent[i]
		if !escortFor(v, e) {
			unauthorized = true
			continue
		}
		if !two {
			return group{esc: e}, true, ""
		}
		escortSeen = true
		for j := len(recent) - 1; j >= 0; j-- {
			if s := recent[j]; s.person != e.person && s.access {
				return group{esc: e, sec: &s}, true, ""
			}
		}
	}
	switch {
	case escortSeen:
		return group{}, false, ReasonWaitingForSecond
	case unauthorized:
		return group{}, false, ReasonEscortNotAuthorized
	}
	return group{}, false, ReasonWaitingForEscort
}

func (st *step) visitorRead(name string, base Event, p Person) Result {
	v, r := st.visitFor(p, &base)
	if st.faulted() {
		base.Detail = "a visit record failed its integrity check"
		return st.decide(base, Denied, ReasonIntegrityFailure)
	}
	if r != "" {
		return st.decide(base, Denied, r)
	}
	seq := st.nextSeq()
	w := waiter{person: p.ID, card: base.Card, reader: base.Reader, visit: v.ID, ref: fmt.Sprintf("read #%d", seq), at: st.now}
	g, ok, r := st.groupFor(name, v)
	if ok {
		res := st.grantVisitor(name, w, v, g, "", true)
		st.consume(name, g.esc.seq)
		return res
	}
	if r == ReasonEscortNotAuthorized {
		return st.decide(base, Denied, r)
	}
	res := st.decide(base, Pending, r)
	d := st.door(name)
	d.waiting = append(d.waiting, w)
	return res
}

// grantVisitor lets a visitor in with their group: SOP step 4 begins. The
// grant event is the visitor's own read's decision (asResult) or a later
// decision, whose detail starts with prefix ("decides read #N; ").
func (st *step) grantVisitor(name string, w waiter, v Visit, g group, prefix string, asResult bool) Result {
	detail := fmt.Sprintf("%sescorted by %s (read #%d)", prefix, g.esc.person, g.esc.seq)
	if g.sec != nil {
		detail += fmt.Sprintf(", second %s (read #%d)", g.sec.person, g.sec.seq)
	}
	e := Event{Door: name, Reader: w.reader, Card: w.card, Person: w.person, Visit: v.ID, Actor: g.esc.person, Detail: detail}
	var res Result
	if asResult {
		res = st.decide(e, Granted, "")
	} else {
		e.Type, e.Decision = EventAccess, Granted
		st.emit(e)
	}
	grant := st.lastSeq
	st.staffEnters(name, g.esc, "escort of "+v.ID)
	if g.sec != nil {
		st.staffEnters(name, *g.sec, "second for "+v.ID)
	}
	now := st.now.UTC()
	st.enter(Occupant{Person: v.VisitorID, Door: name, Since: now, Visit: v.ID, Escort: g.esc.person, Seq: grant})
	v = v.clone()
	v.State, v.EnteredAt, v.EscortedBy, v.Door = StateInside, now, g.esc.person, name
	v.Steps = append(v.Steps, StepRecord{Step: 4, Action: ActionEnter, State: StateInside, Actor: g.esc.person,
		Started: now, Standard: st.s.cfg.StepStandards[3]})
	st.emit(Event{Type: EventVisitStep, Door: name, Person: v.VisitorID, Visit: v.ID, Actor: g.esc.person, Detail: string(ActionEnter)}, st.sealVisit(v))
	st.unlock(name, st.cfg(name).Unlock)
	return res
}

// staffEnters records a staff member whose read let them in with a
// visitor. A read that was still waiting for a second is decided now.
func (st *step) staffEnters(name string, t staffTap, why string) {
	if i := slices.IndexFunc(st.peek(name).recent, func(x staffTap) bool { return x.seq == t.seq && x.pending }); i >= 0 {
		st.door(name).recent[i].pending = false
		st.emit(Event{Type: EventAccess, Door: name, Reader: t.read.reader, Card: t.read.card, Person: t.person,
			Decision: Granted, Detail: fmt.Sprintf("decides read #%d; %s", t.seq, why)})
	}
	st.enters(name, t.person, t.seq)
}

// consume removes a staff read that escorted: it paired once.
func (st *step) consume(name string, seq uint64) {
	if slices.ContainsFunc(st.peek(name).recent, func(t staffTap) bool { return t.seq == seq }) {
		d := st.door(name)
		d.recent = slices.DeleteFunc(d.recent, func(t staffTap) bool { return t.seq == seq })
	}
}

// partner finds a read by another staff member with room access at a
// two-person door.
func (st *step) partner(name, person string) (staffTap, bool) {
	recent := st.peek(name).recent
	for i := len(recent) - 1; i >= 0; i-- {
		if t := recent[i]; t.person != person && t.access {
			return t, true
		}
	}
	return staffTap{}, false
}

func (st *step) staffRead(name string, base Event, p Person) Result {
	two := st.cfg(name).TwoPerson
	tap := staffTap{person: p.ID, seq: st.nextSeq(), at: st.now, canEscort: st.s.canEscort(p), access: st.s.hasAccess(p)}
	mate, hasMate := staffTap{}, false
	if two && tap.access {
		mate, hasMate = st.partner(name, p.ID)
	}
	tap.pending = two && tap.access && !hasMate
	if tap.pending {
		tap.read = &tapRead{card: base.Card, reader: base.Reader}
	}
	d := st.door(name)
	d.recent = append(d.recent, tap)

	// What this read settles for the reads waiting here, judged before its
	// own event is written so that the event can say so.
	plan := st.plan(name, tap)
	roles := plan.rolesOf(p.ID)
	var res Result
	switch {
	case len(roles) > 0:
		base.Detail = strings.Join(roles, ", ")
		res = st.decide(base, Granted, "")
	case tap.access && !tap.pending:
		if hasMate {
			base.Detail = fmt.Sprintf("two-person with %s (read #%d)", mate.person, mate.seq)
		}
		res = st.decide(base, Granted, "")
	case tap.pending:
		res = st.decide(base, Pending, ReasonWaitingForSecond)
	default:
		if tap.canEscort {
			base.Detail = "no room access alone; may escort a visitor"
		}
		res = st.decide(base, Denied, ReasonNoRoomAccess)
	}
	if res.Decision == Granted {
		if i := slices.IndexFunc(st.peek(name).recent, func(x staffTap) bool { return x.seq == tap.seq }); i >= 0 {
			st.door(name).recent[i].pending = false
		}
		st.enters(name, p.ID, tap.seq)
		if hasMate {
			st.staffEnters(name, mate, fmt.Sprintf("two-person with %s (read #%d)", p.ID, tap.seq))
		}
		st.unlock(name, st.cfg(name).Unlock)
	}
	st.carryOut(name, plan)
	st.trimRecent(name)
	return res
}

// A settlement is what a staff read settles at its door: waiting visitors
// let in or refused, and staff reads waiting for a second let in.
type settlement struct {
	visitors []visitorOutcome
	staff    []staffTap
}

type visitorOutcome struct {
	w      waiter
	v      Visit
	g      group
	grant  bool
	reason Reason
	detail string
}

// rolesOf says what person is to the visitors the settlement lets in.
func (p settlement) rolesOf(person string) []string {
	var out []string
	for _, o := range p.visitors {
		switch {
		case !o.grant:
		case o.g.esc.person == person:
			out = append(out, "escort of "+o.v.ID)
		case o.g.sec != nil && o.g.sec.person == person:
			out = append(out, "second for "+o.v.ID)
		}
	}
	return out
}

// plan works out what the staff read t, already among the door's recent
// reads, settles. Each waiting visitor is checked in full again, as if they
// had just read: card, person, lockdown, visit, clock and window.
func (st *step) plan(name string, t staffTap) settlement {
	var p settlement
	d := st.peek(name)
	for _, w := range d.waiting {
		o := visitorOutcome{w: w}
		var who Person
		if w.card != "" {
			who, o.reason, o.detail = st.holder(w.card)
		} else if pp, ok := st.person(w.person); st.faulted() {
			o.reason, o.detail = ReasonIntegrityFailure, "the person's record failed its integrity check"
		} else if !ok || pp.Disabled {
			o.reason, o.detail = ReasonRevoked, "person disabled"
		} else {
			who = pp
		}
		if o.reason == "" && d.lockdown {
			o.reason = ReasonLockdown
		}
		if o.reason == "" {
			var e Event
			o.v, o.reason = st.visitFor(who, &e)
		}
		if o.reason == "" {
			var ok bool
			var r Reason
			o.g, ok, r = st.groupFor(name, o.v)
			switch {
			case ok:
				o.grant = true
			case r == ReasonEscortNotAuthorized && !escortFor(o.v, t):
				o.reason, o.detail = r, "read by "+t.person+", who may not escort this visit"
			default:
				continue // still waiting
			}
		}
		if o.grant && st.faulted() {
			o.grant, o.reason, o.detail = false, ReasonIntegrityFailure, "a record failed its integrity check"
		}
		if o.detail == "" && !o.grant {
			o.detail = fmt.Sprintf("checked again when %s read", t.person)
		}
		p.visitors = append(p.visitors, o)
	}
	if t.access {
		for _, x := range d.recent {
			if x.pending && x.person != t.person && x.seq != t.seq {
				p.staff = append(p.staff, x)
			}
		}
	}
	return p
}

// carryOut writes the later decisions of a settlement, after the read that
// settled them.
func (st *step) carryOut(name string, p settlement) {
	trigger := st.change.Events[st.result]
	for _, x := range p.staff {
		st.staffEnters(name, x, fmt.Sprintf("two-person with %s (read #%d)", trigger.Person, trigger.Seq))
		st.unlock(name, st.cfg(name).Unlock)
	}
	var escorts []uint64
	for _, o := range p.visitors {
		d := st.door(name)
		d.waiting = slices.DeleteFunc(d.waiting, func(w waiter) bool { return w.person == o.w.person })
		prefix := "decides " + o.w.ref + "; "
		if !o.grant {
			st.emit(Event{Type: EventAccess, Door: name, Reader: o.w.reader, Card: o.w.card, Person: o.w.person,
				Visit: o.w.visit, Decision: Denied, Reason: o.reason, Detail: prefix + o.detail})
			continue
		}
		st.grantVisitor(name, o.w, o.v, o.g, prefix, false)
		escorts = append(escorts, o.g.esc.seq)
	}
	for _, seq := range escorts {
		st.consume(name, seq)
	}
}

// trimRecent keeps the latest maxRecent staff reads of a door; a dropped
// read still waiting for a second is refused.
func (st *step) trimRecent(name string) {
	n := len(st.peek(name).recent) - maxRecent
	if n <= 0 {
		return
	}
	d := st.door(name)
	for _, t := range d.recent[:n] {
		if t.pending {
			st.emit(Event{Type: EventAccess, Door: name, Reader: t.read.reader, Card: t.read.card, Person: t.person,
				Decision: Denied, Reason: ReasonTwoPersonRequired, Detail: fmt.Sprintf("decides read #%d; too many reads at once", t.seq)})
		}
	}
	d.recent = slices.Delete(d.recent, 0, n)
}

// dropReadsOf ends every read of person still waiting or pairing, at every
// door: the person is somewhere else now, or their card no longer vouches
// for them. A read that was waiting gets its decision: refused with reason
// (by default escort_required for a visitor, two_person_required for
// staff), and why.
func (st *step) dropReadsOf(person string, reason Reason, why string) {
	for _, name := range st.s.doorNames() {
		d := st.peek(name)
		if !slices.ContainsFunc(d.waiting, func(w waiter) bool { return w.person == person }) &&
			!slices.ContainsFunc(d.recent, func(t staffTap) bool { return t.person == person }) {
			continue
		}
		w := st.door(name)
		for _, x := range w.waiting {
			if x.person == person {
				st.emit(Event{Type: EventAccess, Door: name, Reader: x.reader, Card: x.card, Person: x.person, Visit: x.visit,
					Decision: Denied, Reason: cmp.Or(reason, ReasonEscortRequired), Detail: "decides " + x.ref + "; " + why})
			}
		}
		for _, t := range w.recent {
			if t.person == person && t.pending {
				st.emit(Event{Type: EventAccess, Door: name, Reader: t.read.reader, Card: t.read.card, Person: t.person,
					Decision: Denied, Reason: cmp.Or(reason, ReasonTwoPersonRequired), Detail: fmt.Sprintf("decides read #%d; %s", t.seq, why)})
			}
		}
		w.waiting = slices.DeleteFunc(w.waiting, func(x waiter) bool { return x.person == person })
		w.recent = slices.DeleteFunc(w.recent, func(t staffTap) bool { return t.person == person })
	}
}

// denyWaiting refuses every read waiting at a door, with reason.
func (st *step) denyWaiting(name string, r Reason, why string) {
	d := st.peek(name)
	if len(d.waiting) == 0 && !slices.ContainsFunc(d.recent, func(t staffTap) bool { return t.pending }) {
		return
	}
	w := st.door(name)
	for _, x := range w.waiting {
		st.emit(Event{Type: EventAccess, Door: name, Reader: x.reader, Card: x.card, Person: x.person, Visit: x.visit,
			Decision: Denied, Reason: r, Detail: "decides " + x.ref + "; " + why})
	}
	for _, t := range w.recent {
		if t.pending {
			st.emit(Event{Type: EventAccess, Door: name, Reader: t.read.reader, Card: t.read.card, Person: t.person,
				Decision: Denied, Reason: r, Detail: fmt.Sprintf("decides read #%d; %s", t.seq, why)})
		}
	}
	w.waiting = nil
	w.recent = slices.DeleteFunc(w.recent, func(t staffTap) bool { return t.pending })
}

// exitRead is a read at an exit reader: egress, so always granted. The
// reader's person has left: their reads elsewhere stop counting.
func (st *step) exitRead(name, reader, cardID string) Result {
	st.egress = true
	e := Event{Type: EventExit, Door: name, Reader: reader, Card: cardID, Decision: Granted}
	c, ok := st.card(cardID)
	switch {
	case !ok:
		e.Reason = ReasonUnknownCard
	case c.Revoked:
		e.Person, e.Reason = c.PersonID, ReasonRevoked
	default:
		e.Person = c.PersonID
		if p, ok := st.person(c.PersonID); ok && p.Disabled {
			e.Reason, e.Detail = ReasonRevoked, "person disabled"
		}
	}
	if o, in := st.occupant(e.Person); in && e.Person != "" {
		e.Visit = o.Visit
	}
	seq := st.emit(e)
	st.result = len(st.change.Events) - 1
	if e.Person != "" {
		st.dropReadsOf(e.Person, "", fmt.Sprintf("left through the exit (read #%d)", seq))
		st.leave(e.Person, "")
	}
	st.unlock(name, st.cfg(name).Unlock)
	return Result{Decision: Granted, Reason: e.Reason, Person: e.Person, Visit: e.Visit}
}
