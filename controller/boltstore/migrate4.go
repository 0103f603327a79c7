package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
)

// migrate4 brings a schema 3 file (JSON values) to schema 4, in steps of
// one transaction each, so that a log of a million events never needs one
// transaction that big, and a migration cut short goes on where it
// stopped. Each step records how far it got in the same transaction as
// its work (keyM4Events, keyM4Seal):
//
//  1. The outbox becomes a watermark (the oldest event not acknowledged,
//     less one), people are counted, the new visit buckets are made.
//  2. Events are re-encoded in order, m4Chunk per step, and the chain is
//     verified as they go: the integrity state's checkpoint follows, and a
//     break is listed (the controller raises the alarm when it starts).
//     Hashes never change: the chain's canonical bytes do not depend on
//     the encoding.
//  3. Every person, card, key and visit is sealed as it was found: a
//     record_sealed event carrying its digest is appended to the log and
//     the record, re-encoded, carries that event's seq. Visits move to
//     visits_by_number, with the visitor index.
//  4. The old buckets go, and a checkpoint event closes the migration.
func migrate4(db *bolt.DB, env migrateEnv) error {
	if err := db.Update(m4Start); err != nil {
		return fmt.Errorf("outbox and counts: %w", err)
	}
	for more := true; more; {
		if err := db.Update(func(tx *bolt.Tx) error {
			var err error
			more, err = m4Events(tx)
			return err
		}); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		env.progress("events")
	}
	for more := true; more; {
		if err := db.Update(func(tx *bolt.Tx) error {
			var err error
			more, err = m4Seal(tx, env.now().UTC())
			return err
		}); err != nil {
			return fmt.Errorf("seal records: %w", err)
		}
		env.progress("records")
	}
	if err := db.Update(func(tx *bolt.Tx) error { return m4Finish(tx, env.now().UTC()) }); err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	return nil
}

// m4Chunk is how many events or records one step converts.
const m4Chunk = 10000

var (
	keyM4Events = []byte("m4_events") // 8-byte big-endian: the next event to re-encode
	keyM4Seal   = []byte("m4_seal")   // kind byte and the last record id sealed
)

func (env migrateEnv) progress(what string) {
	if env.log != nil {
		env.log.Debug("schema 4 migration", "step", what)
	}
}

// m4Start makes the new buckets, the outbox watermark and the people
// count, once.
func m4Start(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Get(keyM4Events) != nil {
		return nil // done before the migration was cut short
	}
	if err := createBuckets(tx, bucketVisitsN, bucketVisitors, bucketHolders, bucketPeople, bucketCards, bucketEvents,
		bucketKeys, bucketCommands, bucketAlarms, bucketDoors, bucketInside); err != nil {
		return err
	}
	last, _, err := lastEventSeq(tx.Bucket(bucketEvents))
	if err != nil {
		return err
	}
	acked := last
	if ob := tx.Bucket(bucketOutboxOld); ob != nil {
		if k, _ := ob.Cursor().First(); k != nil {
			first, err := decodeSeq(k)
			if err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			acked = min(first-1, last)
		}
		if err := tx.DeleteBucket(bucketOutboxOld); err != nil {
			return fmt.Errorf("delete the outbox: %w", err)
		}
	}
	if err := putCounter(meta, keyAcked, acked); err != nil {
		return err
	}
	if err := putCounter(meta, keyPeople, uint64(tx.Bucket(bucketPeople).Stats().KeyN)); err != nil {
		return err
	}
	return putCounter(meta, keyM4Events, 1)
}

// m4Events re-encodes the next chunk of events and verifies them; it
// reports whether more remain.
func m4Events(tx *bolt.Tx) (bool, error) {
	meta, events := tx.Bucket(bucketMeta), tx.Bucket(bucketEvents)
	next := counter(meta, keyM4Events)
	if next == 0 {
		return false, nil // all done
	}
	in, err := integrityState(meta)
	if err != nil {
		return false, err
	}
	prev := ""
	if next > 1 {
		v := events.Get(seqKey(next - 1))
		if v != nil {
			if prev, err = eventHash(v); err != nil {
				return false, fmt.Errorf("event %d: %w", next-1, err)
			}
		}
	}
	// Collect the chunk first: the bucket is not changed under a cursor.
	type kv struct {
		seq uint64
		v   []byte
	}
	var chunk []kv
	c := events.Cursor()
	for k, v := c.Seek(seqKey(next)); k != nil && len(chunk) < m4Chunk; k, v = c.Next() {
		seq, err := decodeSeq(k)
		if err != nil {
			return false, err
		}
		chunk = append(chunk, kv{seq, bytes.Clone(v)})
	}
	verify := controller.VerifierAfter(in.Checkpoint.Seq, in.Checkpoint.Hash)
	events.FillPercent = 1
	for _, x := range chunk {
		e, err := decodeEvent(x.seq, x.v, prev)
		if err != nil {
			// A value that cannot be decoded stays as it is: the check at
			// start lists it, and a head decides.
			in.Breaks = addBreak(in.Breaks, controller.Break{From: x.seq, To: x.seq, Reason: "its stored value cannot be decoded: " + err.Error()})
			prev = ""
			verify = controller.VerifierAfter(x.seq, "")
			continue
		}
		if err := verify.Next(e); err != nil {
			in.Breaks = addBreak(in.Breaks, controller.Break{From: min(x.seq, verify.Count()+1), To: x.seq, Reason: err.Error()})
			verify = controller.VerifierAfter(x.seq, e.Hash)
		}
		if len(x.v) > 0 && x.v[0] == formatJS {
			if err := events.Put(seqKey(x.seq), encodeEvent(e, prev)); err != nil {
				return false, fmt.Errorf("event %d: %w", x.seq, err)
			}
		}
		prev = e.Hash
	}
	s, h := verify.Last()
	in.Checkpoint = controller.Checkpoint{Seq: s, Hash: h}
	if err := put(meta, keyIntegrity, in); err != nil {
		return false, err
	}
	if len(chunk) < m4Chunk {
		return false, meta.Put(keyM4Events, binary.BigEndian.AppendUint64(nil, 0))
	}
	return true, putCounter(meta, keyM4Events, chunk[len(chunk)-1].seq+1)
}

// addBreak lists b, merged into the last break when they touch.
func addBreak(bs []controller.Break, b controller.Break) []controller.Break {
	if n := len(bs); n > 0 && bs[n-1].Kind == "" && b.From <= bs[n-1].To+1 {
		bs[n-1].To = max(bs[n-1].To, b.To)
		return bs
	}
	if len(bs) >= 64 {
		return bs
	}
	return append(bs, b)
}

func integrityState(meta *bolt.Bucket) (controller.IntegrityState, error) {
	var in controller.IntegrityState
	if v := meta.Get(keyIntegrity); v != nil {
		if err := json.Unmarshal(v, &in); err != nil {
			return in, fmt.Errorf("integrity state: %w", err)
		}
	}
	return in, nil
}

// The kinds sealed, in order, as the first byte of keyM4Seal.
var m4Kinds = []controller.RecordKind{controller.RecordPerson, controller.RecordCard, controller.RecordKey, controller.RecordVisit}

// m4Seal seals the next chunk of records; it reports whether more remain.
func m4Seal(tx *bolt.Tx, now time.Time) (bool, error) {
	meta := tx.Bucket(bucketMeta)
	mark := meta.Get(keyM4Seal)
	kind, after := 0, []byte(nil)
	if len(mark) > 0 {
		kind, after = int(mark[0]), bytes.Clone(mark[1:])
	}
	if kind >= len(m4Kinds) {
		return false, nil
	}
	b := bucketsOf(tx)
	src := map[controller.RecordKind]*bolt.Bucket{controller.RecordPerson: b.people(), controller.RecordCard: b.cards(),
		controller.RecordKey: b.keys(), controller.RecordVisit: tx.Bucket(bucketVisitsOld)}[m4Kinds[kind]]
	type kv struct{ k, v []byte }
	var chunk []kv
	if src != nil {
		c := src.Cursor()
		k, v := c.First()
		if after != nil {
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(chunk) < m4Chunk; k, v = c.Next() {
			chunk = append(chunk, kv{bytes.Clone(k), bytes.Clone(v)})
		}
	}
	last, prev, err := lastEvent(b.events())
	if err != nil {
		return false, err
	}
	b.events().FillPercent = 1
	seal := func(ref controller.RecordRef) error {
		last++
		e := controller.Event{Seq: last, Time: now, Type: controller.EventRecordSealed, Prev: prev,
			Detail:  fmt.Sprintf("%s %s sealed as found by the schema 4 migration: it was written before records carried digests", ref.Kind, ref.ID),
			Records: []controller.RecordRef{ref}}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		return b.events().Put(seqKey(e.Seq), encodeEvent(e, e.Prev))
	}
	for _, x := range chunk {
		if len(x.v) == 0 || x.v[0] != formatJS {
			continue // sealed before the migration was cut short
		}
		var err error
		switch m4Kinds[kind] {
		case controller.RecordPerson:
			var p controller.Person
			if p, err = decodePerson(string(x.k), x.v); err == nil {
				p.ID, p.Seq = string(x.k), last+1
				if err = seal(p.Sealed().Ref()); err == nil {
					err = b.people().Put(x.k, encodePerson(p))
				}
			}
		case controller.RecordCard:
			var cd controller.Card
			if cd, err = decodeCard(string(x.k), x.v); err == nil {
				cd.ID, cd.Seq = string(x.k), last+1
				if err = seal(cd.Sealed().Ref()); err == nil {
					err = putCard(b, cd)
				}
			}
		case controller.RecordKey:
			var k controller.Key
			if k, err = decodeKey(string(x.k), x.v); err == nil {
				k.ID, k.Seq = string(x.k), last+1
				if err = seal(k.Sealed().Ref()); err == nil {
					err = b.keys().Put(x.k, encodeKey(k))
				}
			}
		case controller.RecordVisit:
			var v controller.Visit
			if v, err = decodeVisit(x.v); err == nil {
				v.Seq = last + 1
				if err = seal(v.Sealed().Ref()); err == nil {
					err = putVisit(b, v)
				}
			}
		}
		if err != nil {
			return false, fmt.Errorf("%s %q: %w", m4Kinds[kind], x.k, err)
		}
	}
	if len(chunk) < m4Chunk {
		kind, after = kind+1, nil
	} else {
		after = chunk[len(chunk)-1].k
	}
	return kind < len(m4Kinds), meta.Put(keyM4Seal, append([]byte{byte(kind)}, after...))
}

// m4Finish drops the old visits, closes the migration with a checkpoint
// event and clears the progress marks.
func m4Finish(tx *bolt.Tx, now time.Time) error {
	meta, events := tx.Bucket(bucketMeta), tx.Bucket(bucketEvents)
	if tx.Bucket(bucketVisitsOld) != nil {
		if err := tx.DeleteBucket(bucketVisitsOld); err != nil {
			return err
		}
	}
	in, err := integrityState(meta)
	if err != nil {
		return err
	}
	last, prev, err := lastEvent(events)
	if err != nil {
		return err
	}
	if last > 0 {
		// The events after the verified ones are the seals just written.
		in.Checkpoint = controller.Checkpoint{Seq: last, Hash: prev}
		e := controller.Event{Seq: last + 1, Time: now, Type: controller.EventCheckpoint, Prev: prev,
			Detail: fmt.Sprintf("log verified to seq %d (hash %s) by the schema 4 migration", last, prev)}
		if n := len(in.Breaks); n > 0 {
			e.Detail += fmt.Sprintf("; %d breaks found, the first: %s", n, in.Breaks[0])
		}
		e.Hash = e.ComputeHash()
		if err := events.Put(seqKey(e.Seq), encodeEvent(e, prev)); err != nil {
			return err
		}
	}
	if err := put(meta, keyIntegrity, in); err != nil {
		return err
	}
	for _, k := range [][]byte{keyM4Events, keyM4Seal} {
		if err := meta.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
