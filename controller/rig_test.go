package controller

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// logStore is a Store for the domain's own tests (memstore would import
// this package): it keeps every committed change and folds them into the
// records and a snapshot, and can be made to fail.
type logStore struct {
	mu      sync.Mutex
	changes []Change
	events  []Event
	fail    error
	commits int
}

// fold is the store's state: every committed change applied in order.
func (s *logStore) fold() (people map[string]Person, cards map[string]Card, visits map[string]Visit, snap Snapshot) {
	people, cards, visits = map[string]Person{}, map[string]Card{}, map[string]Visit{}
	inside := map[string]Occupant{}
	keys, cmds, alarms, doors := map[string]Key{}, map[string]CommandRecord{}, map[string]Alarm{}, map[string]DoorRecord{}
	for _, c := range s.changes {
		for _, p := range c.People {
			people[p.ID] = p
		}
		for _, x := range c.Cards {
			cards[x.ID] = x
		}
		for _, v := range c.Visits {
			visits[v.ID] = v
		}
		for _, o := range c.Enter {
			inside[o.Person] = o
		}
		for _, id := range c.Leave {
			delete(inside, id)
		}
		for _, k := range c.Keys {
			keys[k.ID] = k
		}
		for _, r := range c.Commands {
			cmds[r.ID] = r
		}
		for _, id := range c.Forget {
			delete(cmds, id)
		}
		for _, a := range c.Alarms {
			alarms[a.ID] = a
		}
		for _, id := range c.AlarmsGone {
			delete(alarms, id)
		}
		for _, d := range c.Doors {
			doors[d.Name] = d
		}
		if c.Integrity != nil {
			snap.Integrity = *c.Integrity
		}
	}
	snap.NumPeople = len(people)
	for id := range visits {
		snap.LastVisit = max(snap.LastVisit, visitNumber(id))
	}
	for _, o := range inside {
		snap.Inside = append(snap.Inside, o)
	}
	for _, k := range keys {
		snap.Keys = append(snap.Keys, k)
	}
	for _, r := range cmds {
		snap.Commands = append(snap.Commands, r)
	}
	for _, a := range alarms {
		snap.Alarms = append(snap.Alarms, a)
	}
	for _, d := range doors {
		snap.Doors = append(snap.Doors, d)
	}
	if n := len(s.events); n > 0 {
		snap.Last = s.events[n-1]
	}
	return people, cards, visits, snap
}

func (s *logStore) Load() (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, _, snap := s.fold()
	return snap, nil
}

func (s *logStore) Person(id string) (Person, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	people, _, _, _ := s.fold()
	p, ok := people[id]
	return p, ok, nil
}

func (s *logStore) Card(id string) (Card, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, cards, _, _ := s.fold()
	c, ok := cards[id]
	return c, ok, nil
}

func (s *logStore) Visit(id string) (Visit, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, visits, _ := s.fold()
	v, ok := visits[id]
	return v, ok, nil
}

func (s *logStore) VisitsOf(visitor string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, visits, _ := s.fold()
	var vs []Visit
	for _, v := range visits {
		if v.VisitorID == visitor {
			vs = append(vs, v)
		}
	}
	slices.SortFunc(vs, byVisitNumber)
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	return ids, nil
}

func (s *logStore) CardsOf(person string) ([]Card, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, cards, _, _ := s.fold()
	var out []Card
	for _, c := range cards {
		if c.PersonID == person {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Card) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func sortedPage[T any](m map[string]T, after string, limit int, id func(T) string, cmpFn func(a, b T) int) []T {
	var all []T
	for _, v := range m {
		all = append(all, v)
	}
	slices.SortFunc(all, cmpFn)
	var out []T
	past := after == ""
	for _, v := range all {
		if past && len(out) < limit {
			out = append(out, v)
		}
		if id(v) == after {
			past = true
		}
	}
	return out
}

func (s *logStore) People(after string, limit int) ([]Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	people, _, _, _ := s.fold()
	return sortedPage(people, after, limit, func(p Person) string { return p.ID }, func(a, b Person) int { return strings.Compare(a.ID, b.ID) }), nil
}

func (s *logStore) Cards(after string, limit int) ([]Card, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, cards, _, _ := s.fold()
	return sortedPage(cards, after, limit, func(c Card) string { return c.ID }, func(a, b Card) int { return strings.Compare(a.ID, b.ID) }), nil
}

func (s *logStore) Visits(after string, limit int) ([]Visit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, visits, _ := s.fold()
	return sortedPage(visits, after, limit, func(v Visit) string { return v.ID }, byVisitNumber), nil
}

func (s *logStore) Event(seq uint64) (Event, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq == 0 || seq > uint64(len(s.events)) {
		return Event{}, false, nil
	}
	return s.events[seq-1], true, nil
}

func (s *logStore) SealedKinds() []RecordKind {
	return []RecordKind{RecordPerson, RecordCard, RecordVisit, RecordKey}
}

func (s *logStore) sealed() map[RecordKind]map[string]SealedRecord {
	people, cards, visits, snap := s.fold()
	out := map[RecordKind]map[string]SealedRecord{RecordPerson: {}, RecordCard: {}, RecordVisit: {}, RecordKey: {}}
	for _, p := range people {
		out[RecordPerson][p.ID] = p.Sealed()
	}
	for _, c := range cards {
		out[RecordCard][c.ID] = c.Sealed()
	}
	for _, v := range visits {
		out[RecordVisit][v.ID] = v.Sealed()
	}
	for _, k := range snap.Keys {
		out[RecordKey][k.ID] = k.Sealed()
	}
	return out
}

func (s *logStore) Sealed(kind RecordKind, after string, limit int) ([]SealedRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedPage(s.sealed()[kind], after, limit, func(r SealedRecord) string { return r.ID },
		func(a, b SealedRecord) int { return strings.Compare(a.ID, b.ID) }), nil
}

func (s *logStore) SealedOne(kind RecordKind, id string) (SealedRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.sealed()[kind][id]
	return r, ok, nil
}

func (s *logStore) SealedSeqs(refs []RecordRef) ([]uint64, error) {
	out := make([]uint64, len(refs))
	for i, r := range refs {
		x, ok, _ := s.SealedOne(r.Kind, r.ID)
		if ok {
			out[i] = x.Seq
		}
	}
	return out, nil
}

func (s *logStore) EventsAt(seqs []uint64) ([]Event, error) {
	out := make([]Event, len(seqs))
	for i, seq := range seqs {
		out[i], _, _ = s.Event(seq)
	}
	return out, nil
}

func (s *logStore) Commit(c Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
	if s.fail != nil {
		return s.fail
	}
	if len(c.Events) > 0 && c.Events[0].Seq != uint64(len(s.events))+1 {
		return errors.New("logStore: seq gap")
	}
	s.changes = append(s.changes, c)
	s.events = append(s.events, c.Events...)
	return nil
}

func (s *logStore) Events(q EventQuery, fn func(Event) error) error {
	s.mu.Lock()
	evs := slices.Clone(s.events)
	s.mu.Unlock()
	for _, e := range evs {
		if q.Match(e) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// strikes is a fake Actuator: the last write per door (true = unlocked).
type strikes struct {
	mu   sync.Mutex
	last map[string]bool
	n    int
}

func (s *strikes) SetStrike(door string, unlocked bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]bool{}
	}
	s.last[door] = unlocked
	s.n++
	return nil
}

func (s *strikes) get(door string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[door]
}

// rig drives a Controller's steps from the test goroutine, standing in for
// Run, with explicit times: domain tests need no goroutine and no clock,
// and go through the same process (commit, apply, failure) as pintud.
type rig struct {
	t     *testing.T
	c     *Controller
	s     *state
	store *logStore
	act   *strikes
	now   time.Time
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newRig(t *testing.T, mod ...func(*Config)) *rig {
	t.Helper()
	cfg := DefaultConfig()
	for _, m := range mod {
		m(&cfg)
	}
	return rigWith(t, cfg, &logStore{}, t0)
}

func rigWith(t *testing.T, cfg Config, store *logStore, now time.Time) *rig {
	t.Helper()
	r := &rig{t: t, store: store, act: &strikes{}, now: now}
	c, err := New(cfg, store, r.act, Options{Now: func() time.Time { return r.now }})
	if err != nil {
		t.Fatal(err)
	}
	r.c, r.s = c, c.st
	r.commit(c.st.start(r.now, nil))
	return r
}

// log is every committed event.
func (r *rig) log() []Event {
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	return slices.Clone(r.store.events)
}

func (r *rig) commit(st *step) error {
	r.t.Helper()
	return r.c.process(st)
}

func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	r.now = r.now.Add(d)
	r.commit(r.s.tick(r.now))
}

func (r *rig) must(st *step, err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.commit(st); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) person(id string, roles ...Role) {
	r.t.Helper()
	r.must(r.s.addPerson(r.now, Person{ID: id, Name: "Name of " + id, Roles: roles}, root))
	r.must(r.s.assignCard(r.now, "card-"+id, id, root))
}

func (r *rig) tapAt(door, reader, person string) Result {
	r.t.Helper()
	res, st, err := r.s.tap(r.now, door, reader, "card-"+person)
	if err != nil {
		r.t.Fatalf("tap %s %s %s: %v", door, reader, person, err)
	}
	if err := r.commit(st); err != nil {
		return Result{Decision: Denied, Reason: ReasonStorageFailure}
	}
	res.Seq = st.resultSeq()
	return res
}

func (r *rig) tap(reader, person string) Result {
	r.t.Helper()
	return r.tapAt("server-room", reader, person)
}

func (r *rig) rex() {
	r.t.Helper()
	r.must(r.s.rex(r.now, "server-room"))
}

func (r *rig) contact(open bool) {
	r.t.Helper()
	r.must(r.s.contact(r.now, "server-room", open))
}

func (r *rig) lockdown(on bool, by string) {
	r.t.Helper()
	st, _, err := r.s.lockdown(r.now, "server-room", on, as(by))
	r.must(st, err)
}

func (r *rig) step(visit string, a Action, by, note string) error {
	r.t.Helper()
	st, _, err := r.s.step(r.now, visit, a, as(by), note)
	if err == nil {
		r.commit(st)
	}
	return err
}

func (r *rig) submit(f VisitForm, by string) (string, error) {
	r.t.Helper()
	st, v, err := r.s.submit(r.now, f, as(by))
	if err != nil {
		return "", err
	}
	if err := r.commit(st); err != nil {
		r.t.Fatal(err)
	}
	return v.ID, nil
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
	return r.approvedFor("vina", escort)
}

func (r *rig) approvedFor(visitor, escort string) string {
	r.t.Helper()
	id, err := r.submit(VisitForm{VisitorID: visitor, Purpose: "replace disk", EscortID: escort}, "adi")
	if err != nil {
		r.t.Fatal(err)
	}
	approved(r, id)
	return id
}

// alarms lists the kinds of the active alarms.
func (r *rig) alarms() []AlarmKind {
	var ks []AlarmKind
	for _, a := range r.s.listAlarms() {
		if a.Active {
			ks = append(ks, a.Kind)
		}
	}
	return ks
}

func (r *rig) hasAlarm(k AlarmKind) bool { return slices.Contains(r.alarms(), k) }

// visit is the stored visit id.
func (r *rig) visit(id string) Visit { v, _, _ := r.s.rec.Visit(id); return v }

func (r *rig) inside(id string) bool { _, ok := r.s.inside[id]; return ok }

func (r *rig) visitState(id string) VisitState { v, _, _ := r.s.rec.Visit(id); return v.State }

func (r *rig) strike() bool { return r.act.get("server-room") }

// last is the last committed event.
func (r *rig) last() Event {
	l := r.log()
	return l[len(l)-1]
}

// verify checks the rig's log is a valid hash chain.
func (r *rig) verify() {
	r.t.Helper()
	var v Verifier
	for _, e := range r.log() {
		if err := v.Next(e); err != nil {
			r.t.Fatal(err)
		}
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }

// as is the person id acting through the local socket, as the API would
// establish it; root is root on the socket.
func as(id string) Actor { return Actor{Person: id, Via: ViaSocket} }

var root = Actor{Root: true, Via: ViaSocket}

// storeVisits is how many visits the store holds.
func (r *rig) storeVisits() int {
	vs, _ := r.store.Visits("", 1000)
	return len(vs)
}
