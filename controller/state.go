package controller

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// state is everything the controller knows. Only the Run goroutine touches
// it. Handlers mutate it inside a txn; if the txn's commit fails, rollback
// restores it exactly, so nothing changes that was not written down.
type state struct {
	cfg       Config
	doors     map[string]*door
	people    map[string]Person
	cards     map[string]Card
	visits    map[string]Visit
	byVisitor map[string][]string // visitor id -> visit ids, oldest first
	inside    map[string]Occupant
	guests    map[string]bool // visitors among inside, so per-input scans stay small
	alarms    map[string]Alarm
	access    map[Role]bool
	escort    map[Role]bool
	lastSeq   uint64
	lastHash  string
	newest    time.Time // newest event time ever stored; the clock must not read earlier
	synced    bool      // the kernel says the clock is synchronised
	visitSeq  int
	remote    remoteState // keys, replay cache and verifier of remote commands
}

type door struct {
	cfg      DoorConfig
	readers  map[string]Direction
	unlocked bool
	relockAt time.Time
	open     bool
	openedAt time.Time
	lockdown bool
	waiting  []waiter   // pending reads: visitors waiting for an escort, staff for a second
	recent   []staffTap // staff reads that a visitor read may still pair with
}

type waitKind int

const (
	waitEscort waitKind = iota // a visitor waits for an escort
	waitSecond                 // staff wait for a second person (two-person rule)
)

type waiter struct {
	kind   waitKind
	person string
	card   string
	reader string
	visit  string
	at     time.Time
}

// maxRecent bounds the staff reads a door remembers for escort pairing: a
// visitor pairs with the latest ones, and a burst of reads must not make
// every later input slower.
const maxRecent = 16

type staffTap struct {
	person    string
	canEscort bool
	at        time.Time
}

type strike struct {
	door     string
	unlocked bool
}

// txn collects what one input did: the change to commit, the relay moves to
// make once it is durable, and how to undo it in memory if it is not.
type txn struct {
	now       time.Time
	trusted   bool
	change    Change
	strikes   []strike
	egress    bool // the input opens the door for someone leaving
	result    int  // index of the event that records a read's result; -1 if none
	resultSeq uint64
	saved     saved
	undo      []func()
}

type saved struct {
	doors    map[string]door
	alarms   map[string]Alarm
	lastSeq  uint64
	lastHash string
	newest   time.Time
	visitSeq int
}

func (t *txn) empty() bool { return len(t.change.Events) == 0 }

func newState(cfg Config, snap Snapshot) (*state, error) {
	s := &state{
		cfg:       cfg,
		doors:     map[string]*door{},
		people:    make(map[string]Person, len(snap.People)),
		cards:     make(map[string]Card, len(snap.Cards)),
		visits:    make(map[string]Visit, len(snap.Visits)),
		byVisitor: map[string][]string{},
		inside:    map[string]Occupant{},
		guests:    map[string]bool{},
		alarms:    map[string]Alarm{},
		access:    map[Role]bool{},
		escort:    map[Role]bool{},
		lastSeq:   snap.Last.Seq,
		lastHash:  snap.Last.Hash,
		newest:    snap.Last.Time,
		synced:    true,
	}
	for _, r := range cfg.RoomAccess {
		s.access[r] = true
	}
	for _, r := range cfg.Escort {
		s.escort[r] = true
	}
	for _, dc := range cfg.Doors {
		d := &door{cfg: dc, readers: map[string]Direction{}}
		for _, r := range dc.Readers {
			d.readers[r.Name] = r.Direction
		}
		s.doors[dc.Name] = d
	}
	for _, p := range snap.People {
		s.people[p.ID] = p
	}
	for _, c := range snap.Cards {
		s.cards[c.ID] = c
	}
	slices.SortFunc(snap.Visits, func(a, b Visit) int { return cmp.Compare(visitNumber(a.ID), visitNumber(b.ID)) })
	for _, v := range snap.Visits {
		s.visits[v.ID] = v
		s.byVisitor[v.VisitorID] = append(s.byVisitor[v.VisitorID], v.ID)
		s.visitSeq = max(s.visitSeq, visitNumber(v.ID))
	}
	for _, o := range snap.Inside {
		s.setOccupant(o)
	}
	if err := s.loadRemote(snap); err != nil {
		return nil, err
	}
	return s, nil
}

func visitNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "V"))
	return n
}

// begin starts a txn at now, saving what rollback needs.
func (s *state) begin(now time.Time) *txn {
	sv := saved{
		doors:   make(map[string]door, len(s.doors)),
		alarms:  maps.Clone(s.alarms),
		lastSeq: s.lastSeq, lastHash: s.lastHash, newest: s.newest, visitSeq: s.visitSeq,
	}
	for name, d := range s.doors {
		c := *d
		c.waiting, c.recent = slices.Clone(d.waiting), slices.Clone(d.recent)
		sv.doors[name] = c
	}
	return &txn{now: now, trusted: s.clockTrusted(now), result: -1, saved: sv}
}

func (s *state) clockTrusted(now time.Time) bool { return s.synced && !now.Before(s.newest) }

// seal numbers tx's events and links them into the hash chain.
func (s *state) seal(tx *txn) {
	for i := range tx.change.Events {
		e := &tx.change.Events[i]
		s.lastSeq++
		e.Seq, e.Prev = s.lastSeq, s.lastHash
		e.Hash = e.ComputeHash()
		s.lastHash = e.Hash
		if e.Time.After(s.newest) {
			s.newest = e.Time
		}
	}
	if tx.result >= 0 {
		tx.resultSeq = tx.change.Events[tx.result].Seq
	}
}

// rollback undoes everything tx did to the state.
func (s *state) rollback(tx *txn) {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	sv := tx.saved
	for name, d := range sv.doors {
		*s.doors[name] = d
	}
	s.alarms = sv.alarms
	s.lastSeq, s.lastHash, s.newest, s.visitSeq = sv.lastSeq, sv.lastHash, sv.newest, sv.visitSeq
}

// emit appends an audit event stamped with tx's time and clock trust.
func (s *state) emit(tx *txn, e Event) int {
	e.Time = tx.now.UTC()
	e.ClockTrusted = tx.trusted
	tx.change.Events = append(tx.change.Events, e)
	return len(tx.change.Events) - 1
}

// put stores v under id in m and returns the undo that puts back what was
// there before.
func put[V any](m map[string]V, id string, v V) (undo func(), had bool) {
	old, had := m[id]
	m[id] = v
	return func() {
		if had {
			m[id] = old
		} else {
			delete(m, id)
		}
	}, had
}

func (s *state) putPerson(tx *txn, p Person) {
	undo, _ := put(s.people, p.ID, p)
	tx.change.People = append(tx.change.People, p)
	tx.undo = append(tx.undo, undo)
}

func (s *state) putCard(tx *txn, c Card) {
	undo, _ := put(s.cards, c.ID, c)
	tx.change.Cards = append(tx.change.Cards, c)
	tx.undo = append(tx.undo, undo)
}

func (s *state) putVisit(tx *txn, v Visit) {
	undo, had := put(s.visits, v.ID, v)
	tx.change.Visits = append(tx.change.Visits, v)
	tx.undo = append(tx.undo, undo)
	if !had {
		s.byVisitor[v.VisitorID] = append(s.byVisitor[v.VisitorID], v.ID)
		tx.undo = append(tx.undo, func() {
			ids := s.byVisitor[v.VisitorID]
			s.byVisitor[v.VisitorID] = ids[:len(ids)-1]
		})
	}
}

func (s *state) enter(tx *txn, o Occupant) {
	old, had := s.inside[o.Person]
	s.setOccupant(o)
	tx.change.Enter = append(tx.change.Enter, o)
	tx.undo = append(tx.undo, func() { s.restoreOccupant(o.Person, old, had) })
}

func (s *state) restoreOccupant(person string, o Occupant, had bool) {
	if had {
		s.setOccupant(o)
		return
	}
	delete(s.inside, person)
	delete(s.guests, person)
}

func (s *state) setOccupant(o Occupant) {
	s.inside[o.Person] = o
	if o.Visit != "" {
		s.guests[o.Person] = true
	} else {
		delete(s.guests, o.Person)
	}
}

// visitorsInside lists the visitors inside, oldest entry first.
func (s *state) visitorsInside() []Occupant {
	var os []Occupant
	for p := range s.guests {
		os = append(os, s.inside[p])
	}
	sortOccupants(os)
	return os
}

func sortOccupants(os []Occupant) {
	slices.SortFunc(os, func(a, b Occupant) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Person, b.Person))
	})
}

func (s *state) hasAccess(p Person) bool {
	return !p.IsVisitor() && slices.ContainsFunc(p.Roles, func(r Role) bool { return s.access[r] })
}

func (s *state) canEscort(p Person) bool {
	return !p.IsVisitor() && slices.ContainsFunc(p.Roles, func(r Role) bool { return s.escort[r] })
}

func (s *state) door(name string) (*door, error) {
	d, ok := s.doors[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown door %q", ErrNotFound, name)
	}
	return d, nil
}

// raise raises an alarm unless the same one is active.
func (s *state) raise(tx *txn, a Alarm) {
	a.Since = tx.now.UTC()
	if _, ok := s.alarms[a.key()]; ok {
		return
	}
	s.alarms[a.key()] = a
	s.emit(tx, Event{Type: EventAlarmRaised, Door: a.Door, Person: a.Person, Visit: a.Visit, Detail: string(a.Kind)})
}

// clear clears every active alarm of kind that match reports true for.
func (s *state) clear(tx *txn, kind AlarmKind, match func(Alarm) bool) {
	keys := slices.Sorted(maps.Keys(s.alarms))
	for _, k := range keys {
		a := s.alarms[k]
		if a.Kind == kind && match(a) {
			delete(s.alarms, k)
			s.emit(tx, Event{Type: EventAlarmCleared, Door: a.Door, Person: a.Person, Visit: a.Visit, Detail: string(a.Kind)})
		}
	}
}

func (s *state) unlock(tx *txn, d *door, dur time.Duration) {
	if !d.unlocked {
		s.emit(tx, Event{Type: EventUnlock, Door: d.cfg.Name, Detail: dur.String()})
		tx.strikes = append(tx.strikes, strike{d.cfg.Name, true})
		d.unlocked = true
	}
	d.relockAt = later(d.relockAt, tx.now.Add(dur))
}

func (s *state) relock(tx *txn, d *door, why string) {
	if !d.unlocked {
		return
	}
	s.emit(tx, Event{Type: EventRelock, Door: d.cfg.Name, Detail: why})
	tx.strikes = append(tx.strikes, strike{d.cfg.Name, false})
	d.unlocked, d.relockAt = false, time.Time{}
}

// forceStrike records a relay move made without a commit (see
// Controller.commitAndApply): only the door's runtime state follows it.
func (s *state) forceStrike(now time.Time, door string, unlocked bool) {
	d := s.doors[door]
	if !unlocked {
		d.unlocked, d.relockAt = false, time.Time{}
		return
	}
	d.unlocked, d.relockAt = true, later(d.relockAt, now.Add(d.cfg.Unlock))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// housekeep does what time alone does: relock, expire waiting reads, raise
// held-open, overstay and clock alarms. Every input runs it first, so a
// decision never rests on something that has already run out.
func (s *state) housekeep(tx *txn) {
	now := tx.now
	if !tx.trusted {
		s.raise(tx, Alarm{Kind: AlarmClockUnsynced})
	} else {
		s.clear(tx, AlarmClockUnsynced, func(Alarm) bool { return true })
	}
	for _, name := range s.doorNames() {
		d := s.doors[name]
		if d.unlocked && !now.Before(d.relockAt) {
			s.relock(tx, d, "unlock time over")
		}
		window := d.cfg.EscortWindow
		d.recent = slices.DeleteFunc(d.recent, func(t staffTap) bool { return !now.Before(t.at.Add(window)) })
		var keep []waiter
		for _, w := range d.waiting {
			if now.Before(w.at.Add(window)) {
				keep = append(keep, w)
				continue
			}
			r := ReasonEscortRequired
			if w.kind == waitSecond {
				r = ReasonTwoPersonRequired
			}
			s.emit(tx, Event{Type: EventAccess, Door: name, Reader: w.reader, Card: w.card, Person: w.person,
				Visit: w.visit, Decision: Denied, Reason: r, Detail: "no second read within " + window.String()})
		}
		d.waiting = keep
		if d.open && !now.Before(d.openedAt.Add(d.cfg.HeldOpen)) {
			s.raise(tx, Alarm{Kind: AlarmHeldOpen, Door: name})
		}
	}
	for _, o := range s.visitorsInside() {
		if v, ok := s.visits[o.Visit]; ok && !now.Before(v.Until) {
			s.raise(tx, Alarm{Kind: AlarmOverstay, Door: o.Door, Person: o.Person, Visit: o.Visit})
		}
	}
}

// nextDeadline is when time alone will next change something.
func (s *state) nextDeadline() (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, d := range s.doors {
		if d.unlocked {
			consider(d.relockAt)
		}
		for _, w := range d.waiting {
			consider(w.at.Add(d.cfg.EscortWindow))
		}
		if d.open {
			if _, ok := s.alarms[Alarm{Kind: AlarmHeldOpen, Door: d.cfg.Name}.key()]; !ok {
				consider(d.openedAt.Add(d.cfg.HeldOpen))
			}
		}
	}
	for _, o := range s.visitorsInside() {
		a := Alarm{Kind: AlarmOverstay, Door: o.Door, Person: o.Person, Visit: o.Visit}
		if _, ok := s.alarms[a.key()]; !ok {
			consider(s.visits[o.Visit].Until)
		}
	}
	return next, !next.IsZero()
}

func (s *state) doorNames() []string {
	names := make([]string, len(s.cfg.Doors))
	for i, d := range s.cfg.Doors {
		names[i] = d.Name
	}
	return names
}

func (s *state) occupants() []Occupant {
	os := make([]Occupant, 0, len(s.inside))
	os = slices.AppendSeq(os, maps.Values(s.inside))
	sortOccupants(os)
	return os
}

func (s *state) start(now time.Time) *txn {
	tx := s.begin(now)
	s.emit(tx, Event{Type: EventStarted, Detail: fmt.Sprintf("%d doors, %d people, %d inside", len(s.doors), len(s.people), len(s.inside))})
	s.forgetCommands(tx)
	// Occupancy survived the restart; alarms did not, so derive them again.
	for _, o := range s.visitorsInside() {
		if o.Escort != "" {
			if _, in := s.inside[o.Escort]; !in {
				s.raise(tx, Alarm{Kind: AlarmVisitorUnescorted, Door: o.Door, Person: o.Person, Visit: o.Visit})
			}
		}
	}
	s.housekeep(tx)
	return tx
}

func (s *state) stop(now time.Time) *txn {
	tx := s.begin(now)
	for _, name := range s.doorNames() {
		s.relock(tx, s.doors[name], "stopping")
	}
	s.emit(tx, Event{Type: EventStopped})
	return tx
}

func (s *state) tick(now time.Time) *txn {
	tx := s.begin(now)
	s.housekeep(tx)
	return tx
}

func (s *state) tap(now time.Time, doorName, reader, card string) (Result, *txn, error) {
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
	tx := s.begin(now)
	s.housekeep(tx)
	if dir == Exit {
		return s.exitRead(tx, d, reader, card), tx, nil
	}
	return s.entryRead(tx, d, reader, card), tx, nil
}

func (s *state) decide(tx *txn, e Event, dec Decision, r Reason) Result {
	e.Type, e.Decision, e.Reason = EventAccess, dec, r
	tx.result = s.emit(tx, e)
	return Result{Decision: dec, Reason: r, Person: e.Person, Visit: e.Visit}
}

func (s *state) entryRead(tx *txn, d *door, reader, cardID string) Result {
	base := Event{Door: d.cfg.Name, Reader: reader, Card: cardID}
	c, ok := s.cards[cardID]
	if !ok {
		return s.decide(tx, base, Denied, ReasonUnknownCard)
	}
	p, ok := s.people[c.PersonID]
	if !ok {
		return s.decide(tx, base, Denied, ReasonUnknownCard)
	}
	base.Person = p.ID
	if c.Revoked {
		return s.decide(tx, base, Denied, ReasonRevoked)
	}
	if d.lockdown {
		return s.decide(tx, base, Denied, ReasonLockdown)
	}
	if p.IsVisitor() {
		return s.visitorRead(tx, d, base, p)
	}
	return s.staffRead(tx, d, base, p)
}

func (s *state) visitorRead(tx *txn, d *door, base Event, p Person) Result {
	if o, in := s.inside[p.ID]; in {
		base.Visit = o.Visit
		return s.decide(tx, base, Denied, ReasonAlreadyInside)
	}
	var approved []Visit
	for _, id := range s.byVisitor[p.ID] {
		if v := s.visits[id]; v.State == StateApproved {
			approved = append(approved, v)
		}
	}
	if len(approved) == 0 {
		if ids := s.byVisitor[p.ID]; len(ids) > 0 {
			base.Visit = ids[len(ids)-1]
		}
		return s.decide(tx, base, Denied, ReasonNotApproved)
	}
	base.Visit = approved[0].ID
	// Visit windows mean nothing on a clock that cannot be trusted.
	if !tx.trusted {
		return s.decide(tx, base, Denied, ReasonClockUnsynced)
	}
	i := slices.IndexFunc(approved, func(v Visit) bool { return !tx.now.Before(v.From) && tx.now.Before(v.Until) })
	if i < 0 {
		return s.decide(tx, base, Denied, ReasonOutsideWindow)
	}
	v := approved[i]
	base.Visit = v.ID

	// Escort first: a staff read at this door within the window.
	unauthorized := false
	for j := len(d.recent) - 1; j >= 0; j-- {
		t := d.recent[j]
		if !s.escortFor(v, t.person, t.canEscort) {
			unauthorized = true
			continue
		}
		d.recent = slices.Delete(d.recent, j, j+1)
		return s.grantVisitor(tx, d, base, v, t.person, true)
	}
	if unauthorized {
		return s.decide(tx, base, Denied, ReasonEscortNotAuthorized)
	}
	d.waiting = slices.DeleteFunc(d.waiting, func(w waiter) bool { return w.person == p.ID })
	d.waiting = append(d.waiting, waiter{kind: waitEscort, person: p.ID, card: base.Card, reader: base.Reader, visit: v.ID, at: tx.now})
	return s.decide(tx, base, Pending, ReasonWaitingForEscort)
}

// escortFor reports whether a staff member may escort the visit's visitor.
func (s *state) escortFor(v Visit, person string, canEscort bool) bool {
	return canEscort && (v.EscortID == "" || v.EscortID == person)
}

func (s *state) staffRead(tx *txn, d *door, base Event, p Person) Result {
	canEscort := s.canEscort(p)
	escorted := false
	// A staff read first answers any visitor waiting at this door.
	var keep []waiter
	for _, w := range d.waiting {
		if w.kind != waitEscort {
			keep = append(keep, w)
			continue
		}
		v := s.visits[w.visit]
		ve := Event{Door: d.cfg.Name, Reader: w.reader, Card: w.card, Person: w.person, Visit: w.visit}
		if s.escortFor(v, p.ID, canEscort) {
			s.grantVisitor(tx, d, ve, v, p.ID, false)
			escorted = true
		} else {
			ve.Detail = "read by " + p.ID + ", who may not escort this visit"
			s.decide(tx, ve, Denied, ReasonEscortNotAuthorized)
		}
	}
	d.waiting = keep
	tx.result = -1

	if escorted {
		// grantVisitor recorded the escort inside and released the strike.
		return s.decide(tx, withDetail(base, "escort"), Granted, "")
	}
	d.recent = append(d.recent, staffTap{person: p.ID, canEscort: canEscort, at: tx.now})
	if len(d.recent) > maxRecent {
		d.recent = slices.Delete(d.recent, 0, len(d.recent)-maxRecent)
	}
	if !s.hasAccess(p) {
		return s.decide(tx, base, Denied, ReasonNoRoomAccess)
	}
	if d.cfg.TwoPerson {
		i := slices.IndexFunc(d.waiting, func(w waiter) bool { return w.kind == waitSecond && w.person != p.ID })
		if i < 0 {
			d.waiting = slices.DeleteFunc(d.waiting, func(w waiter) bool { return w.person == p.ID })
			d.waiting = append(d.waiting, waiter{kind: waitSecond, person: p.ID, card: base.Card, reader: base.Reader, at: tx.now})
			return s.decide(tx, base, Pending, ReasonWaitingForSecond)
		}
		w := d.waiting[i]
		d.waiting = slices.Delete(d.waiting, i, i+1)
		first := Event{Door: d.cfg.Name, Reader: w.reader, Card: w.card, Person: w.person, Detail: "two-person with " + p.ID}
		s.decide(tx, first, Granted, "")
		s.staffEnters(tx, d, w.person)
		base.Detail = "two-person with " + w.person
	}
	res := s.decide(tx, base, Granted, "")
	s.staffEnters(tx, d, p.ID)
	s.unlock(tx, d, d.cfg.Unlock)
	return res
}

func withDetail(e Event, detail string) Event {
	e.Detail = detail
	return e
}

// staffEnters records a staff member inside; an escort coming back ends the
// visitor_unescorted alarm for the visitors they brought in.
func (s *state) staffEnters(tx *txn, d *door, person string) {
	if o, in := s.inside[person]; in && o.Door == d.cfg.Name {
		return
	}
	s.enter(tx, Occupant{Person: person, Door: d.cfg.Name, Since: tx.now.UTC()})
	s.clear(tx, AlarmVisitorUnescorted, func(a Alarm) bool {
		o, in := s.inside[a.Person]
		return in && o.Escort == person
	})
}

// grantVisitor lets a visitor in with an escort: SOP step 4 begins.
func (s *state) grantVisitor(tx *txn, d *door, ve Event, v Visit, escort string, announceEscort bool) Result {
	ve.Actor, ve.Detail = escort, "escorted by "+escort
	res := s.decide(tx, ve, Granted, "")
	if _, in := s.inside[escort]; !in && announceEscort {
		// The escort's own read was denied (no room access of their own).
		s.emit(tx, Event{Type: EventAccess, Door: d.cfg.Name, Person: escort, Visit: v.ID, Decision: Granted, Detail: "escort"})
	}
	s.staffEnters(tx, d, escort)
	s.enter(tx, Occupant{Person: v.VisitorID, Door: d.cfg.Name, Since: tx.now.UTC(), Visit: v.ID, Escort: escort})
	v = v.clone()
	v.State, v.EnteredAt, v.EscortedBy, v.Door = StateInside, tx.now.UTC(), escort, d.cfg.Name
	v.Steps = append(v.Steps, StepRecord{Step: 4, Action: ActionEnter, State: StateInside, Actor: escort,
		Started: tx.now.UTC(), Standard: s.cfg.StepStandards[3]})
	s.putVisit(tx, v)
	s.emit(tx, Event{Type: EventVisitStep, Door: d.cfg.Name, Person: v.VisitorID, Visit: v.ID, Actor: escort, Detail: string(ActionEnter)})
	s.unlock(tx, d, d.cfg.Unlock)
	return res
}

func (s *state) exitRead(tx *txn, d *door, reader, cardID string) Result {
	tx.egress = true
	e := Event{Type: EventExit, Door: d.cfg.Name, Reader: reader, Card: cardID, Decision: Granted}
	c, ok := s.cards[cardID]
	switch {
	case !ok:
		e.Reason = ReasonUnknownCard
	case c.Revoked:
		e.Person, e.Reason = c.PersonID, ReasonRevoked
	default:
		e.Person = c.PersonID
	}
	if o, in := s.inside[e.Person]; in && e.Person != "" {
		e.Visit = o.Visit
	}
	tx.result = s.emit(tx, e)
	if e.Person != "" {
		s.leave(tx, e.Person, "")
	}
	s.unlock(tx, d, d.cfg.Unlock)
	return Result{Decision: Granted, Reason: e.Reason, Person: e.Person, Visit: e.Visit}
}

// leave records a person leaving. A visitor's visit moves to exited; an
// escort leaving a visitor behind raises visitor_unescorted.
func (s *state) leave(tx *txn, person, actor string) {
	o, in := s.inside[person]
	if !in {
		return
	}
	delete(s.inside, person)
	delete(s.guests, person)
	tx.change.Leave = append(tx.change.Leave, person)
	tx.undo = append(tx.undo, func() { s.restoreOccupant(person, o, true) })
	if o.Visit != "" {
		if v, ok := s.visits[o.Visit]; ok && v.State == StateInside {
			v = v.clone()
			v.State, v.ExitedAt = StateExited, tx.now.UTC()
			for i := range v.Steps {
				if v.Steps[i].Step == 4 {
					v.Steps[i].At = tx.now.UTC()
				}
			}
			s.putVisit(tx, v)
			s.emit(tx, Event{Type: EventVisitStep, Door: o.Door, Person: person, Visit: v.ID, Actor: actor, Detail: string(ActionExit)})
		}
		for _, k := range []AlarmKind{AlarmVisitorUnescorted, AlarmOverstay} {
			s.clear(tx, k, func(a Alarm) bool { return a.Visit == o.Visit })
		}
	}
	for _, v := range s.visitorsInside() {
		if v.Escort == person {
			s.raise(tx, Alarm{Kind: AlarmVisitorUnescorted, Door: v.Door, Person: v.Person, Visit: v.Visit})
		}
	}
}

func (s *state) contact(now time.Time, name string, open bool) (*txn, error) {
	d, err := s.door(name)
	if err != nil {
		return nil, err
	}
	tx := s.begin(now)
	s.housekeep(tx)
	if open == d.open {
		return tx, nil
	}
	if open {
		s.emit(tx, Event{Type: EventDoorOpen, Door: name})
		d.open, d.openedAt = true, now
		if !d.unlocked {
			s.raise(tx, Alarm{Kind: AlarmForcedOpen, Door: name})
		}
		return tx, nil
	}
	s.emit(tx, Event{Type: EventDoorClose, Door: name})
	d.open = false
	for _, k := range []AlarmKind{AlarmForcedOpen, AlarmHeldOpen} {
		s.clear(tx, k, func(a Alarm) bool { return a.Door == name })
	}
	if d.cfg.RelockOnClose {
		s.relock(tx, d, "door closed")
	}
	return tx, nil
}

func (s *state) rex(now time.Time, name string) (*txn, error) {
	d, err := s.door(name)
	if err != nil {
		return nil, err
	}
	tx := s.begin(now)
	tx.egress = true
	s.housekeep(tx)
	s.emit(tx, Event{Type: EventRex, Door: name, Decision: Granted})
	s.unlock(tx, d, d.cfg.Unlock)
	return tx, nil
}

func (s *state) lockdown(now time.Time, name, actor string, on bool) (*txn, error) {
	d, err := s.door(name)
	if err != nil {
		return nil, err
	}
	tx := s.begin(now)
	s.housekeep(tx)
	if on == d.lockdown {
		return tx, nil
	}
	d.lockdown = on
	if !on {
		s.emit(tx, Event{Type: EventLockdownClear, Door: name, Actor: actor})
		return tx, nil
	}
	s.emit(tx, Event{Type: EventLockdown, Door: name, Actor: actor})
	s.relock(tx, d, "lockdown")
	d.waiting = nil
	return tx, nil
}

func (s *state) addPerson(now time.Time, p Person, actor string) (*txn, error) {
	p.ID, p.Name = strings.TrimSpace(p.ID), strings.TrimSpace(p.Name)
	if err := validID("person id", p.ID); err != nil {
		return nil, err
	}
	if p.Name == "" {
		return nil, fmt.Errorf("%w: person %q: name is empty", ErrInvalid, p.ID)
	}
	if len(p.Roles) == 0 {
		return nil, fmt.Errorf("%w: person %q: no role", ErrInvalid, p.ID)
	}
	for _, r := range p.Roles {
		if _, err := ParseRole(string(r)); err != nil {
			return nil, fmt.Errorf("person %q: %w", p.ID, err)
		}
	}
	p.Roles = slices.Compact(slices.Sorted(slices.Values(p.Roles)))
	if p.IsVisitor() && len(p.Roles) > 1 {
		return nil, fmt.Errorf("%w: person %q: a visitor cannot also hold a staff role", ErrInvalid, p.ID)
	}
	if _, ok := s.people[p.ID]; ok {
		return nil, fmt.Errorf("%w: person %q", ErrExists, p.ID)
	}
	tx := s.begin(now)
	s.putPerson(tx, p)
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	s.emit(tx, Event{Type: EventPersonAdded, Person: p.ID, Actor: actor, Detail: strings.Join(roles, ",")})
	return tx, nil
}

func validID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case len(id) > 64:
		return fmt.Errorf("%w: %s %q is longer than 64 characters", ErrInvalid, what, id)
	case strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return fmt.Errorf("%w: %s %q contains spaces or control characters", ErrInvalid, what, id)
	}
	return nil
}

func (s *state) assignCard(now time.Time, card, person, actor string) (*txn, error) {
	card = strings.TrimSpace(card)
	if err := validID("card", card); err != nil {
		return nil, err
	}
	if _, err := s.person(person); err != nil {
		return nil, err
	}
	if c, ok := s.cards[card]; ok && !c.Revoked {
		return nil, fmt.Errorf("%w: card %q is assigned to %q; revoke it first", ErrExists, card, c.PersonID)
	}
	tx := s.begin(now)
	s.putCard(tx, Card{ID: card, PersonID: person, AssignedAt: now.UTC()})
	s.emit(tx, Event{Type: EventCardAssigned, Card: card, Person: person, Actor: actor})
	return tx, nil
}

func (s *state) revokeCard(now time.Time, card, actor string) (*txn, error) {
	c, ok := s.cards[card]
	if !ok {
		return nil, fmt.Errorf("%w: unknown card %q", ErrNotFound, card)
	}
	if c.Revoked {
		return nil, fmt.Errorf("%w: card %q is already revoked", ErrInvalid, card)
	}
	tx := s.begin(now)
	c.Revoked, c.RevokedAt = true, now.UTC()
	s.putCard(tx, c)
	s.emit(tx, Event{Type: EventCardRevoked, Card: card, Person: c.PersonID, Actor: actor})
	return tx, nil
}

func (s *state) person(id string) (Person, error) {
	p, ok := s.people[id]
	if !ok {
		return Person{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
	}
	p.Roles = slices.Clone(p.Roles)
	return p, nil
}

func (s *state) personList() []Person {
	ps := slices.SortedFunc(maps.Values(s.people), func(a, b Person) int { return cmp.Compare(a.ID, b.ID) })
	for i := range ps {
		ps[i].Roles = slices.Clone(ps[i].Roles)
	}
	return ps
}

func (s *state) cardList() []Card {
	return slices.SortedFunc(maps.Values(s.cards), func(a, b Card) int { return cmp.Compare(a.ID, b.ID) })
}

func (s *state) visit(id string) (Visit, error) {
	v, ok := s.visits[id]
	if !ok {
		return Visit{}, fmt.Errorf("%w: unknown visit %q", ErrNotFound, id)
	}
	return v.clone(), nil
}

func (s *state) visitList(st VisitState) []Visit {
	var vs []Visit
	for _, v := range s.visits {
		if st == "" || v.State == st {
			vs = append(vs, v.clone())
		}
	}
	slices.SortFunc(vs, func(a, b Visit) int { return cmp.Compare(visitNumber(a.ID), visitNumber(b.ID)) })
	return vs
}

func (s *state) status(now time.Time) Status {
	st := Status{Site: s.cfg.Site, Time: now.UTC(), ClockTrusted: s.clockTrusted(now),
		Alarms: []Alarm{}, Inside: s.occupants()}
	for _, name := range s.doorNames() {
		d := s.doors[name]
		ds := DoorStatus{Name: name, Lock: "locked", Contact: "closed", Lockdown: d.lockdown}
		if d.unlocked {
			ds.Lock = "unlocked"
		}
		if d.open {
			ds.Contact = "open"
		}
		st.Doors = append(st.Doors, ds)
	}
	for _, a := range s.alarms {
		st.Alarms = append(st.Alarms, a)
	}
	slices.SortFunc(st.Alarms, func(a, b Alarm) int { return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.key(), b.key())) })
	return st
}
