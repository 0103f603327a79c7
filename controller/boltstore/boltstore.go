package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	// Outbox keeps the events after the MQTT broker's acknowledged-up-to
	// watermark pending for the MQTT link (see Pending). With it off, the
	// watermark follows the log: nothing waits.
	Outbox bool
	// Now is the clock the schema migration stamps the events it writes
	// with; default time.Now.
	Now func() time.Time
	// Logger hears how a long schema migration goes; default: nothing.
	Logger *slog.Logger
}

// eventsPerRead is how many log entries Events reads per read transaction.
const eventsPerRead = 1024

// Store is a controller.Store in a bbolt file. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	closed atomic.Bool
	batch  int  // log entries read per read transaction by Events
	outbox bool // the MQTT link drains the outbox (see outbox.go)
	// acked is the outbox's watermark as Ack last moved it; stored, as the
	// file holds it. Commit writes acked when it is ahead.
	acked, stored atomic.Uint64
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
	if o.Now == nil {
		o.Now = time.Now
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
	if err := guard("migrate", func() error { return migrate(db, migrateEnv{now: o.Now, log: o.Logger}) }); err != nil {
		var pe *panicError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return nil, errors.Join(fmt.Errorf("boltstore: open %s: %w", path, err), db.Close())
	}
	s := &Store{db: db, batch: eventsPerRead, outbox: o.Outbox}
	err = s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyAcked); len(v) == 8 {
			s.acked.Store(binary.BigEndian.Uint64(v))
			s.stored.Store(binary.BigEndian.Uint64(v))
		}
		if !s.outbox {
			// A log whose newest key cannot be read keeps its watermark:
			// the check at start reports the damage.
			if last, _, err := lastEventSeq(tx.Bucket(bucketEvents)); err == nil {
				s.acked.Store(last)
			}
		}
		return nil
	})
	if err == nil && s.acked.Load() != s.stored.Load() {
		err = s.writeAcked()
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("boltstore: open %s: %w", path, err), db.Close())
	}
	return s, nil
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.db.Path() }

// Close closes the file, waiting for transactions in progress, after
// writing the outbox's watermark. A second Close returns an error wrapping
// ErrClosed.
func (s *Store) Close() error {
	if s.acked.Load() > s.stored.Load() && !s.closed.Load() {
		_ = s.writeAcked()
	}
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
		last, prev, err := lastEvent(b.events())
		if err != nil {
			return err
		}
		// Events are only ever appended: full pages make the log smaller.
		b.events().FillPercent = 1
		for i, e := range c.Events {
			if want := last + 1 + uint64(i); e.Seq != want {
				return fmt.Errorf("event %d of %d has seq %d, want %d (last stored seq %d)", i+1, len(c.Events), e.Seq, want, last)
			}
			if err := b.events().Put(seqKey(e.Seq), encodeEvent(e, prev)); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			prev = e.Hash
		}
		if err := commitRecords(b, c); err != nil {
			return err
		}
		for _, o := range c.Enter {
			if err := putID(b.inside(), "occupant", o.Person, o); err != nil {
				return err
			}
		}
		for _, id := range c.Leave {
			if id == "" {
				return errors.New("leave without a person id")
			}
			if err := b.inside().Delete([]byte(id)); err != nil {
				return fmt.Errorf("leave %q: %w", id, err)
			}
		}
		if err := commitRemote(b, c); err != nil {
			return err
		}
		if err := commitConsole(tx, c); err != nil {
			return err
		}
		if err := commitAlarms(b, c); err != nil {
			return err
		}
		if c.Integrity != nil {
			if err := put(b.meta(), keyIntegrity, c.Integrity); err != nil {
				return fmt.Errorf("integrity state: %w", err)
			}
		}
		return s.commitAcked(b, last+uint64(len(c.Events)))
	})
	if err != nil {
		return fmt.Errorf("boltstore: commit: %w", err)
	}
	return nil
}

// commitAlarms writes a change's alarms and door records.
func commitAlarms(b *buckets, c controller.Change) error {
	for _, a := range c.Alarms {
		if err := putID(b.alarms(), "alarm", a.ID, a); err != nil {
			return err
		}
	}
	for _, id := range c.AlarmsGone {
		if id == "" {
			return errors.New("alarm gone without an id")
		}
		if err := b.alarms().Delete([]byte(id)); err != nil {
			return fmt.Errorf("alarm %q gone: %w", id, err)
		}
	}
	for _, d := range c.Doors {
		if err := putID(b.doors(), "door", d.Name, d); err != nil {
			return err
		}
	}
	return nil
}

// Load returns the state the controller keeps in memory.
func (s *Store) Load() (controller.Snapshot, error) {
	var snap controller.Snapshot
	err := s.view(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		var err error
		if snap.Inside, err = loadAll[controller.Occupant](b.inside(), "occupant"); err != nil {
			return err
		}
		if err := b.keys().ForEach(func(k, v []byte) error {
			key, err := decodeKey(string(k), v)
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			snap.Keys = append(snap.Keys, key)
			return nil
		}); err != nil {
			return err
		}
		if snap.Commands, err = loadAll[controller.CommandRecord](b.commands(), "command"); err != nil {
			return err
		}
		if snap.Alarms, err = loadAll[controller.Alarm](b.alarms(), "alarm"); err != nil {
			return err
		}
		if snap.Doors, err = loadAll[controller.DoorRecord](b.doors(), "door"); err != nil {
			return err
		}
		if v := b.meta().Get(keyIntegrity); v != nil {
			if err := json.Unmarshal(v, &snap.Integrity); err != nil {
				return fmt.Errorf("integrity state: %w", err)
			}
		}
		snap.NumPeople = int(counter(b.meta(), keyPeople))
		if k, _ := b.visits().Cursor().Last(); k != nil {
			snap.LastVisit = int(visitKeyNumber(k))
		}
		if snap.Accounts, err = loadAll[controller.Account](tx.Bucket(bucketAccounts), "account"); err != nil {
			return err
		}
		if snap.Links, err = loadLinks(tx.Bucket(bucketLinks)); err != nil {
			return err
		}
		k, v := b.events().Cursor().Last()
		if k == nil {
			return nil
		}
		seq, err := decodeSeq(k)
		if err != nil {
			return err
		}
		// A newest event that cannot be read must not keep pintud from
		// starting: the check at start finds it and raises the alarm. The
		// chain goes on from its stored hash, if that can be read.
		prev, _ := s.hashAt(b.events(), seq-1)
		if snap.Last, err = decodeEvent(seq, v, prev); err != nil {
			snap.Last = controller.Event{Seq: seq}
			snap.Last.Hash, _ = eventHash(v)
		}
		return nil
	})
	if err != nil {
		return controller.Snapshot{}, fmt.Errorf("boltstore: load: %w", err)
	}
	return snap, nil
}

// hashAt is the hash of the event stored at seq, "" for none (seq 0, or a
// gap in the log).
func (s *Store) hashAt(events *bolt.Bucket, seq uint64) (string, error) {
	if seq == 0 {
		return "", nil
	}
	v := events.Get(seqKey(seq))
	if v == nil {
		return "", nil
	}
	h, err := eventHash(v)
	if err != nil {
		return "", &controller.IntegrityError{Seq: seq, Reason: "its stored value cannot be decoded", Err: err}
	}
	return h, nil
}

// Events calls fn for the matching events stored when Events is called, in
// sequence order, and returns fn's first error. It reads the log in batches,
// each in a short read transaction, decodes each event once, and calls fn
// outside the transactions: a slow fn holds up no commit, may itself
// Commit, and a long log is never all in memory. A part of the log that
// cannot be read ends it with an *controller.IntegrityError naming the
// seq, after fn saw every event before it.
func (s *Store) Events(q controller.EventQuery, fn func(controller.Event) error) error {
	next := max(q.FromSeq, 1) // the next seq to read
	var end uint64            // the last seq to read, fixed by the first batch
	var prev string           // the hash of the event before next
	buf := make([]controller.Event, 0, s.batch)
	for first := true; ; first = false {
		buf = buf[:0]
		more := false
		err := s.view(func(tx *bolt.Tx) error {
			events := bucketsOf(tx).events()
			c := events.Cursor()
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
				if next > end {
					return nil
				}
				if prev, err = s.hashAt(events, next-1); err != nil {
					return err
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
				seq, err := decodeSeq(k)
				if err != nil {
					return err
				}
				if seq > end {
					return nil
				}
				if seq != next {
					prev = "" // a gap: the event before is not there
				}
				e, err := decodeEvent(seq, v, prev)
				if err != nil {
					return &controller.IntegrityError{Seq: seq, Reason: "its stored value cannot be decoded", Err: err}
				}
				next, prev = seq+1, e.Hash
				if q.Match(e) {
					buf = append(buf, e)
				}
				k, v = c.Next()
			}
			return nil
		})
		for _, e := range buf {
			if err := fn(e); err != nil {
				return err
			}
		}
		if err != nil {
			return fmt.Errorf("boltstore: events: %w", s.integrity(err, next))
		}
		if !more {
			return nil
		}
	}
}

// Event returns event seq with its Prev.
func (s *Store) Event(seq uint64) (controller.Event, bool, error) {
	var e controller.Event
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		events := bucketsOf(tx).events()
		v := events.Get(seqKey(seq))
		if v == nil {
			return nil
		}
		prev, err := s.hashAt(events, seq-1)
		if err != nil {
			return err
		}
		if e, err = decodeEvent(seq, v, prev); err != nil {
			return &controller.IntegrityError{Seq: seq, Reason: "its stored value cannot be decoded", Err: err}
		}
		ok = true
		return nil
	})
	if err != nil {
		return controller.Event{}, false, fmt.Errorf("boltstore: event %d: %w", seq, s.integrity(err, seq))
	}
	return e, ok, nil
}

// view and update run fn in a transaction, reporting ErrClosed after Close.
// A panic or a memory fault inside bbolt (a damaged page) is an error, not
// a crash: see guard.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return closedErr(guard("read", func() error { return s.db.View(fn) }))
}

func (s *Store) update(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return closedErr(guard("write", func() error { return s.db.Update(fn) }))
}

// integrity makes a panic inside bbolt an *controller.IntegrityError about
// seq (the log's, for a read of it) and passes other errors through.
func (s *Store) integrity(err error, seq uint64) error {
	var pe *panicError
	if errors.As(err, &pe) {
		return &controller.IntegrityError{Seq: seq, Reason: "the database file cannot be read there", Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	return err
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

// lastEvent is the seq and hash of the newest event, 0 and "" for an empty
// log.
func lastEvent(events *bolt.Bucket) (uint64, string, error) {
	k, v := events.Cursor().Last()
	if k == nil {
		return 0, "", nil
	}
	seq, err := decodeSeq(k)
	if err != nil {
		return 0, "", err
	}
	h, err := eventHash(v)
	if err != nil {
		return 0, "", fmt.Errorf("event %d: %w", seq, err)
	}
	return seq, h, nil
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

// counter reads an 8-byte big-endian counter from meta.
func counter(meta *bolt.Bucket, key []byte) uint64 {
	if v := meta.Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putCounter(meta *bolt.Bucket, key []byte, n uint64) error {
	return meta.Put(key, binary.BigEndian.AppendUint64(nil, n))
}

// Last returns the seq and hash of the newest event, 0 and "" for an empty
// log.
func (s *Store) Last() (uint64, string, error) {
	var seq uint64
	var hash string
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		seq, hash, err = lastEvent(bucketsOf(tx).events())
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("boltstore: last event: %w", s.integrity(err, 0))
	}
	return seq, hash, nil
}
