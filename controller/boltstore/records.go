package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
)

// This file is the record buckets: people, cards, visits (with the index
// of each visitor's visits) and keys, binary-encoded (encode.go).

// bulkRecords is how many records of one kind a change must write for its
// bucket's pages to be filled high: an import appends in id order.
const bulkRecords = 64

// commitRecords writes a change's people, cards, visits and keys, and
// counts the people it adds.
func commitRecords(b *buckets, c controller.Change) error {
	if len(c.People) >= bulkRecords {
		b.people().FillPercent = 0.9
	}
	if len(c.Cards) >= bulkRecords {
		b.cards().FillPercent = 0.9
		b.holders().FillPercent = 0.9
	}
	added := 0
	for _, p := range c.People {
		if p.ID == "" {
			return errors.New("person without an id")
		}
		if b.people().Get([]byte(p.ID)) == nil {
			added++
		}
		if err := b.people().Put([]byte(p.ID), encodePerson(p)); err != nil {
			return fmt.Errorf("person %q: %w", p.ID, err)
		}
	}
	if added > 0 {
		if err := putCounter(b.meta(), keyPeople, counter(b.meta(), keyPeople)+uint64(added)); err != nil {
			return fmt.Errorf("count people: %w", err)
		}
	}
	for _, cd := range c.Cards {
		if err := putCard(b, cd); err != nil {
			return err
		}
	}
	for _, v := range c.Visits {
		if err := putVisit(b, v); err != nil {
			return err
		}
	}
	for _, k := range c.Keys {
		if k.ID == "" {
			return errors.New("key without an id")
		}
		if err := b.keys().Put([]byte(k.ID), encodeKey(k)); err != nil {
			return fmt.Errorf("key %q: %w", k.ID, err)
		}
	}
	return nil
}

// putCard writes a card and its entry in the index of each person's cards.
func putCard(b *buckets, cd controller.Card) error {
	if cd.ID == "" {
		return errors.New("card without an id")
	}
	key := []byte(cd.ID)
	if old := b.cards().Get(key); old != nil {
		prev, err := decodeCard(cd.ID, old)
		if err != nil {
			return fmt.Errorf("card %q: %w", cd.ID, err)
		}
		if prev.PersonID != cd.PersonID {
			if err := b.holders().Delete(holderKey(prev.PersonID, cd.ID)); err != nil {
				return fmt.Errorf("card %q: %w", cd.ID, err)
			}
		}
	}
	if err := b.cards().Put(key, encodeCard(cd)); err != nil {
		return fmt.Errorf("card %q: %w", cd.ID, err)
	}
	if err := b.holders().Put(holderKey(cd.PersonID, cd.ID), nil); err != nil {
		return fmt.Errorf("card %q: index: %w", cd.ID, err)
	}
	return nil
}

// holderKey is the index entry of one of a person's cards.
func holderKey(person, card string) []byte {
	return append(append([]byte(person), 0), card...)
}

func putVisit(b *buckets, v controller.Visit) error {
	if v.ID == "" {
		return errors.New("visit without an id")
	}
	key := visitKey(v.ID)
	if old := b.visits().Get(key); old != nil {
		prev, err := decodeVisit(old)
		if err != nil {
			return fmt.Errorf("visit %q: %w", v.ID, err)
		}
		if prev.VisitorID != v.VisitorID {
			if err := b.visitors().Delete(visitorKey(prev.VisitorID, key)); err != nil {
				return fmt.Errorf("visit %q: %w", v.ID, err)
			}
		}
	}
	if err := b.visits().Put(key, encodeVisit(v)); err != nil {
		return fmt.Errorf("visit %q: %w", v.ID, err)
	}
	if err := b.visitors().Put(visitorKey(v.VisitorID, key), nil); err != nil {
		return fmt.Errorf("visit %q: index: %w", v.ID, err)
	}
	return nil
}

// visitKey is a visit's key: its number (V0042: 42) big-endian, then its
// id, so that V0010 follows V0009 and an id of another shape still has a
// place.
func visitKey(id string) []byte {
	n, _ := strconv.ParseUint(strings.TrimPrefix(id, "V"), 10, 64)
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), n), id...)
}

func visitKeyNumber(k []byte) uint64 {
	if len(k) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

// visitorKey is the index entry of one of a visitor's visits.
func visitorKey(visitor string, key []byte) []byte {
	return append(append([]byte(visitor), 0), key...)
}

// get reads one record by key in a guarded read transaction; a read that
// hits damage is an *controller.IntegrityError naming the record.
func get[T any](s *Store, kind controller.RecordKind, id string, bucket func(*buckets) *bolt.Bucket, key []byte,
	decode func([]byte) (T, error)) (T, bool, error) {
	var x T
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		v := bucket(bucketsOf(tx)).Get(key)
		if v == nil {
			return nil
		}
		var err error
		x, err = decode(v)
		ok = err == nil
		return err
	})
	if err != nil {
		var zero T
		return zero, false, s.recordError(kind, id, err)
	}
	return x, ok, nil
}

func (s *Store) recordError(kind controller.RecordKind, id string, err error) error {
	if errors.Is(err, ErrClosed) {
		return fmt.Errorf("boltstore: %s %s: %w", kind, id, err)
	}
	var pe *panicError
	if errors.As(err, &pe) {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return &controller.IntegrityError{Kind: kind, ID: id, Reason: "the stored record cannot be read", Err: err}
}

// Person returns a stored person.
func (s *Store) Person(id string) (controller.Person, bool, error) {
	return get(s, controller.RecordPerson, id, func(b *buckets) *bolt.Bucket { return b.people() }, []byte(id),
		func(v []byte) (controller.Person, error) { return decodePerson(id, v) })
}

// Card returns a stored card.
func (s *Store) Card(id string) (controller.Card, bool, error) {
	return get(s, controller.RecordCard, id, func(b *buckets) *bolt.Bucket { return b.cards() }, []byte(id),
		func(v []byte) (controller.Card, error) { return decodeCard(id, v) })
}

// Visit returns a stored visit.
func (s *Store) Visit(id string) (controller.Visit, bool, error) {
	return get(s, controller.RecordVisit, id, func(b *buckets) *bolt.Bucket { return b.visits() }, visitKey(id), decodeVisit)
}

// VisitsOf lists a visitor's visit IDs, oldest first.
func (s *Store) VisitsOf(visitor string) ([]string, error) {
	var ids []string
	prefix := append([]byte(visitor), 0)
	err := s.view(func(tx *bolt.Tx) error {
		c := bucketsOf(tx).visitors().Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if key := k[len(prefix):]; len(key) > 8 {
				ids = append(ids, string(key[8:]))
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.recordError(controller.RecordVisit, "of "+visitor, err)
	}
	return ids, nil
}

// CardsOf lists the cards a person holds or held, by card id.
func (s *Store) CardsOf(person string) ([]controller.Card, error) {
	var out []controller.Card
	prefix := append([]byte(person), 0)
	err := s.view(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		c := b.holders().Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := string(k[len(prefix):])
			v := b.cards().Get([]byte(id))
			if v == nil {
				continue
			}
			cd, err := decodeCard(id, v)
			if err != nil {
				return fmt.Errorf("card %q: %w", id, err)
			}
			if cd.PersonID == person {
				out = append(out, cd)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.recordError(controller.RecordCard, "of "+person, err)
	}
	return out, nil
}

// list reads up to limit records of a bucket whose key comes after the
// one given.
func list[T any](s *Store, kind controller.RecordKind, bucket func(*buckets) *bolt.Bucket, after []byte, limit int,
	decode func(k, v []byte) (T, error)) ([]T, error) {
	var out []T
	err := s.view(func(tx *bolt.Tx) error {
		c := bucket(bucketsOf(tx)).Cursor()
		k, v := c.First()
		if len(after) > 0 {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			x, err := decode(k, v)
			if err != nil {
				return fmt.Errorf("%s %q: %w", kind, k, err)
			}
			out = append(out, x)
		}
		return nil
	})
	if err != nil {
		return nil, s.recordError(kind, string(after), err)
	}
	return out, nil
}

// People lists up to limit people after the given id.
func (s *Store) People(after string, limit int) ([]controller.Person, error) {
	return list(s, controller.RecordPerson, func(b *buckets) *bolt.Bucket { return b.people() }, []byte(after), limit,
		func(k, v []byte) (controller.Person, error) { return decodePerson(string(k), v) })
}

// Cards lists up to limit cards after the given id.
func (s *Store) Cards(after string, limit int) ([]controller.Card, error) {
	return list(s, controller.RecordCard, func(b *buckets) *bolt.Bucket { return b.cards() }, []byte(after), limit,
		func(k, v []byte) (controller.Card, error) { return decodeCard(string(k), v) })
}

// Visits lists up to limit visits after the given one, by number.
func (s *Store) Visits(after string, limit int) ([]controller.Visit, error) {
	var from []byte
	if after != "" {
		from = visitKey(after)
	}
	return list(s, controller.RecordVisit, func(b *buckets) *bolt.Bucket { return b.visits() }, from, limit,
		func(_, v []byte) (controller.Visit, error) { return decodeVisit(v) })
}

// SealedKinds lists the record kinds the store holds.
func (s *Store) SealedKinds() []controller.RecordKind { return recordKinds }

// Sealed lists up to limit records of kind after the given id.
func (s *Store) Sealed(kind controller.RecordKind, after string, limit int) ([]controller.SealedRecord, error) {
	var key []byte
	if after != "" {
		key = []byte(after)
		if kind == controller.RecordVisit {
			key = visitKey(after)
		}
	}
	bucket, seal, err := sealer(kind)
	if err != nil {
		return nil, err
	}
	return list(s, kind, bucket, key, limit, seal)
}

// SealedOne returns one record as the integrity check sees it.
func (s *Store) SealedOne(kind controller.RecordKind, id string) (controller.SealedRecord, bool, error) {
	bucket, seal, err := sealer(kind)
	if err != nil {
		return controller.SealedRecord{}, false, err
	}
	key := []byte(id)
	if kind == controller.RecordVisit {
		key = visitKey(id)
	}
	return get(s, kind, id, bucket, key, func(v []byte) (controller.SealedRecord, error) { return seal(key, v) })
}

func sealer(kind controller.RecordKind) (func(*buckets) *bolt.Bucket, func(k, v []byte) (controller.SealedRecord, error), error) {
	switch kind {
	case controller.RecordPerson:
		return func(b *buckets) *bolt.Bucket { return b.people() }, func(k, v []byte) (controller.SealedRecord, error) {
			p, err := decodePerson(string(k), v)
			return p.Sealed(), err
		}, nil
	case controller.RecordCard:
		return func(b *buckets) *bolt.Bucket { return b.cards() }, func(k, v []byte) (controller.SealedRecord, error) {
			c, err := decodeCard(string(k), v)
			return c.Sealed(), err
		}, nil
	case controller.RecordVisit:
		return func(b *buckets) *bolt.Bucket { return b.visits() }, func(_, v []byte) (controller.SealedRecord, error) {
			x, err := decodeVisit(v)
			return x.Sealed(), err
		}, nil
	case controller.RecordKey:
		return func(b *buckets) *bolt.Bucket { return b.keys() }, func(k, v []byte) (controller.SealedRecord, error) {
			x, err := decodeKey(string(k), v)
			return x.Sealed(), err
		}, nil
	}
	return nil, nil, fmt.Errorf("boltstore: no records of kind %q", kind)
}

// recordSeq reads the seq a stored record carries without decoding the
// rest: it follows the format byte as a uvarint. A record still in JSON
// (a migration cut short) carries none.
func recordSeq(v []byte) uint64 {
	if len(v) < 2 || v[0] != formatV1 {
		return 0
	}
	seq, n := binary.Uvarint(v[1:])
	if n <= 0 {
		return 0
	}
	return seq
}

// SealedSeqs returns the seq each named record carries, 0 for none, in
// one read transaction.
func (s *Store) SealedSeqs(refs []controller.RecordRef) ([]uint64, error) {
	out := make([]uint64, len(refs))
	err := s.view(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		for i, r := range refs {
			var v []byte
			switch r.Kind {
			case controller.RecordPerson:
				v = b.people().Get([]byte(r.ID))
			case controller.RecordCard:
				v = b.cards().Get([]byte(r.ID))
			case controller.RecordVisit:
				v = b.visits().Get(visitKey(r.ID))
			case controller.RecordKey:
				v = b.keys().Get([]byte(r.ID))
			}
			out[i] = recordSeq(v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: record seqs: %w", s.integrity(err, 0))
	}
	return out, nil
}

// EventsAt returns the events at seqs, without their Prev, in one read
// transaction.
func (s *Store) EventsAt(seqs []uint64) ([]controller.Event, error) {
	out := make([]controller.Event, len(seqs))
	err := s.view(func(tx *bolt.Tx) error {
		events := bucketsOf(tx).events()
		for i, seq := range seqs {
			v := events.Get(seqKey(seq))
			if v == nil {
				continue
			}
			e, err := decodeEvent(seq, v, "")
			if err != nil {
				return &controller.IntegrityError{Seq: seq, Reason: "its stored value cannot be decoded", Err: err}
			}
			out[i] = e
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: events: %w", s.integrity(err, 0))
	}
	return out, nil
}
