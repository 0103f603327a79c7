package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/pintu/pintu/controller"
)

// Errors returned by the Store. Callers test with errors.Is.
var (
	// ErrLocked is returned by Open when another process holds the file's
	// lock for longer than Options.Timeout.
	ErrLocked = errors.New("state file is locked: another pintud is probably running on this state directory")
	// ErrNewerSchema is returned by Open for a file written by a newer pintud,
	// which this one cannot read safely.
	ErrNewerSchema = errors.New("state file was written by a newer pintud")
	// ErrClosed is returned by a Store's methods after Close.
	ErrClosed = errors.New("store closed")
)

// DefaultTimeout is how long Open waits for the file lock by default.
const DefaultTimeout = time.Second

// Options tune Open. The zero value, like a nil *Options, is the default.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file's lock before failing with ErrLocked. Zero means DefaultTimeout.
	Timeout time.Duration
	// NoSync skips the fsync at the end of each commit. A crash can then lose
	// or corrupt committed events: only for benchmarks and test fixtures.
	NoSync bool
	// Outbox makes Commit also queue each event in the outbox, in the same
	// transaction, until Ack removes it: the MQTT link publishes from there
	// (see Pending). Leave it off when nothing drains the outbox.
	Outbox bool
}

// eventsPerRead is how many log entries Events reads per read transaction.
const eventsPerRead = 1024

// Store is a controller.Store in a bbolt file. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	closed atomic.Bool
	batch  int  // log entries read per read transaction by Events
	outbox bool // Commit queues events in the outbox
}

var _ controller.Store = (*Store)(nil)

// Open opens the state file at path, creating it if it does not exist, checks
// that it holds together, and migrates it to the current schema. It fails with
// an error wrapping ErrLocked when another process has the file open, and with
// one wrapping ErrCorrupt, never a panic, when the file is damaged (see
// open.go).
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	bo := *bolt.DefaultOptions
	bo.Timeout, bo.NoSync = o.Timeout, o.NoSync
	db, err := openChecked(path, &bo)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: open %s: %w (gave up after %v: %w)", path, ErrLocked, o.Timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if err := guard("migrate", func() error { return db.Update(migrate) }); err != nil {
		var pe *panicError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return nil, errors.Join(fmt.Errorf("boltstore: open %s: %w", path, err), db.Close())
	}
	return &Store{db: db, batch: eventsPerRead, outbox: o.Outbox}, nil
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.db.Path() }

// Close closes the file, waiting for transactions in progress. A second Close
// returns an error wrapping ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return fmt.Errorf("boltstore: close: %w", ErrClosed)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close %s: %w", s.db.Path(), err)
	}
	return nil
}

// Backup writes a consistent copy of the whole file to w while the store stays
// in use, and returns the number of bytes written. The copy is itself a state
// file that Open accepts.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("boltstore: backup: %w", err)
	}
	return n, nil
}

// Commit writes c in one fsynced transaction. It refuses, writing nothing, a
// change whose first event does not follow the last stored one, whose events
// are not consecutive, or with a record whose ID is empty. Within c, Enter is
// applied before Leave.
func (s *Store) Commit(c controller.Change) error {
	err := s.update(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		last, err := lastSeq(b.events)
		if err != nil {
			return err
		}
		// Events are only ever appended: full pages make the log smaller.
		b.events.FillPercent = 1
		for i, e := range c.Events {
			if want := last + 1 + uint64(i); e.Seq != want {
				return fmt.Errorf("event %d of %d has seq %d, want %d (last stored seq %d)", i+1, len(c.Events), e.Seq, want, last)
			}
			if err := put(b.events, seqKey(e.Seq), e); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			if s.outbox {
				if err := b.outbox.Put(seqKey(e.Seq), nil); err != nil {
					return fmt.Errorf("event %d: outbox: %w", e.Seq, err)
				}
			}
		}
		for _, p := range c.People {
			if err := putID(b.people, "person", p.ID, p); err != nil {
				return err
			}
		}
		for _, cd := range c.Cards {
			if err := putID(b.cards, "card", cd.ID, cd); err != nil {
				return err
			}
		}
		for _, v := range c.Visits {
			if err := putID(b.visits, "visit", v.ID, v); err != nil {
				return err
			}
		}
		for _, o := range c.Enter {
			if err := putID(b.inside, "occupant", o.Person, o); err != nil {
				return err
			}
		}
		for _, id := range c.Leave {
			if id == "" {
				return errors.New("leave without a person id")
			}
			if err := b.inside.Delete([]byte(id)); err != nil {
				return fmt.Errorf("leave %q: %w", id, err)
			}
		}
		if err := commitRemote(b, c); err != nil {
			return err
		}
		if err := commitConsole(tx, c); err != nil {
			return err
		}
		return commitAlarms(b, c)
	})
	if err != nil {
		return fmt.Errorf("boltstore: commit: %w", err)
	}
	return nil
}

// commitAlarms writes a change's alarms and door records.
func commitAlarms(b buckets, c controller.Change) error {
	for _, a := range c.Alarms {
		if err := putID(b.alarms, "alarm", a.ID, a); err != nil {
			return err
		}
	}
	for _, id := range c.AlarmsGone {
		if id == "" {
			return errors.New("alarm gone without an id")
		}
		if err := b.alarms.Delete([]byte(id)); err != nil {
			return fmt.Errorf("alarm %q gone: %w", id, err)
		}
	}
	for _, d := range c.Doors {
		if err := putID(b.doors, "door", d.Name, d); err != nil {
			return err
		}
	}
	return nil
}

// Load returns everything stored, records ordered by ID.
func (s *Store) Load() (controller.Snapshot, error) {
	var snap controller.Snapshot
	err := s.view(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		var err error
		if snap.People, err = loadAll[controller.Person](b.people, "person"); err != nil {
			return err
		}
		if snap.Cards, err = loadAll[controller.Card](b.cards, "card"); err != nil {
			return err
		}
		if snap.Visits, err = loadAll[controller.Visit](b.visits, "visit"); err != nil {
			return err
		}
		if snap.Inside, err = loadAll[controller.Occupant](b.inside, "occupant"); err != nil {
			return err
		}
		if snap.Keys, err = loadAll[controller.Key](b.keys, "key"); err != nil {
			return err
		}
		if snap.Commands, err = loadAll[controller.CommandRecord](b.commands, "command"); err != nil {
			return err
		}
		if snap.Alarms, err = loadAll[controller.Alarm](b.alarms, "alarm"); err != nil {
			return err
		}
		if snap.Doors, err = loadAll[controller.DoorRecord](b.doors, "door"); err != nil {
			return err
		}
		if snap.Accounts, err = loadAll[controller.Account](tx.Bucket(bucketAccounts), "account"); err != nil {
			return err
		}
		k, v := b.events.Cursor().Last()
		if k == nil {
			return nil
		}
		snap.Last, err = decodeEvent(k, v)
		return err
	})
	if err != nil {
		return controller.Snapshot{}, fmt.Errorf("boltstore: load: %w", err)
	}
	return snap, nil
}

// Events calls fn for the matching events stored when Events is called, in
// sequence order, and returns fn's first error. It reads the log in batches,
// each in a short read transaction, and calls fn outside them: a slow fn
// holds up no commit, may itself Commit, and a long log is never all in
// memory.
func (s *Store) Events(q controller.EventQuery, fn func(controller.Event) error) error {
	next := max(q.FromSeq, 1) // the next seq to read
	var end uint64            // the last seq to read, fixed by the first batch
	buf := make([]controller.Event, 0, s.batch)
	for first := true; ; first = false {
		buf = buf[:0]
		more := false
		err := s.view(func(tx *bolt.Tx) error {
			c := bucketsOf(tx).events.Cursor()
			if first {
				k, _ := c.Last()
				if k == nil {
					return nil
				}
				last, err := decodeSeq(k)
				if err != nil {
					return err
				}
				end = last
				if q.ToSeq != 0 {
					end = min(end, q.ToSeq)
				}
			}
			if next > end {
				return nil
			}
			k, v := c.Seek(seqKey(next))
			for n := 0; k != nil; n++ {
				if n == s.batch {
					more = true
					return nil
				}
				e, err := decodeEvent(k, v)
				if err != nil {
					return err
				}
				if e.Seq > end {
					return nil
				}
				next = e.Seq + 1
				if q.Match(e) {
					buf = append(buf, e)
				}
				k, v = c.Next()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("boltstore: events: %w", err)
		}
		for _, e := range buf {
			if err := fn(e); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// view and update run fn in a transaction, reporting ErrClosed after Close.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return closedErr(s.db.View(fn))
}

func (s *Store) update(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return closedErr(s.db.Update(fn))
}

// closedErr turns bbolt's error for a closed file, which a transaction racing
// Close can see, into ErrClosed.
func closedErr(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// seqKey is the events bucket's key for seq: big-endian, so that byte order is
// sequence order.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

func decodeSeq(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("event key %x is %d bytes, want 8", k, len(k))
	}
	return binary.BigEndian.Uint64(k), nil
}

// lastSeq is the seq of the newest event, 0 for an empty log.
func lastSeq(events *bolt.Bucket) (uint64, error) {
	k, _ := events.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	return decodeSeq(k)
}

// decodeEvent decodes a stored event into a new Event, which shares no memory
// with the transaction.
func decodeEvent(k, v []byte) (controller.Event, error) {
	seq, err := decodeSeq(k)
	if err != nil {
		return controller.Event{}, err
	}
	var e controller.Event
	if err := json.Unmarshal(v, &e); err != nil {
		return controller.Event{}, fmt.Errorf("event %d: decode: %w", seq, err)
	}
	if e.Seq != seq {
		return controller.Event{}, fmt.Errorf("event %d: stored value has seq %d", seq, e.Seq)
	}
	return e, nil
}

func put(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return b.Put(key, data)
}

// putID stores record v of the named kind under id, refusing an empty id.
func putID(b *bolt.Bucket, kind, id string, v any) error {
	if id == "" {
		return fmt.Errorf("%s without an id", kind)
	}
	if err := put(b, []byte(id), v); err != nil {
		return fmt.Errorf("%s %q: %w", kind, id, err)
	}
	return nil
}

// loadAll decodes every record of a bucket, in key order.
func loadAll[T any](b *bolt.Bucket, kind string) ([]T, error) {
	var out []T
	err := b.ForEach(func(k, v []byte) error {
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("%s %q: decode: %w", kind, k, err)
		}
		out = append(out, rec)
		return nil
	})
	return out, err
}
