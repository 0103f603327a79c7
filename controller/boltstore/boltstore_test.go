package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/storetest"
)

// openTest opens the store at path and, when the test ends, closes it (unless
// the test did) and runs bbolt's consistency check on the file.
func openTest(t *testing.T, path string, opts *Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%q) = %v, want nil", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close() = %v, want nil", err)
		}
		checkFile(t, path)
	})
	return s
}

// checkFile runs bbolt's consistency check on the closed file at path.
func checkFile(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Errorf("check %s: open: %v", path, err)
		return
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("check %s: %v", path, err)
		}
		return nil
	}); err != nil {
		t.Errorf("check %s: %v", path, err)
	}
}

// rawUpdate runs fn on the closed file at path through bbolt directly, as a
// damaged disk or a tamperer would.
func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bolt.Open(%q) = %v, want nil", path, err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatalf("raw update of %s: %v", path, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("raw close of %s: %v", path, err)
	}
}

func tempPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "pintu.db")
}

func mustCommit(t *testing.T, s *Store, c controller.Change) {
	t.Helper()
	if err := s.Commit(c); err != nil {
		t.Fatalf("Commit() = %v, want nil", err)
	}
}

func readAll(t *testing.T, s *Store) []controller.Event {
	t.Helper()
	var evs []controller.Event
	if err := s.Events(controller.EventQuery{}, func(e controller.Event) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		t.Fatalf("Events() = %v, want nil", err)
	}
	return evs
}

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleStore { return openTest(t, tempPath(t), nil) })
}

// TestMigrateToConsole: a file of the release before the web console
// (schema 3) opens with its records and gains the console's buckets.
func TestMigrateToConsole(t *testing.T) {
	path := tempPath(t)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		// The buckets of schema 3, spelled out as that release had them.
		for _, name := range []string{"people", "cards", "visits", "inside", "events", "keys", "commands", "outbox", "alarms", "doors"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketPeople).Put([]byte("p-budi"), []byte(`{"id":"p-budi","name":"Budi","roles":["head"]}`)); err != nil {
			return err
		}
		return meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, 3))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path, nil)
	snap := mustLoadBolt(t, s)
	if snap.NumPeople != 1 || len(snap.Accounts) != 0 || len(snap.Links) != 0 {
		t.Fatalf("Load() after migration = %+v; want one person, no accounts and no links", snap)
	}
	if p, ok, err := s.Person("p-budi"); !ok || err != nil || p.Name != "Budi" {
		t.Fatalf("Person(p-budi) after migration = %+v, %v, %v", p, ok, err)
	}
	if err := s.PutSession(controller.Session{Key: "k", Person: "p-budi"}); err != nil {
		t.Errorf("PutSession after migration = %v", err)
	}
	mustCommit(t, s, controller.Change{Events: storetest.Chain(snap.Last, 1),
		Credentials: []controller.Credential{{Person: "p-budi", Hash: "$argon2id$x"}}, Accounts: []controller.Account{{Person: "p-budi"}},
		Links: []controller.Link{{User: "budi", Person: "p-budi"}}})
	if snap := mustLoadBolt(t, s); snap.Links["budi"] != "p-budi" {
		t.Errorf("Links after a commit = %v, want budi -> p-budi", snap.Links)
	}
	if _, ok, err := s.Credential("p-budi"); !ok || err != nil {
		t.Errorf("Credential after migration = %v, %v", ok, err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) controller.Store { return openTest(t, tempPath(t), nil) })
}

// TestConformanceSmallBatches makes every query cross Events' batch
// boundaries.
func TestConformanceSmallBatches(t *testing.T) {
	storetest.Run(t, func(t *testing.T) controller.Store {
		s := openTest(t, tempPath(t), nil)
		s.batch = 2
		return s
	})
}

func TestReopen(t *testing.T) {
	path := tempPath(t)
	s := openTest(t, path, nil)
	evs := storetest.Chain(controller.Event{}, 5)
	change := controller.Change{
		Events: evs,
		People: []controller.Person{{ID: "p-budi", Name: "Budi", Roles: []controller.Role{controller.RoleOfficer}}},
		Cards:  []controller.Card{{ID: "c-1", PersonID: "p-budi", AssignedAt: storetest.EventTime(1)}},
		Visits: []controller.Visit{{ID: "V0001", State: controller.StateSubmitted, SubmittedBy: "p-sari"}},
		Enter:  []controller.Occupant{{Person: "p-budi", Door: "server-room", Since: storetest.EventTime(2)}},
	}
	mustCommit(t, s, change)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}

	s = openTest(t, path, nil)
	want := controller.Snapshot{NumPeople: 1, LastVisit: 1, Inside: change.Enter, Last: evs[4]}
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load() after reopen = %v, want nil", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Load() after reopen mismatch (-want +got):\n%s", diff)
	}
	if p, ok, err := s.Person("p-budi"); err != nil || !ok || !cmp.Equal(p, change.People[0]) {
		t.Errorf("Person(p-budi) after reopen = %+v, %v, %v; want %+v", p, ok, err, change.People[0])
	}
	if v, ok, err := s.Visit("V0001"); err != nil || !ok || !cmp.Equal(v, change.Visits[0]) {
		t.Errorf("Visit(V0001) after reopen = %+v, %v, %v; want %+v", v, ok, err, change.Visits[0])
	}
	if diff := cmp.Diff(evs, readAll(t, s)); diff != "" {
		t.Errorf("Events() after reopen mismatch (-want +got):\n%s", diff)
	}
	more := storetest.Chain(evs[4], 1)
	mustCommit(t, s, controller.Change{Events: more})
	var v controller.Verifier
	if err := s.Events(controller.EventQuery{}, v.Next); err != nil || v.Count() != 6 {
		t.Errorf("Events() after reopen and commit verified %d events, err %v; want 6, nil", v.Count(), err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := tempPath(t)
	first := openTest(t, path, nil)

	second, err := Open(path, &Options{Timeout: 10 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatalf("second Open(%q) = nil error, want ErrLocked", path)
	}
	if !errors.Is(err, ErrLocked) || !errors.Is(err, bolterrors.ErrTimeout) {
		t.Errorf("second Open(%q) = %v, want an error wrapping ErrLocked and bbolt's ErrTimeout", path, err)
	}
	for _, want := range []string{path, "another pintud is probably running"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Open(%q) = %q, want it to mention %q", path, err, want)
		}
	}

	if err := first.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	openTest(t, path, &Options{Timeout: 10 * time.Millisecond})
}

func TestClosed(t *testing.T) {
	s := openTest(t, tempPath(t), nil)
	if err := s.Close(); err != nil {
		t.Fatalf("first Close() = %v, want nil", err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"Close", s.Close},
		{"Load", func() error { _, err := s.Load(); return err }},
		{"Commit", func() error { return s.Commit(controller.Change{Events: storetest.Chain(controller.Event{}, 1)}) }},
		{"Events", func() error {
			return s.Events(controller.EventQuery{}, func(controller.Event) error { return nil })
		}},
		{"Backup", func() error { _, err := s.Backup(new(strings.Builder)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrClosed) {
				t.Errorf("%s() after Close = %v, want an error wrapping ErrClosed", tt.name, err)
			}
		})
	}
}

// TestCorruptEvent damages stored events behind the store's back. Events and
// Load report garbage with the seq it was found at; a well-formed but altered
// event passes the store and is caught by the Verifier.
func TestCorruptEvent(t *testing.T) {
	evs := storetest.Chain(controller.Event{}, 5)
	encode := func(e controller.Event) []byte {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("json.Marshal(event %d) = %v", e.Seq, err)
		}
		return b
	}
	altered := evs[2]
	altered.Person = "p-someone-else"

	tests := []struct {
		name       string
		key, value []byte
		eventsErr  string // in Events' error; empty for none
		loadErr    string // in Load's error; empty for none
		chainErr   uint64 // the seq Verifier rejects; 0 for none
	}{
		{name: "garbage", key: seqKey(3), value: []byte("\x00\xffnot json"), eventsErr: "seq 3: its stored value cannot be decoded"},
		{name: "truncated JSON", key: seqKey(3), value: encode(evs[2])[:40], eventsErr: "seq 3: its stored value cannot be decoded"},
		{name: "truncated", key: seqKey(3), value: encodeEvent(evs[2], evs[1].Hash)[:40], eventsErr: "seq 3: its stored value cannot be decoded"},
		{name: "moved", key: seqKey(3), value: encode(evs[3]), eventsErr: "seq 3: its stored value cannot be decoded: decode event: stored value has seq 4"},
		// Load does not fail on it: pintud starts, and its check at start
		// raises the integrity alarm.
		{name: "newest garbage", key: seqKey(5), value: []byte("{"), eventsErr: "seq 5: its stored value cannot be decoded"},
		// Sorts after every 8-byte key, so it is also the newest.
		{name: "short key", key: []byte{0, 3}, value: encode(evs[2]),
			eventsErr: "event key 0003 is 2 bytes", loadErr: "event key 0003 is 2 bytes"},
		{name: "altered JSON", key: seqKey(3), value: encode(altered), chainErr: 3},
		{name: "altered", key: seqKey(3), value: encodeEvent(altered, evs[1].Hash), chainErr: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempPath(t)
			s := openTest(t, path, nil)
			mustCommit(t, s, controller.Change{Events: evs})
			if err := s.Close(); err != nil {
				t.Fatalf("Close() = %v, want nil", err)
			}
			rawUpdate(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketEvents).Put(tt.key, tt.value) })
			s = openTest(t, path, nil)

			var v controller.Verifier
			err := s.Events(controller.EventQuery{}, v.Next)
			var chainErr *controller.ChainError
			switch {
			case tt.eventsErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.eventsErr) {
					t.Errorf("Events() = %v, want an error containing %q", err, tt.eventsErr)
				}
			case tt.chainErr != 0:
				if !errors.As(err, &chainErr) || chainErr.Seq != tt.chainErr {
					t.Errorf("Events() with Verifier = %v, want a ChainError at seq %d", err, tt.chainErr)
				}
			default:
				if err != nil {
					t.Errorf("Events() = %v, want nil", err)
				}
			}

			_, err = s.Load()
			if tt.loadErr == "" && err != nil {
				t.Errorf("Load() = %v, want nil", err)
			}
			if tt.loadErr != "" && (err == nil || !strings.Contains(err.Error(), tt.loadErr)) {
				t.Errorf("Load() = %v, want an error containing %q", err, tt.loadErr)
			}
		})
	}
}

func TestBackup(t *testing.T) {
	s := openTest(t, tempPath(t), nil)
	evs := storetest.Chain(controller.Event{}, 50)
	mustCommit(t, s, controller.Change{
		Events: evs,
		People: []controller.Person{{ID: "p-budi", Name: "Budi"}},
	})

	backup := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Backup(f)
	if err != nil {
		t.Fatalf("Backup() = %d, %v; want nil error", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Size() != n {
		t.Errorf("Backup() = %d bytes, file holds %v (stat error %v)", n, fi.Size(), err)
	}

	// The store goes on; the copy holds what was there when it was taken.
	mustCommit(t, s, controller.Change{Events: storetest.Chain(evs[49], 1)})
	b := openTest(t, backup, nil)
	got := readAll(t, b)
	if diff := cmp.Diff(evs, got); diff != "" {
		t.Errorf("Events() of the backup mismatch (-want +got):\n%s", diff)
	}
	snap, err := b.Load()
	if err != nil || snap.NumPeople != 1 {
		t.Errorf("Load() of the backup = %d people, %v; want 1, nil", snap.NumPeople, err)
	}
}

func TestOpenDamaged(t *testing.T) {
	version := func(v uint64) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint64(nil, v))
		}
	}
	tests := []struct {
		name   string
		damage func(tx *bolt.Tx) error
		is     error  // the error Open wraps, if any
		want   string // in Open's error
	}{
		{name: "newer schema", damage: version(schemaVersion() + 1), is: ErrNewerSchema, want: fmt.Sprintf("schema version %d", schemaVersion()+1)},
		{name: "short version", damage: func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchema, []byte{1})
		}, want: "schema_version is 1 bytes"},
		{name: "missing bucket", damage: func(tx *bolt.Tx) error {
			return tx.DeleteBucket(bucketEvents)
		}, want: "bucket events is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempPath(t)
			if err := openTest(t, path, nil).Close(); err != nil {
				t.Fatalf("Close() = %v, want nil", err)
			}
			rawUpdate(t, path, tt.damage)
			s, err := Open(path, nil)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error, want one containing %q", path, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("Open(%q) = %v, want an error containing %q wrapping %v", path, err, tt.want, tt.is)
			}
		})
	}
}

func TestOpenNotBolt(t *testing.T) {
	path := tempPath(t)
	if err := os.WriteFile(path, []byte(strings.Repeat("not a bolt file\n", 1024)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, nil); err == nil {
		s.Close()
		t.Errorf("Open(%q) of a text file = nil error, want one", path)
	}
}

func TestMigrations(t *testing.T) {
	for i, m := range migrations {
		if m.version != uint64(i+1) {
			t.Errorf("migrations[%d].version = %d, want %d", i, m.version, i+1)
		}
	}
	// A new file is at the current schema.
	path := tempPath(t)
	if err := openTest(t, path, nil).Close(); err != nil {
		t.Fatal(err)
	}
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		if got := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema)); got != schemaVersion() {
			t.Errorf("schema version of a new file = %d, want %d", got, schemaVersion())
		}
		return nil
	})
}

// TestMigrateFromSchema2: a file written by the release before durable
// alarms and lockdown (schema 2) opens, keeps its records, and gains the
// alarm and door buckets.
func TestMigrateFromSchema2(t *testing.T) {
	path := tempPath(t)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bucketPeople, bucketCards, bucketVisitsOld, bucketInside, bucketEvents, bucketKeys, bucketCommands, bucketOutboxOld} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketPeople).Put([]byte("p-budi"), []byte(`{"id":"p-budi","name":"Budi","roles":["officer"]}`)); err != nil {
			return err
		}
		return meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, 2))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path, nil)
	snap, err := s.Load()
	if err != nil || snap.NumPeople != 1 || len(snap.Alarms) != 0 || len(snap.Doors) != 0 {
		t.Fatalf("Load() after migration = %+v, %v; want budi and no alarms or doors", snap, err)
	}
	// Budi is sealed by the migration's first event.
	p, ok, err := s.Person("p-budi")
	if err != nil || !ok || p.Seq != 1 || p.Name != "Budi" {
		t.Fatalf("Person(p-budi) after migration = %+v, %v, %v; want Budi sealed by event 1", p, ok, err)
	}
	a := controller.Alarm{ID: "A0001", Kind: controller.AlarmTamper, Door: "d", Active: true, NeedsAck: true}
	mustCommit(t, s, controller.Change{Events: storetest.Chain(snap.Last, 1), Alarms: []controller.Alarm{a},
		Doors: []controller.DoorRecord{{Name: "d", Lockdown: true}}})
	if snap := mustLoadBolt(t, s); len(snap.Alarms) != 1 || len(snap.Doors) != 1 {
		t.Errorf("Load() after committing an alarm and a door = %+v, want one of each", snap)
	}
}

func mustLoadBolt(t *testing.T, s *Store) controller.Snapshot {
	t.Helper()
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	return snap
}
