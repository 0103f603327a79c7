package controller

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// records is how the controller reads the people, cards, visits and keys it
// decides on. The access rule, the workflow and the remote verifier read
// through it (by way of a step, which lays the step's own writes over it);
// nothing but apply writes to it, with a committed Change.
//
// Values it returns may share memory with it (a person's Roles, a visit's
// Steps, a key's Public): callers clone before they change one.
//
// A read that fails (the store hit damage, or the record does not match the
// event that sealed it) returns an error wrapping ErrIntegrity; the caller
// refuses what it was deciding and the integrity alarm is raised.
type records interface {
	Person(id string) (Person, bool, error)
	Card(id string) (Card, bool, error)
	Visit(id string) (Visit, bool, error)
	// VisitsOf lists a visitor's visit IDs, oldest first.
	VisitsOf(visitor string) ([]string, error)
	// Key and Keys read the remote command keys, which are few and all in
	// memory, checked when the controller starts.
	Key(id string) (Key, bool)
	Keys() []Key
	// Apply writes the records of a committed change.
	Apply(c Change)
	// Unchecked reads the store without the checks, for a head's
	// acceptance to seal a broken record again as it is; badKey returns a
	// key that failed its check when the controller started.
	Unchecked() RecordStore
	badKey(id string) (Key, bool)
}

// DefaultRecordCache is how many records of each kind (people, cards,
// visits) the controller keeps decoded and checked, per generation of its
// cache: at most twice this many of each are in memory.
const DefaultRecordCache = 4096

// storeRecords reads records from the store, checks each against the event
// that sealed it, and keeps the checked ones in a bounded cache. It runs on
// the Run goroutine only: a read is a bbolt lookup in the memory-mapped
// file, a few microseconds.
type storeRecords struct {
	store  RecordStore
	people *genCache[Person]
	cards  *genCache[Card]
	visits *genCache[Visit]
	of     *genCache[[]string] // visitor id -> visit ids
	// sealers are events that sealed records, their hash checked: a card
	// and its holder imported together share one.
	sealers *genCache[Event]
	keys    map[string]Key // checked
	bad     map[string]Key // failed their check: refused, kept to seal again
}

var _ records = (*storeRecords)(nil)

// newStoreRecords checks the keys against their events, keeping those that
// pass; the failures are returned, for the integrity alarm.
func newStoreRecords(store RecordStore, keys []Key, size int) (*storeRecords, []error) {
	if size <= 0 {
		size = DefaultRecordCache
	}
	r := &storeRecords{store: store, people: newGenCache[Person](size), cards: newGenCache[Card](size),
		visits: newGenCache[Visit](size), of: newGenCache[[]string](size), sealers: newGenCache[Event](size),
		keys: make(map[string]Key, len(keys)), bad: map[string]Key{}}
	var faults []error
	for _, k := range keys {
		if err := r.check(k.Sealed()); err != nil {
			faults = append(faults, err)
			r.bad[k.ID] = k
			continue
		}
		r.keys[k.ID] = k
	}
	return r, faults
}

func (r *storeRecords) Unchecked() RecordStore { return r.store }

func (r *storeRecords) badKey(id string) (Key, bool) { k, ok := r.bad[id]; return k, ok }

func (r *storeRecords) Person(id string) (Person, bool, error) {
	return cached(r, r.people, id, r.store.Person, Person.Sealed)
}

func (r *storeRecords) Card(id string) (Card, bool, error) {
	return cached(r, r.cards, id, r.store.Card, Card.Sealed)
}

func (r *storeRecords) Visit(id string) (Visit, bool, error) {
	return cached(r, r.visits, id, r.store.Visit, Visit.Sealed)
}

// cached reads a record through the cache, checking it against its event
// on the way in. Unknown ids are not cached: a card nobody holds costs a
// lookup each time it is read, which is what it costs to know.
func cached[T any](r *storeRecords, c *genCache[T], id string, read func(string) (T, bool, error), seal func(T) SealedRecord) (T, bool, error) {
	var zero T
	if v, ok := c.get(id); ok {
		return v, true, nil
	}
	v, ok, err := read(id)
	if err != nil {
		return zero, false, asIntegrity(err)
	}
	if !ok {
		return zero, false, nil
	}
	if err := r.check(seal(v)); err != nil {
		return zero, false, err
	}
	c.put(id, v)
	return v, true, nil
}

// check checks a stored record against the event that sealed it.
func (r *storeRecords) check(s SealedRecord) error {
	if s.Seq == 0 {
		return checkSeal(s, Event{})
	}
	key := strconv.FormatUint(s.Seq, 10)
	if e, ok := r.sealers.get(key); ok {
		return checkRef(s, e) // its hash was checked when it was read
	}
	e, ok, err := r.store.Event(s.Seq)
	if err != nil {
		return &IntegrityError{Kind: s.Kind, ID: s.ID, Seq: s.Seq, Reason: fmt.Sprintf("its event #%d cannot be read", s.Seq), Err: err}
	}
	if !ok {
		e = Event{}
	}
	if err := checkSeal(s, e); err != nil {
		return err
	}
	r.sealers.put(key, e)
	return nil
}

// asIntegrity makes any failed store read an integrity failure: a read the
// controller cannot make is refused like a damaged one.
func asIntegrity(err error) error {
	if errors.Is(err, ErrIntegrity) {
		return err
	}
	return &IntegrityError{Reason: "the store could not be read", Err: err}
}

func (r *storeRecords) VisitsOf(visitor string) ([]string, error) {
	if ids, ok := r.of.get(visitor); ok {
		return ids, nil
	}
	ids, err := r.store.VisitsOf(visitor)
	if err != nil {
		return nil, asIntegrity(err)
	}
	r.of.put(visitor, ids)
	return ids, nil
}

func (r *storeRecords) Key(id string) (Key, bool) { k, ok := r.keys[id]; return k, ok }

func (r *storeRecords) Keys() []Key {
	ks := slices.SortedFunc(maps.Values(r.keys), func(a, b Key) int { return cmp.Compare(a.ID, b.ID) })
	for i := range ks {
		ks[i].Public = slices.Clone(ks[i].Public)
	}
	return ks
}

// Apply puts the change's records in the cache: the controller wrote them,
// so they need no check.
func (r *storeRecords) Apply(c Change) {
	for _, p := range c.People {
		r.people.put(p.ID, p)
	}
	for _, cd := range c.Cards {
		r.cards.put(cd.ID, cd)
	}
	for _, v := range c.Visits {
		if _, had := r.visits.get(v.ID); !had {
			// A new visit: its visitor's list grows. Drop the cached list
			// rather than guess; the next read fetches it.
			r.of.drop(v.VisitorID)
		}
		r.visits.put(v.ID, v)
	}
	for _, k := range c.Keys {
		r.keys[k.ID] = k
		delete(r.bad, k.ID)
	}
}

// genCache is a bounded cache of two generations: lookups hit either, new
// entries go to the young one, and when the young one is full the old one
// is dropped and the young one takes its place. What is read often stays;
// at most 2×size entries are held; nothing scans or sorts.
type genCache[T any] struct {
	size       int
	young, old map[string]T
}

func newGenCache[T any](size int) *genCache[T] {
	return &genCache[T]{size: size, young: make(map[string]T, size)}
}

func (c *genCache[T]) get(id string) (T, bool) {
	if v, ok := c.young[id]; ok {
		return v, true
	}
	v, ok := c.old[id]
	if ok {
		c.put(id, v) // promote
	}
	return v, ok
}

func (c *genCache[T]) put(id string, v T) {
	if _, ok := c.young[id]; !ok && len(c.young) >= c.size {
		c.old, c.young = c.young, make(map[string]T, c.size)
	}
	c.young[id] = v
}

func (c *genCache[T]) drop(id string) {
	delete(c.young, id)
	delete(c.old, id)
}

func byVisitNumber(a, b Visit) int { return cmp.Compare(visitNumber(a.ID), visitNumber(b.ID)) }
