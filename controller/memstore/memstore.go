// Package memstore is an in-memory [controller.Store] for tests. It keeps
// nothing across restarts. Records are copied in and out, so callers never
// share memory with the store, and a test can make commits fail with
// [Store.FailCommits] to exercise the controller's fail-secure path.
package memstore

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/pintu/pintu/controller"
)

// Store is an in-memory controller.Store. The zero value is not usable; call
// New. It is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	people  map[string]controller.Person
	cards   map[string]controller.Card
	visits  map[string]controller.Visit
	inside  map[string]controller.Occupant
	events  []controller.Event // append-only: stored elements never change
	failErr error

	keys     map[string]controller.Key
	commands map[string]controller.CommandRecord
	alarms   map[string]controller.Alarm
	doors    map[string]controller.DoorRecord
	outboxOn bool
	acked    uint64 // the outbox's watermark: events up to it are acknowledged
	integ    controller.IntegrityState
	removed  map[uint64]bool // events a test took out (TamperEvent)

	console console
}

var _ controller.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		people: map[string]controller.Person{},
		cards:  map[string]controller.Card{},
		visits: map[string]controller.Visit{},
		inside: map[string]controller.Occupant{},

		keys:     map[string]controller.Key{},
		commands: map[string]controller.CommandRecord{},
		alarms:   map[string]controller.Alarm{},
		doors:    map[string]controller.DoorRecord{},
	}
}

// FailCommits makes every later Commit fail with an error wrapping err and
// write nothing, as a full disk would. FailCommits(nil) makes commits work
// again.
func (s *Store) FailCommits(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failErr = err
}

// Load returns copies of the state the controller keeps in memory, records
// ordered by ID.
func (s *Store) Load() (controller.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := controller.Snapshot{
		NumPeople: len(s.people),
		Inside:    sortedValues(s.inside, nil),
		Integrity: cloneIntegrity(s.integ),

		Keys:     sortedValues(s.keys, cloneKey),
		Commands: sortedValues(s.commands, nil),
		Alarms:   sortedValues(s.alarms, nil),
		Doors:    sortedValues(s.doors, nil),
		Accounts: sortedValues(s.console.accounts, nil),
		Links:    maps.Clone(s.console.links),
	}
	if n := len(s.events); n > 0 {
		snap.Last = s.events[n-1]
	}
	for id := range s.visits {
		snap.LastVisit = max(snap.LastVisit, visitNumber(id))
	}
	return snap, nil
}

// Commit applies c atomically: it checks all of c before changing anything.
func (s *Store) Commit(c controller.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil {
		return fmt.Errorf("memstore: commit: %w", s.failErr)
	}
	if err := check(c, uint64(len(s.events))); err != nil {
		return fmt.Errorf("memstore: commit: %w", err)
	}
	s.events = append(s.events, c.Events...)
	for _, p := range c.People {
		s.people[p.ID] = clonePerson(p)
	}
	for _, cd := range c.Cards {
		s.cards[cd.ID] = cd
	}
	for _, v := range c.Visits {
		s.visits[v.ID] = cloneVisit(v)
	}
	for _, o := range c.Enter {
		s.inside[o.Person] = o
	}
	for _, id := range c.Leave {
		delete(s.inside, id)
	}
	s.commitRemote(c)
	for _, a := range c.Alarms {
		s.alarms[a.ID] = a
	}
	for _, id := range c.AlarmsGone {
		delete(s.alarms, id)
	}
	for _, d := range c.Doors {
		s.doors[d.Name] = d
	}
	s.console.commit(c)
	if c.Integrity != nil {
		s.integ = cloneIntegrity(*c.Integrity)
	}
	return nil
}

// Events calls fn for the matching events stored when Events is called, in
// sequence order. fn runs without the store's lock held, so it may Commit.
func (s *Store) Events(q controller.EventQuery, fn func(controller.Event) error) error {
	s.mu.Lock()
	evs := s.events // stored elements never change, so this view stays valid
	removed := s.removed
	s.mu.Unlock()

	if q.FromSeq > 1 {
		evs = evs[min(q.FromSeq-1, uint64(len(evs))):] // Seq s is at index s-1
	}
	for _, e := range evs {
		if q.ToSeq != 0 && e.Seq > q.ToSeq {
			break
		}
		if !q.Match(e) || removed[e.Seq] {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// check reports why c cannot follow a log whose last event has Seq last.
func check(c controller.Change, last uint64) error {
	for i, e := range c.Events {
		if want := last + 1 + uint64(i); e.Seq != want {
			return fmt.Errorf("event %d of %d has seq %d, want %d (last stored seq %d)", i+1, len(c.Events), e.Seq, want, last)
		}
	}
	for _, p := range c.People {
		if p.ID == "" {
			return errors.New("person without an id")
		}
	}
	for _, cd := range c.Cards {
		if cd.ID == "" {
			return errors.New("card without an id")
		}
	}
	for _, v := range c.Visits {
		if v.ID == "" {
			return errors.New("visit without an id")
		}
	}
	for _, o := range c.Enter {
		if o.Person == "" {
			return errors.New("occupant without a person id")
		}
	}
	for _, id := range c.Leave {
		if id == "" {
			return errors.New("leave without a person id")
		}
	}
	for _, a := range c.Alarms {
		if a.ID == "" {
			return errors.New("alarm without an id")
		}
	}
	for _, id := range c.AlarmsGone {
		if id == "" {
			return errors.New("alarm gone without an id")
		}
	}
	for _, d := range c.Doors {
		if d.Name == "" {
			return errors.New("door record without a name")
		}
	}
	for _, cr := range c.Credentials {
		if cr.Person == "" {
			return errors.New("credential without a person id")
		}
	}
	for _, a := range c.Accounts {
		if a.Person == "" {
			return errors.New("account without a person id")
		}
	}
	return checkRemote(c)
}

// sortedValues returns m's values ordered by key, each passed through clone
// when it is not nil.
func sortedValues[V any](m map[string]V, clone func(V) V) []V {
	keys := slices.Sorted(maps.Keys(m))
	vs := make([]V, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if clone != nil {
			v = clone(v)
		}
		vs = append(vs, v)
	}
	return vs
}

func cloneIntegrity(in controller.IntegrityState) controller.IntegrityState {
	in.Breaks, in.Accepted = slices.Clone(in.Breaks), slices.Clone(in.Accepted)
	return in
}

func clonePerson(p controller.Person) controller.Person {
	p.Roles = slices.Clone(p.Roles)
	return p
}

func cloneVisit(v controller.Visit) controller.Visit {
	v.Steps = slices.Clone(v.Steps)
	return v
}
