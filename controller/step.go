package controller

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// A step is what one input does, computed before anything changes: the
// change to commit (audit events, sealed into the hash chain, and the
// records they write), the relay moves to make, and the runtime values the
// state takes once the change is durable (doors, occupancy, alarms).
//
// A step is built by a pure function of (state, input, now): the state's
// methods that handle inputs read the state, never write it, and record
// every effect in the step. The step's accessors read its own writes first,
// then the state, so later parts of one input see earlier ones (an escort
// who entered is inside when the alarm check runs). The run loop commits
// the step's change and only then applies it (state.apply); a step whose
// commit fails is dropped, except for what commitFailed keeps.
type step struct {
	s       *state // read only
	now     time.Time
	trusted bool

	change  Change
	strikes []strike
	egress  bool // the input opens the door for someone leaving: release before commit
	result  int  // index in change.Events of the event that records the input's result; -1 if none

	// The hash chain's head after this step's events.
	lastSeq  uint64
	lastHash string
	newest   time.Time
	visitSeq int

	// The step's writes, laid over the state. Nil until written.
	doors      map[string]*doorRT
	people     map[string]Person
	cards      map[string]Card
	visits     map[string]Visit
	keys       map[string]Key
	inside     map[string]presence
	alarms     map[string]Alarm // every listed alarm, copied on the first write
	alarmDirty map[string]bool
	doorRecs   map[string]DoorRecord
	remember   map[string]time.Time // replay cache entries added
	forget     map[string]bool      // replay cache entries dropped
	accounts   map[string]Account
	creds      []Credential
	links      []Link

	// faults are record reads that failed their integrity check.
	faults []error
	// integ is the integrity state after the step; nil if unchanged.
	integ *IntegrityState
	// newPeople is how many people the step registers.
	newPeople int
}

// strike is one relay move.
type strike struct {
	door     string
	unlocked bool
}

// presence is a step's record of someone entering (in) or leaving.
type presence struct {
	o  Occupant
	in bool
}

// begin starts a step at now. If commits have been failing, the step first
// records the storage_failure alarm and its end: both are true exactly when
// this step's commit succeeds.
func (s *state) begin(now time.Time) *step {
	st := &step{s: s, now: now, trusted: s.clockTrusted(now), result: -1,
		lastSeq: s.lastSeq, lastHash: s.lastHash, newest: s.newest, visitSeq: s.visitSeq}
	if s.storage != nil {
		st.recordStorageFailure(s.storage)
	}
	for _, b := range s.unrecorded {
		st.addBreak(b)
	}
	return st
}

func (st *step) empty() bool { return len(st.change.Events) == 0 }

// nextSeq is the seq the next emitted event will get.
func (st *step) nextSeq() uint64 { return st.lastSeq + 1 }

// emit appends an audit event stamped with the step's time and clock trust,
// sealed into the hash chain, and returns its seq. The seq is final: the
// step commits exactly these events after the stored ones, or nothing.
// The records the event writes are given as sealers: each is written into
// the step carrying the event's seq, and the event carries its digest.
func (st *step) emit(e Event, recs ...sealer) uint64 {
	e.Time = st.now.UTC()
	e.ClockTrusted = st.trusted
	st.lastSeq++
	e.Seq, e.Prev = st.lastSeq, st.lastHash
	if len(recs) > 0 {
		e.Records = make([]RecordRef, len(recs))
		for i, seal := range recs {
			e.Records[i] = seal(e.Seq)
		}
	}
	e.Hash = e.ComputeHash()
	st.lastHash = e.Hash
	if e.Time.After(st.newest) {
		st.newest = e.Time
	}
	st.change.Events = append(st.change.Events, e)
	return e.Seq
}

// decide emits an access event with its decision and makes it the step's
// result.
func (st *step) decide(e Event, dec Decision, r Reason) Result {
	e.Type, e.Decision, e.Reason = EventAccess, dec, r
	st.emit(e)
	st.result = len(st.change.Events) - 1
	return Result{Decision: dec, Reason: r, Person: e.Person, Visit: e.Visit}
}

// resultSeq is the seq of the step's result event, 0 if none.
func (st *step) resultSeq() uint64 {
	if st.result < 0 {
		return 0
	}
	return st.change.Events[st.result].Seq
}

// finish fills the change's record lists from the step's writes, in a
// stable order.
func (st *step) finish() {
	c := &st.change
	c.People = sortedValues(st.people, func(a, b Person) int { return cmp.Compare(a.ID, b.ID) })
	c.Cards = sortedValues(st.cards, func(a, b Card) int { return cmp.Compare(a.ID, b.ID) })
	c.Visits = sortedValues(st.visits, byVisitNumber)
	c.Keys = sortedValues(st.keys, func(a, b Key) int { return cmp.Compare(a.ID, b.ID) })
	c.Doors = sortedValues(st.doorRecs, func(a, b DoorRecord) int { return cmp.Compare(a.Name, b.Name) })
	c.Accounts = sortedValues(st.accounts, func(a, b Account) int { return cmp.Compare(a.Person, b.Person) })
	c.Credentials = st.creds
	c.Links = st.links
	c.Enter, c.Leave = nil, nil
	for _, id := range sortedKeys(st.inside) {
		if p := st.inside[id]; p.in {
			c.Enter = append(c.Enter, p.o)
		} else {
			c.Leave = append(c.Leave, id)
		}
	}
	c.Alarms, c.AlarmsGone = nil, nil
	for _, id := range sortedKeys(st.alarmDirty) {
		if a, ok := st.alarms[id]; ok {
			c.Alarms = append(c.Alarms, a)
		} else {
			c.AlarmsGone = append(c.AlarmsGone, id)
		}
	}
	c.Integrity = st.integ
	c.Commands, c.Forget = nil, nil
	for _, id := range sortedKeys(st.remember) {
		c.Commands = append(c.Commands, CommandRecord{ID: id, Until: st.remember[id]})
	}
	for _, id := range sortedKeys(st.forget) {
		if _, again := st.remember[id]; !again {
			c.Forget = append(c.Forget, id)
		}
	}
}

// sortedKeys returns m's keys in order; nil, without allocating, for an
// empty map (the common case: a card read touches few of them).
func sortedKeys[V any](m map[string]V) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

func sortedValues[V any](m map[string]V, cmpFn func(a, b V) int) []V {
	if len(m) == 0 {
		return nil
	}
	return slices.SortedFunc(maps.Values(m), cmpFn)
}

// The step's view of the records: its own writes first, then the state's.
// A read that fails its integrity check reads as absent and is recorded in
// the step (fault): the caller refuses what it decides, and process raises
// the integrity alarm with the step.

func (st *step) person(id string) (Person, bool) {
	if p, ok := st.people[id]; ok {
		return p, true
	}
	p, ok, err := st.s.rec.Person(id)
	return p, st.found(ok, err)
}

func (st *step) card(id string) (Card, bool) {
	if c, ok := st.cards[id]; ok {
		return c, true
	}
	c, ok, err := st.s.rec.Card(id)
	return c, st.found(ok, err)
}

func (st *step) visit(id string) (Visit, bool) {
	if v, ok := st.visits[id]; ok {
		return v, true
	}
	v, ok, err := st.s.rec.Visit(id)
	return v, st.found(ok, err)
}

func (st *step) found(ok bool, err error) bool {
	if err != nil {
		st.fault(err)
		return false
	}
	return ok
}

// fault records a read that failed its integrity check.
func (st *step) fault(err error) { st.faults = append(st.faults, err) }

// faulted reports whether a read of this step failed its integrity check.
func (st *step) faulted() bool { return len(st.faults) > 0 }

// visitsOf lists a visitor's visit IDs, oldest first, with any the step
// created.
func (st *step) visitsOf(visitor string) []string {
	ids, err := st.s.rec.VisitsOf(visitor)
	if err != nil {
		st.fault(err)
	}
	for id, v := range st.visits {
		if v.VisitorID == visitor && !slices.Contains(ids, id) {
			ids = append(slices.Clip(ids), id)
		}
	}
	return ids
}

func (st *step) key(id string) (Key, bool) {
	if k, ok := st.keys[id]; ok {
		return k, true
	}
	return st.s.rec.Key(id)
}

func put[V any](m map[string]V, id string, v V) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	m[id] = v
	return m
}

// Doors: peek reads a door's runtime state, door returns the step's own
// copy to change.

func (st *step) peek(name string) *doorRT {
	if d, ok := st.doors[name]; ok {
		return d
	}
	return &st.s.doors[name].rt
}

func (st *step) door(name string) *doorRT {
	if d, ok := st.doors[name]; ok {
		return d
	}
	d := st.s.doors[name].rt.clone()
	if st.doors == nil {
		st.doors = map[string]*doorRT{}
	}
	st.doors[name] = &d
	return &d
}

func (st *step) cfg(name string) DoorConfig { return st.s.doors[name].cfg }

// Occupancy.

func (st *step) occupant(person string) (Occupant, bool) {
	if p, ok := st.inside[person]; ok {
		return p.o, p.in
	}
	o, ok := st.s.inside[person]
	return o, ok
}

func (st *step) setPresence(person string, o Occupant, in bool) {
	if st.inside == nil {
		st.inside = map[string]presence{}
	}
	st.inside[person] = presence{o: o, in: in}
}

// visitorsInside lists the visitors inside, oldest entry first.
func (st *step) visitorsInside() []Occupant {
	var os []Occupant
	for p := range st.s.guests {
		if _, changed := st.inside[p]; !changed {
			os = append(os, st.s.inside[p])
		}
	}
	for _, p := range st.inside {
		if p.in && p.o.Visit != "" {
			os = append(os, p.o)
		}
	}
	sortOccupants(os)
	return os
}

// Alarms: the listed alarms, copied on the first change.

func (st *step) alarmSet() map[string]Alarm {
	if st.alarms != nil {
		return st.alarms
	}
	return st.s.alarms
}

func (st *step) setAlarm(a Alarm) {
	st.writeAlarms()[a.ID] = a
	st.alarmDirty[a.ID] = true
}

func (st *step) dropAlarm(id string) {
	delete(st.writeAlarms(), id)
	st.alarmDirty[id] = true
}

func (st *step) writeAlarms() map[string]Alarm {
	if st.alarms == nil {
		st.alarms = maps.Clone(st.s.alarms)
		if st.alarms == nil {
			st.alarms = map[string]Alarm{}
		}
		st.alarmDirty = map[string]bool{}
	}
	return st.alarms
}

// Replay cache of remote commands.

func (st *step) seenUntil(id string) (time.Time, bool) {
	if t, ok := st.remember[id]; ok {
		return t, true
	}
	if st.forget[id] {
		return time.Time{}, false
	}
	t, ok := st.s.seen[id]
	return t, ok
}
