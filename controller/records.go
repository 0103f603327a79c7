package controller

import (
	"cmp"
	"maps"
	"slices"
)

// records is how the controller reads the people, cards, visits and keys it
// decides on. The access rule, the workflow and the remote verifier read
// through it (by way of a step, which lays the step's own writes over it);
// nothing but apply writes to it, with a committed Change.
//
// Values it returns may share memory with it (a person's Roles, a visit's
// Steps, a key's Public): callers clone before they change one.
//
// Today it is memRecords, the maps loaded at start. It is an interface so
// that a store-backed implementation with a bounded cache can replace it
// without touching the rules.
type records interface {
	Person(id string) (Person, bool)
	Card(id string) (Card, bool)
	Visit(id string) (Visit, bool)
	// VisitsOf lists a visitor's visit IDs, oldest first.
	VisitsOf(visitor string) []string
	Key(id string) (Key, bool)

	// People, Cards, Visits and Keys list every record, ordered by ID
	// (visits by number), for queries.
	People() []Person
	Cards() []Card
	Visits() []Visit
	Keys() []Key
	// NumPeople is how many people are registered.
	NumPeople() int

	// Apply writes the records of a committed change.
	Apply(c Change)
}

// memRecords holds every record in memory.
type memRecords struct {
	people    map[string]Person
	cards     map[string]Card
	visits    map[string]Visit
	byVisitor map[string][]string // visitor id -> visit ids, oldest first
	keys      map[string]Key
}

var _ records = (*memRecords)(nil)

func newMemRecords(snap Snapshot) *memRecords {
	m := &memRecords{
		people:    make(map[string]Person, len(snap.People)),
		cards:     make(map[string]Card, len(snap.Cards)),
		visits:    make(map[string]Visit, len(snap.Visits)),
		byVisitor: map[string][]string{},
		keys:      make(map[string]Key, len(snap.Keys)),
	}
	for _, p := range snap.People {
		m.people[p.ID] = p
	}
	for _, c := range snap.Cards {
		m.cards[c.ID] = c
	}
	vs := slices.Clone(snap.Visits)
	slices.SortFunc(vs, byVisitNumber)
	for _, v := range vs {
		m.putVisit(v)
	}
	for _, k := range snap.Keys {
		m.keys[k.ID] = k
	}
	return m
}

func byVisitNumber(a, b Visit) int { return cmp.Compare(visitNumber(a.ID), visitNumber(b.ID)) }

func (m *memRecords) Person(id string) (Person, bool) { p, ok := m.people[id]; return p, ok }
func (m *memRecords) Card(id string) (Card, bool)     { c, ok := m.cards[id]; return c, ok }
func (m *memRecords) Visit(id string) (Visit, bool)   { v, ok := m.visits[id]; return v, ok }
func (m *memRecords) VisitsOf(visitor string) []string {
	return m.byVisitor[visitor]
}
func (m *memRecords) Key(id string) (Key, bool) { k, ok := m.keys[id]; return k, ok }
func (m *memRecords) NumPeople() int            { return len(m.people) }

func (m *memRecords) People() []Person {
	ps := slices.SortedFunc(maps.Values(m.people), func(a, b Person) int { return cmp.Compare(a.ID, b.ID) })
	for i := range ps {
		ps[i].Roles = slices.Clone(ps[i].Roles)
	}
	return ps
}

func (m *memRecords) Cards() []Card {
	return slices.SortedFunc(maps.Values(m.cards), func(a, b Card) int { return cmp.Compare(a.ID, b.ID) })
}

func (m *memRecords) Visits() []Visit {
	vs := make([]Visit, 0, len(m.visits))
	for _, v := range m.visits {
		vs = append(vs, v.clone())
	}
	slices.SortFunc(vs, byVisitNumber)
	return vs
}

func (m *memRecords) Keys() []Key {
	ks := slices.SortedFunc(maps.Values(m.keys), func(a, b Key) int { return cmp.Compare(a.ID, b.ID) })
	for i := range ks {
		ks[i].Public = slices.Clone(ks[i].Public)
	}
	return ks
}

func (m *memRecords) Apply(c Change) {
	for _, p := range c.People {
		m.people[p.ID] = p
	}
	for _, cd := range c.Cards {
		m.cards[cd.ID] = cd
	}
	for _, v := range c.Visits {
		m.putVisit(v)
	}
	for _, k := range c.Keys {
		m.keys[k.ID] = k
	}
}

func (m *memRecords) putVisit(v Visit) {
	if _, had := m.visits[v.ID]; !had {
		m.byVisitor[v.VisitorID] = append(m.byVisitor[v.VisitorID], v.ID)
	}
	m.visits[v.ID] = v
}
