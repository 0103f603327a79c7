package memstore

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/pintu/pintu/controller"
)

// Person returns a copy of a stored person.
func (s *Store) Person(id string) (controller.Person, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[id]
	return clonePerson(p), ok, nil
}

// Card returns a stored card.
func (s *Store) Card(id string) (controller.Card, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cards[id]
	return c, ok, nil
}

// Visit returns a copy of a stored visit.
func (s *Store) Visit(id string) (controller.Visit, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.visits[id]
	return cloneVisit(v), ok, nil
}

// VisitsOf lists a visitor's visit IDs, oldest first.
func (s *Store) VisitsOf(visitor string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, v := range s.visits {
		if v.VisitorID == visitor {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Compare(visitNumber(a), visitNumber(b)) })
	return ids, nil
}

// CardsOf lists the cards a person holds or held, by card id.
func (s *Store) CardsOf(person string) ([]controller.Card, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []controller.Card
	for _, c := range s.cards {
		if c.PersonID == person {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b controller.Card) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// People lists up to limit people after the given id.
func (s *Store) People(after string, limit int) ([]controller.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.people, after, limit, strings.Compare, clonePerson), nil
}

// Cards lists up to limit cards after the given id.
func (s *Store) Cards(after string, limit int) ([]controller.Card, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.cards, after, limit, strings.Compare, nil), nil
}

// Visits lists up to limit visits after the given one, by number.
func (s *Store) Visits(after string, limit int) ([]controller.Visit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byNumber := func(a, b string) int { return cmp.Compare(visitNumber(a), visitNumber(b)) }
	return page(s.visits, after, limit, byNumber, cloneVisit), nil
}

func page[V any](m map[string]V, after string, limit int, order func(a, b string) int, clone func(V) V) []V {
	keys := slices.SortedFunc(maps.Keys(m), order)
	var out []V
	for _, k := range keys {
		if after != "" && order(k, after) <= 0 {
			continue
		}
		if len(out) == limit {
			break
		}
		v := m[k]
		if clone != nil {
			v = clone(v)
		}
		out = append(out, v)
	}
	return out
}

// Event returns event seq with its Prev.
func (s *Store) Event(seq uint64) (controller.Event, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq == 0 || seq > uint64(len(s.events)) || s.removed[seq] {
		return controller.Event{}, false, nil
	}
	return s.events[seq-1], true, nil
}

// SealedKinds lists the record kinds the store holds.
func (s *Store) SealedKinds() []controller.RecordKind {
	return []controller.RecordKind{controller.RecordPerson, controller.RecordCard, controller.RecordVisit, controller.RecordKey}
}

// Sealed lists up to limit records of kind after the given id.
func (s *Store) Sealed(kind controller.RecordKind, after string, limit int) ([]controller.SealedRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case controller.RecordPerson:
		return sealedPage(s.people, after, limit, controller.Person.Sealed), nil
	case controller.RecordCard:
		return sealedPage(s.cards, after, limit, controller.Card.Sealed), nil
	case controller.RecordVisit:
		return sealedPage(s.visits, after, limit, controller.Visit.Sealed), nil
	case controller.RecordKey:
		return sealedPage(s.keys, after, limit, controller.Key.Sealed), nil
	}
	return nil, fmt.Errorf("memstore: no records of kind %q", kind)
}

func sealedPage[V any](m map[string]V, after string, limit int, seal func(V) controller.SealedRecord) []controller.SealedRecord {
	var out []controller.SealedRecord
	for _, v := range page(m, after, limit, strings.Compare, nil) {
		out = append(out, seal(v))
	}
	return out
}

// SealedOne returns one record as the integrity check sees it.
func (s *Store) SealedOne(kind controller.RecordKind, id string) (controller.SealedRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case controller.RecordPerson:
		return sealedOne(s.people, id, controller.Person.Sealed)
	case controller.RecordCard:
		return sealedOne(s.cards, id, controller.Card.Sealed)
	case controller.RecordVisit:
		return sealedOne(s.visits, id, controller.Visit.Sealed)
	case controller.RecordKey:
		return sealedOne(s.keys, id, controller.Key.Sealed)
	}
	return controller.SealedRecord{}, false, nil
}

func sealedOne[V any](m map[string]V, id string, seal func(V) controller.SealedRecord) (controller.SealedRecord, bool, error) {
	v, ok := m[id]
	if !ok {
		return controller.SealedRecord{}, false, nil
	}
	return seal(v), true, nil
}

// Tamper changes a stored record behind the controller's back, as someone
// editing the file offline would: fn gets the stored person and returns
// what to store. For tests of the integrity checks.
func (s *Store) Tamper(id string, fn func(controller.Person) controller.Person) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.people[id] = fn(clonePerson(s.people[id]))
}

func visitNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "V"))
	return n
}

// TamperEvent changes a stored event behind the controller's back, as
// someone with the database file would: edit changes the event, and
// returning false takes it out of the log. For tests of the integrity
// checks.
func (s *Store) TamperEvent(seq uint64, edit func(*controller.Event) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := slices.Clone(s.events) // readers keep the view they took
	keep := edit(&evs[seq-1])
	s.events = evs
	removed := maps.Clone(s.removed)
	if removed == nil {
		removed = map[uint64]bool{}
	}
	if !keep {
		removed[seq] = true
	}
	s.removed = removed
}

// SealedSeqs returns the seq each named record carries, 0 for none.
func (s *Store) SealedSeqs(refs []controller.RecordRef) ([]uint64, error) {
	out := make([]uint64, len(refs))
	for i, r := range refs {
		x, ok, err := s.SealedOne(r.Kind, r.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = x.Seq
		}
	}
	return out, nil
}

// EventsAt returns the events at seqs.
func (s *Store) EventsAt(seqs []uint64) ([]controller.Event, error) {
	out := make([]controller.Event, len(seqs))
	for i, seq := range seqs {
		e, _, err := s.Event(seq)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}
